"""Recommendation latency in-process, per recommender, against the seed's algorithm on the same matrix.

    .venv/bin/pip install -r requirements/bench.txt      # pandas, for the seed re-implementation
    .venv/bin/python bench/recommend.py [--items 2368] [--calls 200] [--ratings 9] [--n 9] [--no-dense]

Writes one synthetic artefact per engine (fixed seed; dimensions of the real engines: lda 20,
resnet 2048, clip 512, blip 256, minilm 384) into a temporary artefact root, in the production
layout (unit-norm embeddings, plus the dense similarity while m <= RECSYS_DENSE_MAX_ITEMS, unless
``--no-dense``), opens
them memory-mapped as the service does and times ``recsys.recommend.recommend_with_artefacts``
(the whole request minus its two small validation queries: weights, eq. 1, exclusion, top-n,
late fusion and explanations) for every configured recommender. Each call rates ``--ratings``
random paintings 1-5. BLIP's artefact also carries synthetic ITM lists (top 50 by cosine), so
it is timed as it is served under ``RECSYS_BLIP_SCORE=itm``; the seed gets the same ITM A.

The baseline re-implements the seed research code's algorithm: the similarity matrix as a pandas
DataFrame indexed by painting id, ``.loc`` per rated id, min-max weights, and Python's
``sorted`` over every painting (late fusion: the same per engine, then RRF in a dict). It is run
on the same matrix and the same ratings; with ``weighting=minmax`` both must return the same
paintings (checked, printed as "agree"), so the ratio compares equal work.

Prints a table (p50/p99 in milliseconds, ratio of medians seed/ours) and writes JSON to
bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

import pandas as pd  # noqa: E402
from django.conf import settings  # noqa: E402

from recsys import artefacts as files  # noqa: E402
from recsys import itm  # noqa: E402
from recsys.recommend import recommend_with_artefacts  # noqa: E402
from recsys.recommenders import PARTIAL, RecommenderConfig, settings_recommenders  # noqa: E402
from recsys.similar import itm_source  # noqa: E402

DIMS = {"lda": 20, "resnet": 2048, "clip": 512, "blip": 256, "minilm": 384}
ITM_TOP_K = 50  # BLIP's ITM lists (RECSYS_BLIP_ITM_TOP_K)
SEED = 20230626  # UMAP'23


# -- synthetic artefacts --------------------------------------------------------------------------
def write_synthetic(
    root: Path, engine: str, dim: int, ids: np.ndarray, rng: np.random.Generator, *, dense: bool
) -> Path:
    """Unit-norm vectors (LDA: topic mixtures, others: Gaussian), in the production file layout."""
    if engine == "lda":
        vectors = rng.dirichlet(np.full(dim, 0.3), size=ids.size)
    else:
        vectors = rng.standard_normal((ids.size, dim))
    embeddings = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    folder = root / engine / "bench"
    files.save_array(folder / files.PAINTING_IDS, ids)
    files.save_json(folder / files.EXTERNAL_IDS, [f"bench-{pk}" for pk in ids.tolist()])
    files.save_array(folder / files.EMBEDDINGS, embeddings)
    if dense:
        files.save_array(folder / files.SIMILARITY, embeddings @ embeddings.T)
    if engine == "blip":  # ITM lists: each painting's top-K by cosine, probabilities rising with it
        similarity = embeddings @ embeddings.T
        np.fill_diagonal(similarity, -np.inf)
        top = np.argsort(-similarity, axis=1)[:, :ITM_TOP_K]
        cos = np.take_along_axis(similarity, top, axis=1)
        prob = np.clip(0.5 + 2 * cos + rng.normal(0, 0.05, cos.shape), 0, 1)
        order = np.argsort(-prob, axis=1)
        files.save_array(folder / itm.ITM_IDX, np.take_along_axis(top, order, axis=1).astype(np.int32))
        files.save_array(folder / itm.ITM_PROB, np.take_along_axis(prob, order, axis=1).astype(np.float32))
    files.save_json(folder / files.MANIFEST, {"engine": engine, "version": f"{engine}-bench"})
    return folder


def itm_matrix(art: files.LoadedArtefact) -> np.ndarray | None:
    """BLIP's dense A under RECSYS_BLIP_SCORE=itm (for the seed baseline's DataFrame)."""
    source = itm_source(art)
    if source is None:
        return None
    embeddings = np.asarray(art.embeddings, dtype=np.float64)
    matrix = source.calibration(embeddings @ embeddings.T)
    rows = source.graph.rows_of()
    matrix[rows, source.graph.indices] = source.graph.probs
    return matrix


# -- the seed's algorithm -----------------------------------------------------------------------
def seed_single(frame: pd.DataFrame, ratings: dict[int, int]) -> list[tuple[int, float]]:
    """Every painting by eq. 1 with min-max weights: per-id ``.loc`` rows, Python sort."""
    values = list(ratings.values())
    low, high = min(values), max(values)
    scores = None
    for pk, rating in ratings.items():
        weight = (rating - low) / (high - low) if high > low else 0.0  # the seed: 0/0 -> zeros
        row = frame.loc[pk] * weight
        scores = row if scores is None else scores + row
    scores = scores / len(ratings)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


def seed_late(frames: dict[str, pd.DataFrame], ratings: dict[int, int], depth: int | None, k: int) -> list:
    """Each engine's seed ranking (top ``depth`` or all), fused by RRF in a dict, Python sort."""
    fused: dict[int, float] = {}
    for frame in frames.values():
        ranked = seed_single(frame, ratings)
        for rank, (pk, _) in enumerate(ranked[:depth] if depth else ranked, start=1):
            fused[pk] = fused.get(pk, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


def seed_recommend(
    config: RecommenderConfig, frames: dict[str, pd.DataFrame], ratings: dict[int, int], n: int
) -> list[tuple[int, float]]:
    """The seed's full ranking (rated paintings included, as the seed returns them)."""
    if config.is_late:
        depth = n if config.mode == PARTIAL else None
        return seed_late({e: frames[e] for e in config.engines}, ratings, depth, config.rrf_k)
    return seed_single(frames[next(iter(config.engines))], ratings)


# -- timing ---------------------------------------------------------------------------------------
def percentiles(samples_ns: list[int]) -> dict[str, float]:
    ms = np.asarray(samples_ns) / 1e6
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def timed(call, requests) -> list[int]:
    for ratings in requests[:5]:  # warm-up: page in the memory maps, fill caches
        call(ratings)
    samples = []
    for ratings in requests:
        start = time.perf_counter_ns()
        call(ratings)
        samples.append(time.perf_counter_ns() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2368, help="paintings per artefact (default 2368)")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per recommender (default 200)")
    parser.add_argument("--ratings", type=int, default=9, help="rated paintings per call (default 9)")
    parser.add_argument("--n", type=int, default=9, help="recommendations per call (default 9)")
    parser.add_argument(
        "--no-dense",
        action="store_true",
        help="leave the dense similarity out of our artefacts (as past RECSYS_DENSE_MAX_ITEMS): eq. 1 "
        "then multiplies the embeddings",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    rng = np.random.default_rng(SEED)
    ids = np.arange(1, args.items + 1, dtype=np.int64) * 3  # pks need not be contiguous
    configs = settings_recommenders()
    requests = []
    for _ in range(args.calls):
        rated = rng.choice(ids, args.ratings, replace=False)
        values = rng.integers(1, 6, args.ratings)
        requests.append({int(pk): int(r) for pk, r in zip(rated, values, strict=True)})

    with tempfile.TemporaryDirectory(prefix="bench-artefacts-") as tmp:
        root = Path(tmp)
        dense = not args.no_dense and args.items <= settings.RECSYS_DENSE_MAX_ITEMS
        folders = {e: write_synthetic(root, e, d, ids, rng, dense=dense) for e, d in DIMS.items()}
        loaded = {e: files.open_artefact(folder) for e, folder in folders.items()}
        # the seed always holds the full similarity matrix in a DataFrame
        frames = {
            e: pd.DataFrame(np.asarray(a.embeddings) @ np.asarray(a.embeddings).T, index=ids, columns=ids)
            for e, a in loaded.items()
        }
        blip_itm = itm_matrix(loaded["blip"])
        if blip_itm is not None:  # BLIP scored by ITM: the seed gets the same A
            frames["blip"] = pd.DataFrame(blip_itm, index=ids, columns=ids)
        rows = []
        print(
            f"{args.items} paintings, {args.calls} calls, {args.ratings} ratings, n={args.n}, "
            f"eq. 1 from {'dense A rows' if dense else 'embeddings'} (ms)\n"
            "| recommender | kind | ours p50 | ours p99 | seed p50 | seed p99 | seed/ours p50 | agree |\n"
            "|---|---|---|---|---|---|---|---|"
        )
        for name, config in configs.items():
            arts = {e: loaded[e] for e in config.engines}

            def ours(ratings, config=config, arts=arts):
                return recommend_with_artefacts(
                    config=config, artefacts=arts, ratings=ratings, n=args.n, weighting="centered"
                )

            def seed(ratings, config=config):
                return seed_recommend(config, frames, ratings, args.n)[: args.n]

            # Same eq. 1, same paintings: with the paper's weighting and the seed's list minus the
            # rated paintings, single and early recommenders must agree. (Late fusion cannot: the
            # seed ranks the rated paintings too, which shifts every other rank.)
            agree = None
            if not config.is_late:
                agree = 0
                for ratings in requests[:20]:
                    mine = recommend_with_artefacts(
                        config=config, artefacts=arts, ratings=ratings, n=args.n, weighting="minmax"
                    )
                    full = seed_recommend(config, frames, ratings, args.n)
                    theirs = [pk for pk, _ in full if pk not in ratings][: args.n]
                    agree += [item.painting_id for item in mine.items] == theirs
            row = {
                "recommender": name,
                "kind": config.kind + (f"-{config.mode}" if config.mode else ""),
                "engines": {e: DIMS[e] for e in config.engines},
                "ours": percentiles(timed(ours, requests)),
                "seed": percentiles(timed(seed, requests)),
                "agree_top_n": None if agree is None else f"{agree}/20",
            }
            row["ratio_p50"] = row["seed"]["p50_ms"] / row["ours"]["p50_ms"]
            rows.append(row)
            print(
                f"| {name} | {row['kind']} | {row['ours']['p50_ms']:.3f} | {row['ours']['p99_ms']:.3f}"
                f" | {row['seed']['p50_ms']:.2f} | {row['seed']['p99_ms']:.2f} | {row['ratio_p50']:.0f}x"
                f" | {row['agree_top_n'] or 'n/a'} |",
                flush=True,
            )

    result = {
        "benchmark": "recommend",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "items": args.items,
        "calls": args.calls,
        "ratings_per_call": args.ratings,
        "n": args.n,
        "dense_similarity": dense,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "platform": platform.platform(),
        },
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    layout = "dense" if result["dense_similarity"] else "embeddings"
    path = args.out / f"recommend-{args.items}-{layout}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
