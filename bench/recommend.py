"""Recommendation latency in-process, per recommender, against the seed's algorithm on the same matrix.

    .venv/bin/pip install -r requirements/bench.txt      # pandas, for the seed re-implementation
    .venv/bin/python bench/recommend.py [--items 2368] [--calls 200] [--ratings 9] [--n 9] [--no-dense]
                                        [--no-seed] [--recommenders lda,resnet,late-total]
                                        [--weighting demote|centered|minmax]

Writes one synthetic artefact per engine (fixed seed; dimensions of the real engines: lda 20,
resnet 2048, clip 512, blip 256, minilm 384) into a temporary artefact root, in the production
layout (unit-norm embeddings, plus the dense similarity while m <= RECSYS_DENSE_MAX_ITEMS, unless
``--no-dense``), opens
them memory-mapped as the service does and times ``recsys.serving.recommend.recommend_with_artefacts``
(the whole request minus its two small validation queries: weights, eq. 1 or the served
``demote`` scoring (``--weighting``, default ``RECSYS_WEIGHTING``), exclusion, top-n, late fusion
and explanations) for every configured recommender, the learned one included (its
"seed" column is the seed's eq. 1 on the same engine; a line compares it with our eq. 1). Each
call rates ``--ratings`` random paintings 1-5. BLIP's artefact also carries synthetic ITM lists
(top 50 by cosine), so it is timed as served under ``RECSYS_BLIP_SCORE=itm``; the seed gets the
same ITM A.

The baseline re-implements the seed research code's algorithm: the similarity matrix as a pandas
DataFrame indexed by painting id, ``.loc`` per rated id, min-max weights, and Python's
``sorted`` over every painting (late fusion: the same per engine, then RRF in a dict). It is run
on the same matrix and the same ratings; with ``weighting=minmax`` both must return the same
paintings (checked, printed as "agree"), so the ratio compares equal work.

``--no-seed`` leaves the baseline out (it holds each engine's m x m matrix as a float64
DataFrame: 3.2 GB per engine at 20,000 paintings).

A second table times the fusion step of every late recommender in total mode on the same
requests: each engine's eq.-1 scores are computed once, then fused the old way (every engine's
whole ranking sorted with ``rank_all``, then ``reciprocal_rank_fusion``) and with
``recsys.algorithms.fusion.fuse_top_n`` (threshold algorithm, no full sort); both must return the same
first n paintings, scores and ranks ("agree").

Prints the tables (p50/p99 in milliseconds, ratios of medians) and writes JSON to
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

from django.conf import settings  # noqa: E402

from recsys.algorithms import itm, scan_codes, scoring  # noqa: E402
from recsys.algorithms.fusion import fuse_top_n, reciprocal_rank_fusion  # noqa: E402
from recsys.artefacts import files, reader  # noqa: E402
from recsys.serving.recommend import recommend_with_artefacts  # noqa: E402
from recsys.serving.recommenders import (  # noqa: E402
    EARLY,
    LEARNED,
    PARTIAL,
    SINGLE,
    TOTAL,
    RecommenderConfig,
    settings_recommenders,
)
from recsys.serving.similar import itm_source  # noqa: E402

try:
    import pandas as pd  # only the seed baseline needs it (requirements/bench.txt)
except ImportError:  # pragma: no cover - bench extras not installed
    pd = None

DIMS = {
    "tfidf": 256, "lda": 20, "resnet": 2048, "clip": 512, "blip": 256,
    "minilm": 384, "dinov2": 768, "xlmr": 384,
}  # fmt: skip
DEFAULT_DIM = 512  # an engine not listed above (added in settings) gets vectors this wide
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
    files.save_local_array(folder / files.PAINTING_IDS, ids)
    files.save_local_json(folder / files.EXTERNAL_IDS, [f"bench-{pk}" for pk in ids.tolist()])
    files.save_local_array(folder / files.EMBEDDINGS, embeddings)
    if dense:
        files.save_local_array(folder / files.SIMILARITY, embeddings @ embeddings.T)
    if engine == "blip":  # ITM lists: each painting's top-K by cosine, probabilities rising with it
        similarity = embeddings @ embeddings.T
        np.fill_diagonal(similarity, -np.inf)
        top = np.argsort(-similarity, axis=1)[:, :ITM_TOP_K]
        cos = np.take_along_axis(similarity, top, axis=1)
        prob = np.clip(0.5 + 2 * cos + rng.normal(0, 0.05, cos.shape), 0, 1)
        order = np.argsort(-prob, axis=1)
        files.save_local_array(folder / itm.ITM_IDX, np.take_along_axis(top, order, axis=1).astype(np.int32))
        files.save_local_array(
            folder / itm.ITM_PROB, np.take_along_axis(prob, order, axis=1).astype(np.float32)
        )
    # as the precompute writes them: demote's 8-bit codes where no dense similarity is
    codes = None if dense else scan_codes.build_into(embeddings, folder)
    files.save_local_json(
        folder / files.MANIFEST, {"engine": engine, "version": f"{engine}-bench", "scan_codes": codes}
    )
    return folder


def itm_matrix(art: reader.LoadedArtefact) -> np.ndarray | None:
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


def fusion_step(config: RecommenderConfig, arts: dict, requests: list[dict[int, int]], n: int) -> dict:
    """Time the fusion of a late, total-mode recommender alone: full sorts + RRF vs ``fuse_top_n``."""
    inputs = []
    for ratings in requests:
        scored = {}
        for engine in config.engines:
            art = arts[engine]
            rows = np.array([art.row_of[pk] for pk in sorted(ratings)], dtype=np.intp)
            values = np.array([ratings[pk] for pk in sorted(ratings)])
            weights = scoring.rating_weights(values, weighting="centered").values
            scores = scoring.eq1_scores(embeddings=art.embeddings, rated_rows=rows, weights=weights)
            keep = ~np.isin(art.painting_ids, list(ratings))
            scored[engine] = (art.painting_ids[keep], scores[keep])
        inputs.append(scored)

    def full_sort(scored):
        lists = {e: keys[scoring.rank_all(scores, keys)] for e, (keys, scores) in scored.items()}
        return reciprocal_rank_fusion(lists, weights=config.engines, k=config.rrf_k)

    def top_n(scored):
        return fuse_top_n(scored, weights=config.engines, n=n, k=config.rrf_k)

    agree = 0
    for scored in inputs[:20]:
        old, new = full_sort(scored), top_n(scored)
        agree += (
            old.keys[:n].tolist() == new.keys.tolist()
            and old.scores[:n].tolist() == new.scores.tolist()
            and all(old.ranks[e][:n].tolist() == new.ranks[e].tolist() for e in config.engines)
        )
    old_ms, new_ms = percentiles(timed(full_sort, inputs)), percentiles(timed(top_n, inputs))
    return {"full_sort": old_ms, "top_n": new_ms, "agree": f"{agree}/{len(inputs[:20])}"}


def print_learned_vs_eq1(rows: list[dict], configs: dict[str, RecommenderConfig]) -> None:
    """The learned recommender's p50 against eq. 1 on the same engine(s) (single/early rows)."""
    p50 = {row["recommender"]: row["ours"]["p50_ms"] for row in rows}
    for name, config in configs.items():
        if config.kind != LEARNED:
            continue
        for other, eq1 in configs.items():
            if eq1.kind in (SINGLE, EARLY) and set(eq1.engines) == set(config.engines):
                print(f"{name} p50 / {other} (eq. 1) p50 = {p50[name] / p50[other]:.2f}")


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
    parser.add_argument("--no-seed", action="store_true", help="skip the seed baseline (m x m DataFrames)")
    parser.add_argument("--recommenders", help="comma-separated names (default: every configured one)")
    parser.add_argument(
        "--weighting",
        default=settings.RECSYS_WEIGHTING,
        choices=scoring.WEIGHTINGS,
        help=f"rating weighting of the timed calls (default the served one, {settings.RECSYS_WEIGHTING}); "
        "a recommender's own WEIGHTING wins, as when served",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    seed_on = not args.no_seed
    if seed_on and pd is None:
        parser.error("the seed baseline needs pandas (requirements/bench.txt); or pass --no-seed")

    rng = np.random.default_rng(SEED)
    ids = np.arange(1, args.items + 1, dtype=np.int64) * 3  # pks need not be contiguous
    configs = settings_recommenders()
    if args.recommenders:
        asked = [name.strip() for name in args.recommenders.split(",") if name.strip()]
        unknown = [name for name in asked if name not in configs]
        if unknown:
            parser.error(f"unknown recommender(s) {', '.join(unknown)}; configured: {', '.join(configs)}")
        configs = {name: configs[name] for name in asked}
    requests = []
    for _ in range(args.calls):
        rated = rng.choice(ids, args.ratings, replace=False)
        values = rng.integers(1, 6, args.ratings)
        requests.append({int(pk): int(r) for pk, r in zip(rated, values, strict=True)})

    with tempfile.TemporaryDirectory(prefix="bench-artefacts-") as tmp:
        root = Path(tmp)
        dense = not args.no_dense and args.items <= settings.RECSYS_DENSE_MAX_ITEMS
        # only the engines the asked recommenders use (any subset: no engine is assumed present)
        needed = {e: DIMS.get(e, DEFAULT_DIM) for config in configs.values() for e in config.engines}
        folders = {e: write_synthetic(root, e, d, ids, rng, dense=dense) for e, d in needed.items()}
        loaded = {e: reader.open_artefact(folder) for e, folder in folders.items()}
        # the seed always holds the full similarity matrix in a DataFrame
        frames = {}
        if seed_on:
            frames = {
                e: pd.DataFrame(np.asarray(a.embeddings) @ np.asarray(a.embeddings).T, index=ids, columns=ids)
                for e, a in loaded.items()
            }
            blip_itm = itm_matrix(loaded["blip"]) if "blip" in loaded else None
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
                    config=config,
                    artefacts=arts,
                    ratings=ratings,
                    n=args.n,
                    weighting=config.weighting or args.weighting,
                )

            def seed(ratings, config=config):
                return seed_recommend(config, frames, ratings, args.n)[: args.n]

            # Same eq. 1, same paintings: with the paper's weighting and the seed's list minus the
            # rated paintings, single and early recommenders must agree. (Late fusion cannot: the
            # seed ranks the rated paintings too, which shifts every other rank.)
            agree = None
            if seed_on and config.kind in (SINGLE, EARLY):
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
                "engines": {e: needed[e] for e in config.engines},
                "ours": percentiles(timed(ours, requests)),
                "seed": percentiles(timed(seed, requests)) if seed_on else None,
                "agree_top_n": None if agree is None else f"{agree}/{len(requests[:20])}",
            }
            row["ratio_p50"] = row["seed"]["p50_ms"] / row["ours"]["p50_ms"] if seed_on else None
            rows.append(row)
            seed_cells = (
                f"{row['seed']['p50_ms']:.2f} | {row['seed']['p99_ms']:.2f} | {row['ratio_p50']:.0f}x"
                if seed_on
                else "- | - | -"
            )
            print(
                f"| {name} | {row['kind']} | {row['ours']['p50_ms']:.3f} | {row['ours']['p99_ms']:.3f}"
                f" | {seed_cells} | {row['agree_top_n'] or 'n/a'} |",
                flush=True,
            )

        fusion = []
        totals = {name: config for name, config in configs.items() if config.is_late and config.mode == TOTAL}
        if totals:
            singles = {r["recommender"]: r["ours"]["p50_ms"] for r in rows if r["kind"] == "single"}
            print(
                "\nlate fusion, total mode: the fusion step alone (ms; eq. 1 scores computed beforehand)\n"
                "| recommender | full sort p50 | full sort p99 | top-n p50 | top-n p99 | full/top-n p50"
                " | agree | late-total / slowest single p50 |\n|---|---|---|---|---|---|---|---|"
            )
        for name, config in totals.items():
            step = fusion_step(config, {e: loaded[e] for e in config.engines}, requests, args.n)
            late = next(r["ours"]["p50_ms"] for r in rows if r["recommender"] == name)
            slowest = max((singles[e] for e in config.engines if e in singles), default=None)
            step.update(recommender=name, late_over_slowest_single=late / slowest if slowest else None)
            fusion.append(step)
            ratio = f"{step['late_over_slowest_single']:.2f}x" if slowest else "n/a (time the singles too)"
            print(
                f"| {name} | {step['full_sort']['p50_ms']:.3f} | {step['full_sort']['p99_ms']:.3f}"
                f" | {step['top_n']['p50_ms']:.3f} | {step['top_n']['p99_ms']:.3f}"
                f" | {step['full_sort']['p50_ms'] / step['top_n']['p50_ms']:.0f}x"
                f" | {step['agree']} | {ratio} |",
                flush=True,
            )
        print_learned_vs_eq1(rows, configs)

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
            "pandas": pd.__version__ if pd is not None else None,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "platform": platform.platform(),
        },
        "rows": rows,
        "fusion_total": fusion,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    layout = "dense" if result["dense_similarity"] else "embeddings"
    path = args.out / f"recommend-{args.items}-{layout}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
