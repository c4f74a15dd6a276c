"""Every recommender at 100,000 and 1,000,000 paintings: the exact path and the ANN index.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/scale.py [--sizes 100000,1000000] [--calls 30]
        [--resnet-max 100000] [--workdir /tmp] [--skip-memory] [--skip-exact]
        [--engines lda,minilm,clip,blip,resnet] [--nprobe-divisors 32,64]

Synthetic artefacts with the real engines' dimensions (lda 40 topics, minilm 384, clip 512,
blip 256, resnet 2048), **clustered**: a Gaussian mixture on the sphere, about sqrt(m) centres
with Dirichlet(1) cluster sizes, each painting = its centre + isotropic noise (cosine to the
centre ~0.75), L2-normalised; LDA rows are Dirichlet topic mixtures around per-cluster topic
profiles. (On uniform random vectors every painting is about equally far from every query and
ANN recall means nothing.) Written as float32 ``.npy`` in the production artefact layout under
``--workdir`` and opened memory-mapped with ``recsys.artefacts.reader.open_artefact``.

ResNet (2,048-d float32 = 8 GB at 1M) is only built up to ``--resnet-max`` paintings; above it
the late-fusion recommenders fuse lda with minilm instead of resnet (named in the output).
float16 halves the files, but numpy has no float16 BLAS: a float16 matrix-vector product was
7x slower than float32 here, so the exact path stays float32.

Per size it prints:

1. exact path: ``recommend_with_artefacts`` p50/p99 for every recommender (single, early, late
   partial, late total: today's code, which sorts every engine's ranking in total mode), plus the
   total-mode fusion step alone, full sort vs ``recsys.algorithms.fusion.fuse_top_n``;
2. ANN path (single and early engines): ``recsys.algorithms.ann.build_index`` time, index file size, then
   per request the eq.-1 profile q and ``recsys.algorithms.ann.search`` (top 10, rated paintings excluded),
   p50/p99 and recall@10 against the exact top 10; the same with a filter keeping a random 10%
   of the catalogue (a collection / story group);
3. memory: two forked worker processes each open every artefact and index memory-mapped and
   answer requests; their ``/proc/<pid>/smaps_rollup`` (RSS, PSS, private, shared) shows what
   each worker holds privately and what the page cache shares.

JSON goes to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import multiprocessing
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

import faiss  # noqa: E402

from recsys.algorithms import ann, scoring  # noqa: E402
from recsys.artefacts import files, reader  # noqa: E402
from recsys.serving.recommend import recommend_with_artefacts  # noqa: E402
from recsys.serving.recommenders import LATE, TOTAL, RecommenderConfig, settings_recommenders  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_recommend", ROOT / "bench" / "recommend.py")
bench_recommend = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_recommend)
fusion_step, percentiles, timed = (
    bench_recommend.fusion_step,
    bench_recommend.percentiles,
    bench_recommend.timed,
)

DIMS = {"lda": 40, "minilm": 384, "clip": 512, "blip": 256, "resnet": 2048, "dinov2": 768, "xlmr": 384}
SEED = 20230626
BLOCK = 50_000  # rows generated per step
NOISE = 0.9  # noise norm relative to the unit centre: cosine to the centre ~ 1 / sqrt(1 + 0.81)
FILTER_SHARE = 0.1


# -- synthetic clustered artefacts ------------------------------------------------------------------
def write_clustered(root: Path, engine: str, dim: int, ids: np.ndarray, seed: int) -> Path:
    """Unit rows of a mixture on the sphere (see the module docstring), production layout."""
    rng = np.random.default_rng(seed)
    size = ids.size
    clusters = max(16, int(math.sqrt(size)))
    share = rng.dirichlet(np.ones(clusters))
    if engine == "lda":
        profiles = rng.dirichlet(np.full(dim, 0.1), size=clusters)
    else:
        centres = rng.standard_normal((clusters, dim))
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    folder = root / engine / "scale"
    folder.mkdir(parents=True, exist_ok=True)
    out = np.lib.format.open_memmap(folder / files.EMBEDDINGS, mode="w+", dtype=np.float32, shape=(size, dim))
    for start in range(0, size, BLOCK):
        count = min(BLOCK, size - start)
        label = rng.choice(clusters, count, p=share)
        if engine == "lda":
            rows = rng.gamma(50 * profiles[label] + 0.01)  # Dirichlet(50 p_c + 0.01), unnormalised
            # like gensim's minimum_probability: drop topics under 1% (and with them float32
            # denormals, whose arithmetic is ~100x slower)
            rows[rows < 0.01 * rows.sum(axis=1, keepdims=True)] = 0.0
        else:
            rows = centres[label] + NOISE * rng.standard_normal((count, dim)) / np.sqrt(dim)
        out[start : start + count] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    out.flush()
    del out
    files.save_local_array(folder / files.PAINTING_IDS, ids)
    files.save_local_json(folder / files.EXTERNAL_IDS, [f"scale-{pk}" for pk in ids.tolist()])
    files.save_local_json(folder / files.MANIFEST, {"engine": engine, "version": f"{engine}-scale-{size}"})
    return folder


def late_configs(engines: set[str]) -> dict[str, RecommenderConfig]:
    """The configured recommenders; late ones over lda + resnet, or lda + minilm without resnet."""
    configs = {}
    for name, config in settings_recommenders().items():
        if config.kind == LATE and not set(config.engines) <= engines:
            swapped = {("minilm" if e == "resnet" else e): w for e, w in config.engines.items()}
            config = RecommenderConfig(name, LATE, swapped, config.mode, config.rrf_k, config.depth)
            name = f"{name} ({'+'.join(swapped)})"
        if set(config.engines) <= engines:
            configs[name] = config
    return configs


def make_requests(ids: np.ndarray, calls: int, rng: np.random.Generator) -> list[dict[int, int]]:
    requests = []
    for _ in range(calls):
        rated = rng.choice(ids, 9, replace=False)
        requests.append({int(pk): int(r) for pk, r in zip(rated, rng.integers(1, 6, 9), strict=True)})
    return requests


def profile(art, ratings: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 1's profile vector q = sum_j w_j e_j / n and the rated rows."""
    rows = np.array([art.row_of[pk] for pk in sorted(ratings)], dtype=np.intp)
    values = np.array([ratings[pk] for pk in sorted(ratings)])
    weights = scoring.rating_weights(values, weighting="centered").values
    return weights @ np.asarray(art.embeddings[rows], dtype=np.float64) / rows.size, rows


def exact_top(art, query: np.ndarray, rated: np.ndarray, k: int, allowed: np.ndarray | None) -> set[int]:
    scores = np.asarray(art.embeddings @ query.astype(np.float32), dtype=np.float64)
    keep = np.ones(art.size, dtype=bool) if allowed is None else np.isin(np.arange(art.size), allowed)
    keep[rated] = False
    rows = np.flatnonzero(keep)
    return set(rows[scoring.top_n(scores[rows], art.painting_ids[rows], k)].tolist())


def ann_rows(engine: str, art, requests, rng: np.random.Generator, divisors: list[int]) -> list[dict]:
    """One row per nprobe = nlist / divisor (not clamped to ``ann.MIN_NPROBE``), same index and
    requests."""
    faiss.omp_set_num_threads(2)
    start = time.perf_counter()
    index = ann.build_index(art.embeddings)
    build_s = time.perf_counter() - start
    path = ann.save_index(index, art.path)
    del index
    index = ann.load_index(art.path)  # memory-mapped, as a worker opens it
    faiss.omp_set_num_threads(1)
    ivf = faiss.extract_index_ivf(index)
    allowed = np.sort(rng.choice(art.size, int(FILTER_SHARE * art.size), replace=False))
    queries = [profile(art, ratings) for ratings in requests]
    exact = {
        label: [exact_top(art, q, rated, 10, filt) for q, rated in queries[:20]]
        for label, filt in (("all", None), ("filter10", allowed))
    }
    rows = []
    for divisor in divisors:
        ivf.nprobe = min(ivf.nlist, max(1, ivf.nlist // divisor))
        row = {
            "engine": engine,
            "dim": DIMS[engine],
            "build_s": build_s,
            "index_mb": path.stat().st_size / 1e6,
            "embeddings_mb": art.embeddings.nbytes / 1e6,
            "nlist": ivf.nlist,
            "nprobe": ivf.nprobe,
            "nprobe_divisor": divisor,
        }
        rows.append(ann_timings(row, index, art, queries, exact, allowed))
    return rows


def ann_timings(row: dict, index, art, queries, exact: dict, allowed: np.ndarray) -> dict:
    for label, filt in (("all", None), ("filter10", allowed)):

        def query_once(item, filt=filt):
            q, rated = item
            return ann.search(
                index, q, 10, embeddings=art.embeddings, allowed=filt, exclude=rated, keys=art.painting_ids
            )

        samples = timed(query_once, queries)
        hits = sum(
            len(set(query_once(item)[0].tolist()) & best)
            for item, best in zip(queries[:20], exact[label], strict=False)
        )
        row[label] = percentiles(samples) | {"recall_at_10": hits / (10 * min(20, len(queries)))}
    return row


# -- memory of forked workers ---------------------------------------------------------------------------
def smaps() -> dict[str, float]:
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":")
        fields[name] = int(value.split()[0]) / 1024  # MB
    return {
        "rss_mb": fields["Rss"],
        "pss_mb": fields["Pss"],
        "private_mb": fields["Private_Clean"] + fields["Private_Dirty"],
        "shared_mb": fields["Shared_Clean"] + fields["Shared_Dirty"],
        "anonymous_mb": fields["Anonymous"],
    }


def worker(folders: dict[str, Path], configs, requests, results) -> None:
    """A web worker: open every artefact and index itself, answer requests, report its memory."""
    faiss.omp_set_num_threads(1)
    before = smaps()
    loaded = {e: reader.open_artefact(folder) for e, folder in folders.items()}
    indexes = {e: ann.load_index(folder) for e, folder in folders.items()}
    opened = smaps()
    for config in configs.values():
        arts = {e: loaded[e] for e in config.engines}
        for ratings in requests:
            recommend_with_artefacts(
                config=config, artefacts=arts, ratings=ratings, n=9, weighting="centered"
            )
    for engine, index in indexes.items():
        if index is not None:
            for ratings in requests:
                q, rated = profile(loaded[engine], ratings)
                ann.search(index, q, 10, embeddings=loaded[engine].embeddings, exclude=rated)
    results.put({"pid": os.getpid(), "start": before, "opened": opened, "after_requests": smaps()})


def memory(folders, configs, requests) -> list[dict]:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    procs = [context.Process(target=worker, args=(folders, configs, requests, results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    out = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    return out


# -- main -----------------------------------------------------------------------------------------------
def run_size(size: int, args, root: Path) -> dict:
    rng = np.random.default_rng(SEED + size)
    ids = np.arange(1, size + 1, dtype=np.int64) * 3
    engines = [e for e in args.engines if e != "resnet" or size <= args.resnet_max]
    start = time.perf_counter()
    folders = {e: write_clustered(root, e, DIMS[e], ids, SEED + i) for i, e in enumerate(engines)}
    generate_s = time.perf_counter() - start
    loaded = {e: reader.open_artefact(folder) for e, folder in folders.items()}
    configs = late_configs(set(engines))
    requests = make_requests(ids, args.calls, rng)
    print(
        f"\n## {size:,} paintings (generated in {generate_s:.0f} s; engines {', '.join(engines)})", flush=True
    )

    exact = []
    configs_timed = {} if args.skip_exact else configs
    print("exact path, recommend_with_artefacts (ms)\n| recommender | kind | p50 | p99 |\n|---|---|---|---|")
    for name, config in configs_timed.items():
        arts = {e: loaded[e] for e in config.engines}

        def call(ratings, config=config, arts=arts):
            return recommend_with_artefacts(
                config=config, artefacts=arts, ratings=ratings, n=9, weighting="centered"
            )

        row = {"recommender": name, "kind": config.kind + (f"-{config.mode}" if config.mode else "")}
        row |= percentiles(timed(call, requests))
        exact.append(row)
        print(f"| {name} | {row['kind']} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} |", flush=True)
    fusion = []
    for name, config in configs_timed.items():
        if config.mode == TOTAL:
            step = fusion_step(config, {e: loaded[e] for e in config.engines}, requests, 9)
            step["recommender"] = name
            fusion.append(step)
            print(
                f"fusion step of {name}: full sort p50 {step['full_sort']['p50_ms']:.1f} ms, fuse_top_n"
                f" p50 {step['top_n']['p50_ms']:.1f} ms"
                f" ({step['full_sort']['p50_ms'] / step['top_n']['p50_ms']:.0f}x), agree {step['agree']}",
                flush=True,
            )

    anns = []
    print(
        "\nANN path (IVF-SQ8, exact re-scoring; top 10, rated excluded; ms)\n"
        "| engine | build s | index MB | E MB | nlist/nprobe | p50 | p99 | recall@10 | 10% filter p50"
        " | recall@10 |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    single_early = {e for c in configs.values() if c.single_engine for e in c.engines}
    for engine in [e for e in engines if e in single_early]:
        for row in ann_rows(engine, loaded[engine], requests, rng, args.nprobe_divisors):
            anns.append(row)
            print(
                f"| {engine} | {row['build_s']:.0f} | {row['index_mb']:.0f} | {row['embeddings_mb']:.0f}"
                f" | {row['nlist']}/{row['nprobe']} | {row['all']['p50_ms']:.2f} | {row['all']['p99_ms']:.2f}"
                f" | {row['all']['recall_at_10']:.3f} | {row['filter10']['p50_ms']:.2f}"
                f" | {row['filter10']['recall_at_10']:.3f} |",
                flush=True,
            )

    workers = []
    if not args.skip_memory:
        workers = memory(folders, configs, requests[:10])
        on_disk = sum(p.stat().st_size for f in folders.values() for p in f.iterdir()) / 1e6
        print(f"\nmemory of 2 forked workers (MB; artefact + index files {on_disk:,.0f} MB)")
        print("| worker | RSS | PSS | private | shared | anonymous | opening artefacts added (anonymous) |")
        print("|---|---|---|---|---|---|---|")
        for w in workers:
            a = w["after_requests"]
            print(
                f"| {w['pid']} | {a['rss_mb']:.0f} | {a['pss_mb']:.0f} | {a['private_mb']:.0f}"
                f" | {a['shared_mb']:.0f} | {a['anonymous_mb']:.0f}"
                f" | {w['opened']['anonymous_mb'] - w['start']['anonymous_mb']:.0f} |",
                flush=True,
            )
    del loaded
    return {
        "size": size,
        "engines": engines,
        "generate_s": generate_s,
        "exact": exact,
        "fusion_total": fusion,
    } | {
        "ann": anns,
        "workers": workers,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="catalogue sizes (default 100000,1000000)")
    parser.add_argument("--calls", type=int, default=30, help="timed calls per recommender (default 30)")
    parser.add_argument("--resnet-max", type=int, default=100_000, help="largest size with a resnet artefact")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp"), help="where the artefacts are written")
    parser.add_argument("--skip-memory", action="store_true", help="no forked-worker memory check")
    parser.add_argument("--skip-exact", action="store_true", help="no exact-path timings")
    parser.add_argument("--engines", default=",".join(DIMS), help="engines to build (default all five)")
    parser.add_argument(
        "--nprobe-divisors", default="32", help="ANN rows for nprobe = nlist / each divisor (default 32)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated artefacts")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    args.engines = [e for e in DIMS if e in args.engines.split(",")]
    args.nprobe_divisors = [int(d) for d in args.nprobe_divisors.split(",")]
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        root = args.workdir / f"bench-scale-{size}"
        shutil.rmtree(root, ignore_errors=True)
        try:
            results.append(run_size(size, args, root))
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
    payload = {
        "benchmark": "scale",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "calls": args.calls,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "faiss": faiss.__version__,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        },
        "sizes": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"scale-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
