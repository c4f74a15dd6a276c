"""Encoding throughput of the transformer engines on CPU, with full-size randomly initialised models.

    .venv/bin/python bench/encoding.py [--engines resnet,clip,blip,minilm,dinov2,xlmr] [--repeats 3] [--quick]
                                       [--threads N] [--texts 512] [--no-int8]

No weights can be downloaded here, so ResNet-50, CLIP and BLIP are built from their default
``transformers`` configs (``ResNetConfig()`` = ResNet-50, ``CLIPConfig()`` = ViT-B/32 with a 77
token text tower, ``BlipConfig()`` = BLIP base ITM at 384 px) with random weights, saved to a
temporary directory and loaded by the engines through ``from_pretrained(<dir>)`` as production
does. Random weights cost exactly the same arithmetic as trained ones. CLIP and BLIP get the
bert-base-uncased WordPiece tokenizer shipped with MiniLM (BLIP's own tokenizer; for CLIP its token
counts approximate CLIP's BPE, which is not available offline). MiniLM uses its real packaged
weights. DINOv2 is dinov2-small's shape (ViT-S/14, 224 px crop); the multilingual engine (xlmr)
paraphrase-multilingual-MiniLM-L12-v2's (a 12-layer 384-d BERT body, 250k vocabulary) with the
WordPiece tokenizer standing in for XLM-R's SentencePiece (similar token counts on English).

Inputs are real: ``--sample`` paintings (default 32) spread evenly over the bundled AIC set
(``shared/data/aic``: JPEGs of at most 300 px, text composed as the catalogue does, about a
third with a curatorial description), so image decoding and long-text chunking are included.
For each engine and batch size (1, 8, 32) the script times one ``engine.encode`` call over the
whole sample with the engine's ``batch_size`` set to that size (median of ``--repeats`` runs,
after a warm-up call) and reports paintings/s; every batch size sees the same paintings.

The precompute estimate for 2,368 paintings is an extrapolation, not a full run: 2,368 divided
by the best measured throughput. For BLIP it adds the ITM re-scoring of ``postprocess`` from
measured unit costs: one ViT pass per image, one image-grounded text pass per (image, text)
pair (at most 2·m·K pairs, fewer when candidate lists are mutual) and one ITC text pass per
text. Prints a table and writes JSON to bench/results/ (gitignored).

Text engine against a raw forward (``--texts``, default 512; 0 skips it): the same real
catalogue texts (the database's paintings when a catalogue is imported, else the AIC set),
encoded in one process by (1) a raw ``transformers`` forward of MiniLM in catalogue order,
batches of 64, texts cut at 256 tokens, mean-pooled, (2) the same raw forward with the texts
sorted by length, (3) the engine's ``encode`` as a worker runs it (sorted token windows, long
texts windowed instead of cut), and (4) unless ``--no-int8``, the raw sorted forward of the
int8 dynamically quantised model (``torch.ao.quantization.quantize_dynamic`` on the Linear
layers) with its agreement with float32: mean cosine of the two embeddings of each text and the
overlap of each text's 10 nearest neighbours among the sample. Paintings/s and the ratios to
(1) are printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ.setdefault("RECSYS_HF_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import django  # noqa: E402

django.setup()

import torch  # noqa: E402
import transformers  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from catalog.text import compose_text  # noqa: E402
from recsys.engines.base import PaintingInput  # noqa: E402
from recsys.engines.hf import ModalInput, TransformerEngine  # noqa: E402
from recsys.engines.images import open_rgb  # noqa: E402

ENGINES = ("resnet", "clip", "blip", "minilm", "dinov2", "xlmr")
CATALOGUE = 2368
AIC = Path(settings.CATALOG_SAMPLE_DIR) / "aic"


# -- inputs -----------------------------------------------------------------------------------
def sample_paintings() -> list[PaintingInput]:
    """The AIC sample as the pipeline would hand it to the engines (real images and text)."""
    items = []
    with (AIC / "paintings.csv").open(newline="") as handle:
        for pk, row in enumerate(csv.DictReader(handle), start=1):
            text = compose_text(
                title=row["title"],
                artist=row["artist"],
                medium=row["medium"],
                description=row["description"] or row["short_description"],
            )
            items.append(
                PaintingInput(
                    pk=pk, external_id=f"aic-{row['aic_id']}", text=text, image_path=str(AIC / row["image"])
                )
            )
    return items


# -- full-size random checkpoints -------------------------------------------------------------
def build_checkpoint(name: str, root: Path) -> tuple[str, str]:
    """Save a full-size random checkpoint for ``name``; returns (directory, description)."""
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertModel,
        BitImageProcessorPil,
        BlipConfig,
        BlipForImageTextRetrieval,
        BlipImageProcessorPil,
        CLIPConfig,
        CLIPImageProcessorPil,
        CLIPModel,
        ConvNextImageProcessorPil,
        Dinov2Config,
        Dinov2Model,
        ResNetConfig,
        ResNetModel,
    )

    minilm_dir = settings.RECSYS_ENGINES["minilm"]["MODEL"]
    if name == "minilm":
        return minilm_dir, "all-MiniLM-L6-v2 (real packaged weights)"
    torch.manual_seed(0)
    wordpiece = AutoTokenizer.from_pretrained(minilm_dir)
    if name == "resnet":
        model, tokenizer, what = ResNetModel(ResNetConfig()), None, "ResNetConfig() = ResNet-50, 224 px"
        processor = ConvNextImageProcessorPil(size={"shortest_edge": 224}, crop_pct=224 / 256)
    elif name == "clip":
        ids = {
            "bos_token_id": wordpiece.cls_token_id,
            "eos_token_id": wordpiece.sep_token_id,
            "pad_token_id": 0,
        }
        model = CLIPModel(CLIPConfig(text_config=ids))
        tokenizer, processor = wordpiece, CLIPImageProcessorPil()
        what = "CLIPConfig() = ViT-B/32 224 px, 12-layer text tower, 77 tokens"
    elif name == "blip":
        model, tokenizer, processor = (
            BlipForImageTextRetrieval(BlipConfig()),
            wordpiece,
            BlipImageProcessorPil(),
        )
        what = "BlipConfig() = BLIP base ITM, ViT-B/16 384 px, BERT-base text encoder"
    elif name == "dinov2":  # facebook/dinov2-small: ViT-S/14, its processor crops 224 px
        config = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, patch_size=14)
        model, tokenizer, what = Dinov2Model(config), None, "dinov2-small: ViT-S/14, 224 px, CLS + mean"
        processor = BitImageProcessorPil(
            size={"shortest_edge": 256},
            crop_size={"height": 224, "width": 224},
            image_mean=[0.485, 0.456, 0.406],
            image_std=[0.229, 0.224, 0.225],
        )
    elif name == "xlmr":  # paraphrase-multilingual-MiniLM-L12-v2: a 12-layer 384-d BERT body
        config = BertConfig(
            vocab_size=250037, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
            intermediate_size=1536,
        )  # fmt: skip
        model, tokenizer, processor = BertModel(config), wordpiece, None
        what = "multilingual MiniLM-L12 (384-d, 12 layers, 128 tokens; WordPiece token counts)"
    else:
        raise ValueError(name)
    target = root / name
    model.save_pretrained(target)
    if processor is not None:
        processor.save_pretrained(target)
    if tokenizer is not None:
        tokenizer.save_pretrained(target)
    return str(target), what


def make_engine(name: str, model_dir: str) -> TransformerEngine:
    config = settings.RECSYS_ENGINES[name]
    cls = import_string(config["BACKEND"])
    return cls(name=name, model=model_dir, options=dict(config.get("OPTIONS") or {}))


# -- timing -----------------------------------------------------------------------------------
def median_seconds(call: Callable[[int], Any], repeats: int) -> tuple[float, list[float]]:
    runs = []
    for repeat in range(repeats):
        tick = time.perf_counter()
        call(repeat)
        runs.append(time.perf_counter() - tick)
    return statistics.median(runs), runs


def throughput(
    engine: TransformerEngine, sample: Sequence[PaintingInput], batch: int, repeats: int, state: Path
) -> dict:
    """Median seconds of one ``encode`` call over the whole sample with the engine's
    ``batch_size`` set to ``batch``: the same paintings for every batch size, so the rates compare."""
    engine.options["batch_size"] = batch
    median, runs = median_seconds(lambda _: engine.encode(sample, state), repeats)
    return {"batch_size": batch, "median_s": median, "runs_s": runs, "paintings_per_s": len(sample) / median}


def blip_postprocess_costs(engine: Any, items: Sequence[PaintingInput], repeats: int) -> dict:
    """Unit costs of BLIP's postprocess: ViT per image, grounded text pass per ITM pair, ITC text."""
    loaded = engine.loaded()
    n_images = min(8, len(items))
    n_pairs = min(len(items), int(engine.option("itm_batch_size")))
    images = [open_rgb(item.image_path) for item in items[:n_images]]
    texts = [item.text for item in items[:n_pairs]]
    with torch.inference_mode():
        vision_s, _ = median_seconds(lambda _: engine.vision_states(images), repeats)
        states = engine.vision_states(images)
        encoded = loaded.tokenizer(texts, truncation=True, max_length=engine.itm_max_tokens())["input_ids"]
        batch = engine.pad_ids(encoded)
        pair_states = states[[i % n_images for i in range(n_pairs)]]

        def pairs(_: int) -> None:
            torch.softmax(loaded.model.itm_head(engine.grounded_cls(batch, pair_states)), dim=-1)

        pair_s, _ = median_seconds(pairs, repeats)
        inputs = [ModalInput(pk=i, text=text, image=None) for i, text in enumerate(texts)]
        text_s, _ = median_seconds(
            lambda _: engine.encode_texts(
                inputs, lambda b, owner: (loaded.model.text_proj(engine.text_cls(b)),)
            ),
            repeats,
        )
    top_k = int(engine.option("itm_top_k"))
    per_image, per_pair, per_text = vision_s / n_images, pair_s / n_pairs, text_s / n_pairs
    estimate = CATALOGUE * per_image + 2 * CATALOGUE * top_k * per_pair + CATALOGUE * per_text
    return {
        "itm_top_k": top_k,
        "vision_s_per_image": per_image,
        "itm_s_per_pair": per_pair,
        "itc_text_s_per_text": per_text,
        "pairs_upper_bound": 2 * CATALOGUE * top_k,
        "estimate_s": estimate,
    }


def bench_engine(name: str, items: Sequence[PaintingInput], args: argparse.Namespace, root: Path) -> dict:
    tick = time.perf_counter()
    model_dir, what = build_checkpoint(name, root)
    build_s = time.perf_counter() - tick
    engine = make_engine(name, model_dir)
    tick = time.perf_counter()
    engine.loaded()
    load_s = time.perf_counter() - tick
    state = root / f"{name}-state"
    engine.options["batch_size"] = 2
    engine.encode(items[:2], state)  # warm-up: first-call allocations, kernels
    results = [throughput(engine, items, batch, args.repeats, state) for batch in args.batch_sizes]
    best = max(results, key=lambda r: r["paintings_per_s"])
    report = {
        "model": what,
        "build_s": build_s,
        "load_s": load_s,
        "throughput": results,
        "estimate_basis": f"{CATALOGUE} / best measured throughput (batch {best['batch_size']})",
        "encode_estimate_s": CATALOGUE / best["paintings_per_s"],
    }
    engine.options = dict(settings.RECSYS_ENGINES[name].get("OPTIONS") or {})  # configured batch sizes
    if name == "blip":
        report["postprocess"] = blip_postprocess_costs(engine, items, args.repeats)
    report["total_estimate_s"] = report["encode_estimate_s"] + report.get("postprocess", {}).get(
        "estimate_s", 0.0
    )
    if model_dir.startswith(str(root)):
        shutil.rmtree(model_dir, ignore_errors=True)
    return report


# -- the text engine against a raw forward ------------------------------------------------------
def catalogue_texts(n: int) -> list[str]:
    """``n`` real painting texts spread over the imported catalogue (else over the AIC set)."""
    from catalog.models import Painting
    from catalog.text import painting_text

    try:
        paintings = list(Painting.objects.select_related("artist").order_by("pk"))
    except Exception:  # no database yet: the AIC sample's texts
        paintings = []
    texts = [painting_text(p) for p in paintings] or [item.text for item in sample_paintings()]
    texts = [t for t in texts if t.strip()]
    return texts[:: max(1, len(texts) // n)][:n]


def raw_forward(model: Any, tokenizer: Any, texts: Sequence[str], batch: int = 64) -> torch.Tensor:
    """What a plain transformers user would run: tokenise (cut at 256), forward, mean-pool."""
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch):
            enc = tokenizer(
                list(texts[start : start + batch]),
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            )
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            out.append((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9))
    return torch.nn.functional.normalize(torch.cat(out), dim=1)


def text_engine_vs_raw(n: int, repeats: int, int8: bool, state: Path) -> dict:
    """Paintings/s of MiniLM: raw forward (catalogue order, sorted), the engine, int8 (docstring)."""
    from transformers import AutoModel, AutoTokenizer

    texts = catalogue_texts(n)
    model_dir = settings.RECSYS_ENGINES["minilm"]["MODEL"]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    by_length = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    sorted_texts = [texts[i] for i in by_length]
    engine = make_engine("minilm", model_dir)
    items = [PaintingInput(pk=i + 1, external_id=f"t{i}", text=t) for i, t in enumerate(texts)]
    raw_forward(model, tokenizer, texts[:8])  # warm-up
    engine.encode(items[:8], state)
    rows = {}
    for label, call in (
        ("raw forward, catalogue order", lambda _: raw_forward(model, tokenizer, texts)),
        ("raw forward, sorted by length", lambda _: raw_forward(model, tokenizer, sorted_texts)),
        ("engine encode (sorted windows)", lambda _: engine.encode(items, state)),
    ):
        median, runs = median_seconds(call, repeats)
        rows[label] = {"median_s": median, "runs_s": runs, "paintings_per_s": len(texts) / median}
    report: dict[str, Any] = {
        "texts": len(texts),
        "mean_chars": sum(map(len, texts)) / len(texts),
        "rates": rows,
    }
    if int8:
        quantised = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        raw_forward(quantised, tokenizer, sorted_texts[:8])
        median, runs = median_seconds(lambda _: raw_forward(quantised, tokenizer, sorted_texts), repeats)
        rows["int8 raw forward, sorted"] = {
            "median_s": median,
            "runs_s": runs,
            "paintings_per_s": len(texts) / median,
        }
        full = raw_forward(model, tokenizer, sorted_texts)
        small = raw_forward(quantised, tokenizer, sorted_texts)
        k = min(10, len(texts) - 1)
        top_full = torch.topk(full @ full.T - 2 * torch.eye(len(texts)), k).indices
        top_small = torch.topk(small @ small.T - 2 * torch.eye(len(texts)), k).indices
        overlap = sum(
            len(set(a.tolist()) & set(b.tolist())) for a, b in zip(top_full, top_small, strict=True)
        )
        report["int8_agreement"] = {
            "mean_cosine": float((full * small).sum(1).mean()),
            "min_cosine": float((full * small).sum(1).min()),
            f"top{k}_neighbour_overlap": overlap / (k * len(texts)),
        }
    base = rows["raw forward, catalogue order"]["paintings_per_s"]
    for row in rows.values():
        row["ratio_to_raw"] = row["paintings_per_s"] / base
    return report


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--engines", default=",".join(ENGINES), help="comma-separated subset of " + ",".join(ENGINES)
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per batch size (median)")
    parser.add_argument("--quick", action="store_true", help="one run, batch sizes 1 and 8, 8 paintings")
    parser.add_argument("--sample", type=int, default=0, help="paintings timed per run (default 32, quick 8)")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: torch's default, one per core)"
    )
    parser.add_argument(
        "--texts", type=int, default=512, help="texts of the MiniLM engine-vs-raw comparison (0: skip it)"
    )
    parser.add_argument(
        "--no-int8", action="store_true", help="leave int8 quantisation out of that comparison"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engines: {', '.join(unknown)}")
    if args.quick:
        args.repeats = 1
    args.batch_sizes = (1, 8) if args.quick else (1, 8, 32)
    size = args.sample or (8 if args.quick else 32)
    catalogue = sample_paintings()
    items = catalogue[:: max(1, len(catalogue) // size)][:size]  # spread over the set

    started = time.perf_counter()
    reports: dict[str, dict] = {}
    text_report = None
    with tempfile.TemporaryDirectory(prefix="bench-encoding-") as tmp:
        for name in engines:
            print(f"{name}: building and timing ...", flush=True)
            reports[name] = bench_engine(name, items, args, Path(tmp))
        if args.texts > 0:
            print(f"minilm: engine against a raw forward on {args.texts} catalogue texts ...", flush=True)
            text_report = text_engine_vs_raw(args.texts, args.repeats, not args.no_int8, Path(tmp) / "text")

    header = f"{'engine':8} " + " ".join(f"{'b=' + str(b) + ' p/s':>10}" for b in args.batch_sizes)
    print(f"\n{header} {'encode 2368':>12} {'+ postprocess':>14} {'total':>10}")
    for name, report in reports.items():
        rates = " ".join(f"{r['paintings_per_s']:>10.2f}" for r in report["throughput"])
        post = report.get("postprocess", {}).get("estimate_s")
        print(
            f"{name:8} {rates} {duration(report['encode_estimate_s']):>12} "
            f"{duration(post) if post else '-':>14} {duration(report['total_estimate_s']):>10}"
        )
    if "blip" in reports:
        costs = reports["blip"]["postprocess"]
        print(
            f"\nBLIP postprocess (K={costs['itm_top_k']}): "
            f"ViT {costs['vision_s_per_image'] * 1000:.0f} ms/image, "
            f"ITM {costs['itm_s_per_pair'] * 1000:.0f} ms/pair x <= {costs['pairs_upper_bound']} pairs, "
            f"ITC text {costs['itc_text_s_per_text'] * 1000:.0f} ms/text"
        )
    print("Estimates extrapolate measured throughput to 2,368 paintings; they are not full runs.")
    if text_report is not None:
        print(
            f"\nMiniLM on {text_report['texts']} catalogue texts "
            f"(mean {text_report['mean_chars']:.0f} chars), "
            f"{torch.get_num_threads()} torch threads, load {os.getloadavg()[0]:.1f}:"
        )
        for label, row in text_report["rates"].items():
            print(f"  {label:34} {row['paintings_per_s']:8.1f} paintings/s  {row['ratio_to_raw']:5.2f}x raw")
        if "int8_agreement" in text_report:
            print(f"  int8 vs float32: {text_report['int8_agreement']}")

    result = {
        "benchmark": "encoding",
        "created": datetime.now(UTC).isoformat(),
        "quick": args.quick,
        "repeats": args.repeats,
        "catalogue": CATALOGUE,
        "sample": f"{len(items)} of {len(catalogue)} AIC paintings, evenly spaced (images <= 300 px, texts)",
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average": os.getloadavg(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "device": settings.RECSYS_DEVICE,
        },
        "engines": reports,
        "text_engine_vs_raw": text_report,
        "wall_s": time.perf_counter() - started,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"encoding-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
