"""The offline evaluation: every ready recommender against simulated and held-out visitors.

``evaluate(...)`` returns (and ``write_report`` stores, by default at
``VAR_DIR/evaluation/latest.json``) one JSON document. Its schema (version 1) is read by other
pages (e.g. an A/B analysis page): fields are only ever added, a breaking change bumps ``schema``.

    {
      "schema": 1,
      "created": ISO 8601 time, "seconds": wall time of the run,
      "seed": int, "collection": str | null, "k": 9, "recall_k": 50,
      "candidates": int,                      # paintings recommendations are drawn from
      "engines": {engine: artefact version},  # the ready engines used
      "unavailable_engines": {engine: reason},
      "diversity_engine": str,                # unit embeddings that ILD is measured under
      "popularity": {"ratings": int, "users": int},   # stored ratings behind novelty
      "groups": {kind: number of taste groups},
      "protocols": {
        "simulated": Protocol,
        "leave_k_out": Protocol | {"status": "skipped", "reason": str, "users": int}
      },
      "learned": {"lambda": float,            # what the "learned:*" rows use
                  "sweep": [{"lambda": float, "ndcg@9": Estimate}],   # on validation visitors
                  "validation_seed": int, "best_lambda": float},
      "mmr": {"pool": 50, "lambdas": [float],
              "curves": {recommender: [{"lambda": float, "ndcg@9": Estimate, "ild": Estimate}]}},
      "tuning": Tuning | {"status": "skipped", "reason": str}    # ``--tuned``
    }
    Tuning = {"status": "ok", "seed": int, "train_sizes": [int], "test_visitors": int,
              "test_ids": [int], "train_ids": [int], "engines": [str], "seconds": float,
              "untuned": {row: Estimate},                          # on the test visitors
              "curve": [{"train_visitors": int, "training": tune_embeddings report | null,
                         "learned_lambda": {engine: float},   # chosen on validation visitors
                         "lambda_sweep": {engine: [{"lambda", "ndcg@9": Estimate}]},
                         "corating": {"beta": {engine: float},  # learned@tuned+co (validation)
                                      "paired_vs_tuned": [paired entries]},
                         "rows": {"<row>@tuned": Estimate},
                         "paired": [{"a": "<row>@tuned", "b": row, "ndcg@9_difference": Estimate,
                                     "relative": float | null}]}],
              "stored": {"status": "ok" | "skipped", ...}}      # see recsys.evaluation.tuned
    Protocol = {"status": "ok", "visitors": int, "by_kind": {kind: visitors}, "coverage_ceiling": float,
                "recommenders": {name: Row},
                "paired": [{"a": learned row, "b": eq.-1 or late row on a subset of its engines,
                            "ndcg@9_difference": Estimate (a - b per visitor),
                            "relative": mean difference / b's mean nDCG@9}]}
    Row = {"kind": "single" | "early" | "late" | "learned" | "paper" | "random",
           "engines": [str], "ndcg@9": Estimate, "precision@9": Estimate, "recall@50": Estimate,
           "ild": Estimate, "novelty": Estimate | null, "popularity_rank": Estimate | null,
           "coverage": float, "empty_lists": int, "median_ms": float,
           "ndcg@9_by_kind": {kind: Estimate}}
    Estimate = {"mean": float, "ci95": [low, high], "n": int}   # Student t over visitors

Metric definitions: ``recsys.evaluation.metrics``; visitors: ``recsys.evaluation.visitors``;
recommenders: ``recsys.evaluation.recommenders``. NaN never appears: a metric without data is
an Estimate with n = 0 and null numbers (novelty is null when no rating is stored).
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from config.exceptions import EngineUnavailable
from recsys.artefacts import LoadedArtefact
from recsys.diversity import mmr_order
from recsys.evaluation import metrics, selectors
from recsys.evaluation.recommenders import EvalRecommender, Ranked, build, learned
from recsys.evaluation.tuned import TEST_VISITORS, TRAIN_SIZES, evaluate_tuning
from recsys.evaluation.visitors import Visitor, leave_k_out_visitors, simulate_visitors
from recsys.learned import DEFAULT_LAMBDA
from recsys.selectors import active_artefact

SCHEMA = 1
K = 9
RECALL_K = 50
MMR_LAMBDAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3)
RIDGE_LAMBDAS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)
#: leave-k-out runs when at least this many stored users qualify
MIN_STORED_USERS = 5


def ready_artefacts() -> tuple[dict[str, LoadedArtefact], dict[str, str]]:
    ready: dict[str, LoadedArtefact] = {}
    missing: dict[str, str] = {}
    for engine in settings.RECSYS_ENGINES:
        try:
            ready[engine] = active_artefact(engine=engine)
        except EngineUnavailable as exc:
            missing[engine] = str(exc)
    return ready, missing


def default_report_path() -> Path:
    return Path(settings.VAR_DIR) / "evaluation" / "latest.json"


class _Lookup:
    """Per-painting values (ILD vectors, self-information) looked up by pk."""

    def __init__(self, art: LoadedArtefact | None, candidates: np.ndarray, counts: np.ndarray, users: int):
        self.art = art
        self.candidates = candidates
        rated = users > 0
        self.info = metrics.self_information(counts, users) if rated else None
        self.pop_rank = metrics.popularity_rank(counts) if rated else None

    def ild(self, pks: Sequence[int]) -> float:
        if self.art is None:
            return float("nan")
        rows = [self.art.row_of[pk] for pk in pks if pk in self.art.row_of]
        return metrics.intra_list_diversity(np.asarray(self.art.embeddings[np.array(rows, dtype=np.intp)]))

    def _mean_of(self, values: np.ndarray | None, pks: Sequence[int]) -> float:
        if values is None or not len(pks):
            return float("nan")
        return float(values[np.searchsorted(self.candidates, np.asarray(pks, dtype=np.int64))].mean())

    def novelty(self, pks: Sequence[int]) -> float:
        return self._mean_of(self.info, pks)

    def popularity(self, pks: Sequence[int]) -> float:
        return self._mean_of(self.pop_rank, pks)


def _estimate(values: Sequence[float]) -> dict[str, Any]:
    return _clean(metrics.mean_ci(values).as_dict())


def _clean(value: Any) -> Any:
    """NaN -> None, recursively (JSON has no NaN)."""
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _row(
    rec: EvalRecommender, visitors: Sequence[Visitor], lookup: _Lookup, n_candidates: int
) -> tuple[dict[str, Any], list[Ranked], list[float]]:
    ranked: list[Ranked] = []
    timings: list[float] = []
    for visitor in visitors:
        start = time.perf_counter()
        ranked.append(rec.rank(visitor.ratings, RECALL_K))
        timings.append(time.perf_counter() - start)
    lists = [r.pks for r in ranked]
    tops = [pks[:K].tolist() for pks in lists]
    ndcg = [metrics.ndcg_at_k(top, v.relevant, K) for top, v in zip(tops, visitors, strict=True)]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for value, visitor in zip(ndcg, visitors, strict=True):
        by_kind[visitor.kind].append(value)
    row = {
        "kind": rec.kind,
        "engines": list(rec.engines),
        "ndcg@9": _estimate(ndcg),
        "precision@9": _estimate(
            [metrics.precision_at_k(t, v.relevant, K) for t, v in zip(tops, visitors, strict=True)]
        ),
        "recall@50": _estimate(
            [
                metrics.recall_at_k(p.tolist(), v.relevant, RECALL_K)
                for p, v in zip(lists, visitors, strict=True)
            ]
        ),
        "ild": _estimate([lookup.ild(top) for top in tops]),
        "novelty": _estimate([lookup.novelty(top) for top in tops]) if lookup.info is not None else None,
        "popularity_rank": _estimate([lookup.popularity(t) for t in tops])
        if lookup.info is not None
        else None,
        "coverage": metrics.catalogue_coverage(tops, n_candidates, K),
        "empty_lists": sum(1 for top in tops if not top),
        "median_ms": float(np.median(timings) * 1000.0) if timings else 0.0,
        "ndcg@9_by_kind": {kind: _estimate(values) for kind, values in sorted(by_kind.items())},
    }
    return row, ranked, ndcg


def _mmr_curve(
    rec: EvalRecommender, visitors: Sequence[Visitor], pools: Sequence[Ranked], lookup: _Lookup
) -> list[dict[str, Any]]:
    assert rec.similarity is not None
    prepared = [
        (pool.pks, pool.scores, rec.similarity(pool.pks) if pool.pks.size else np.empty((0, 0)))
        for pool in pools
    ]
    curve = []
    for lam in MMR_LAMBDAS:
        ndcg, ild = [], []
        for (pks, scores, sim), visitor in zip(prepared, visitors, strict=True):
            top = pks[mmr_order(scores=scores, similarity=sim, k=K, lam=lam)].tolist() if pks.size else []
            ndcg.append(metrics.ndcg_at_k(top, visitor.relevant, K))
            ild.append(lookup.ild(top))
        curve.append({"lambda": lam, "ndcg@9": _estimate(ndcg), "ild": _estimate(ild)})
    return curve


def _protocol(
    recs: Sequence[EvalRecommender],
    visitors: Sequence[Visitor],
    lookup: _Lookup,
    n_candidates: int,
    curves: dict[str, list[dict[str, Any]]] | None,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    rows = {}
    per_visitor: dict[str, list[float]] = {}
    for rec in recs:
        progress(f"{rec.name}: {len(visitors)} visitors")
        rows[rec.name], pools, per_visitor[rec.name] = _row(rec, visitors, lookup, n_candidates)
        if curves is not None and rec.similarity is not None:
            curves[rec.name] = _mmr_curve(rec, visitors, pools, lookup)
    by_kind: dict[str, int] = defaultdict(int)
    for visitor in visitors:
        by_kind[visitor.kind] += 1
    return {
        "status": "ok",
        "visitors": len(visitors),
        # the most any recommender's coverage can be: every visitor's 9 paintings all different
        "coverage_ceiling": min(1.0, len(visitors) * K / n_candidates) if n_candidates else 0.0,
        "by_kind": dict(sorted(by_kind.items())),
        "recommenders": rows,
        "paired": _paired(recs, per_visitor),
    }


def _paired(recs: Sequence[EvalRecommender], ndcg: Mapping[str, list[float]]) -> list[dict[str, Any]]:
    """Each learned row against every eq.-1 / late-fusion row on a subset of its engines:
    nDCG@9 difference per visitor (same visitors), its mean and t interval, and the mean
    difference relative to the other row's mean."""
    out = []
    for a in (r for r in recs if r.kind == "learned"):
        for b in recs:
            if b.kind in ("single", "early", "late") and set(b.engines) <= set(a.engines):
                diff = np.asarray(ndcg[a.name]) - np.asarray(ndcg[b.name])
                base = float(np.mean(ndcg[b.name]))
                out.append(
                    {
                        "a": a.name,
                        "b": b.name,
                        "ndcg@9_difference": _estimate(diff.tolist()),
                        "relative": float(diff.mean() / base) if base else None,
                    }
                )
    return out


def _ridge_sweep(
    artefacts: Mapping[str, LoadedArtefact], candidates: np.ndarray, visitors: Sequence[Visitor]
) -> list[dict[str, Any]]:
    sweep = []
    for lam in RIDGE_LAMBDAS:
        rec = learned(artefacts, candidates, lam)
        ndcg = [metrics.ndcg_at_k(rec.rank(v.ratings, K).pks.tolist(), v.relevant, K) for v in visitors]
        sweep.append({"lambda": lam, "ndcg@9": _estimate(ndcg)})
    return sweep


def evaluate(
    *,
    seed: int = 0,
    visitors: int = 300,
    collection: str | None = None,
    lam: float = DEFAULT_LAMBDA,
    tuned: bool = False,
    train_sizes: Sequence[int] = TRAIN_SIZES,
    test_visitors: int = TEST_VISITORS,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Run both protocols on every ready recommender (see the module docstring for the result);
    with ``tuned``, also tuned vs untuned spaces on held-out visitors (``recsys.evaluation.tuned``)."""
    started = time.perf_counter()
    artefacts, unavailable = ready_artefacts()
    if not artefacts:
        raise EngineUnavailable(
            "No engine has a ready artefact; run `manage.py precompute` first.", field="engine"
        )
    candidates = selectors.candidate_pks(collection=collection)
    groups = selectors.taste_groups(candidates=candidates)
    story = selectors.story_group_members(candidates=candidates)
    simulated = simulate_visitors(
        groups=groups, story_groups=story, candidates=candidates, count=visitors, seed=seed
    )
    validation = simulate_visitors(
        groups=groups, story_groups=story, candidates=candidates, count=visitors, seed=seed + 1
    )
    counts, users = selectors.rating_counts(painting_ids=candidates)
    diversity_engine = "minilm" if "minilm" in artefacts else next(iter(artefacts))
    lookup = _Lookup(artefacts[diversity_engine], candidates, counts, users)
    recs = build(artefacts=artefacts, allowed=candidates, seed=seed, lam=lam)

    curves: dict[str, list[dict[str, Any]]] = {}
    protocols: dict[str, Any] = {
        "simulated": _protocol(recs, simulated, lookup, candidates.shape[0], curves, progress)
    }
    stored = leave_k_out_visitors(
        ratings_by_user=selectors.stored_ratings(), candidates=candidates, seed=seed
    )
    if len(stored) >= MIN_STORED_USERS:
        progress(f"leave-k-out: {len(stored)} stored users")
        protocols["leave_k_out"] = _protocol(recs, stored, lookup, candidates.shape[0], None, progress)
    else:
        protocols["leave_k_out"] = {
            "status": "skipped",
            "reason": f"{len(stored)} stored users with >= 10 ratings and a held-out 4-5 "
            f"(at least {MIN_STORED_USERS} needed)",
            "users": len(stored),
        }
    progress("learned: lambda sweep on validation visitors")
    sweep = _ridge_sweep(artefacts, candidates, validation)
    best = max(sweep, key=lambda entry: (entry["ndcg@9"]["mean"] or 0.0, -entry["lambda"]))["lambda"]
    tuning: dict[str, Any] = {"status": "skipped", "reason": "run with --tuned"}
    if tuned:
        tuning = evaluate_tuning(
            artefacts=artefacts,
            candidates=candidates,
            groups=groups,
            story_groups=story,
            stored=selectors.stored_ratings(),
            seed=seed,
            lam=lam,
            weighting=settings.RECSYS_WEIGHTING,
            train_sizes=train_sizes,
            test_visitors=test_visitors,
            progress=progress,
        )
    group_kinds: dict[str, int] = defaultdict(int)
    for group in groups:
        group_kinds[group.kind] += 1
    return _clean(
        {
            "schema": SCHEMA,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            "seed": seed,
            "collection": collection,
            "k": K,
            "recall_k": RECALL_K,
            "candidates": int(candidates.shape[0]),
            "engines": {engine: art.version for engine, art in artefacts.items()},
            "unavailable_engines": unavailable,
            "diversity_engine": diversity_engine,
            "popularity": {"ratings": int(counts.sum()), "users": users},
            "groups": dict(sorted(group_kinds.items())),
            "protocols": protocols,
            "learned": {"lambda": lam, "sweep": sweep, "validation_seed": seed + 1, "best_lambda": best},
            "mmr": {"pool": RECALL_K, "lambdas": list(MMR_LAMBDAS), "curves": curves},
            "tuning": tuning,
        }
    )


def write_report(report: Mapping[str, Any], path: Path | None = None) -> Path:
    path = path or default_report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=False, allow_nan=False))
    tmp.replace(path)
    return path


def _fmt(estimate: Mapping[str, Any] | None) -> str:
    if not estimate or estimate.get("mean") is None:
        return "n/a"
    low, high = estimate["ci95"]
    return f"{estimate['mean']:.3f} [{low:.3f}, {high:.3f}]"


def markdown_table(report: Mapping[str, Any], protocol: str = "simulated") -> str:
    """The per-recommender table of one protocol, as Markdown (README, command output)."""
    rows = report["protocols"][protocol].get("recommenders", {})
    head = "| recommender | nDCG@9 | precision@9 | recall@50 | coverage | ILD | novelty (bits) | ms |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {_fmt(row['ndcg@9'])} | {_fmt(row['precision@9'])} | {_fmt(row['recall@50'])} | "
            f"{row['coverage']:.3f} | {_fmt(row['ild'])} | {_fmt(row['novelty'])} | {row['median_ms']:.1f} |"
        )
    return "\n".join(lines)


def paired_table(report: Mapping[str, Any], protocol: str = "simulated") -> str:
    """The learned rows against eq. 1 and late fusion on the same visitors, as Markdown."""
    lines = ["| learned | vs | nDCG@9 difference (95% CI) | relative |", "|---|---|---|---|"]
    for entry in report["protocols"][protocol].get("paired", []):
        relative = "n/a" if entry["relative"] is None else f"{entry['relative']:+.1%}"
        lines.append(f"| {entry['a']} | {entry['b']} | {_fmt(entry['ndcg@9_difference'])} | {relative} |")
    return "\n".join(lines)


def tuning_table(report: Mapping[str, Any]) -> str:
    """The learning curve: tuned - untuned nDCG@9 on held-out visitors per training size, as Markdown."""
    tuning = report.get("tuning") or {}
    if tuning.get("status") != "ok":
        return f"tuning skipped: {tuning.get('reason', 'not run')}"
    lines = [
        "| training visitors | row | nDCG@9 | untuned row | difference (95% CI) | relative |",
        "|---|---|---|---|---|---|",
    ]
    for point in tuning["curve"]:
        for entry in point["paired"]:
            relative = "n/a" if entry["relative"] is None else f"{entry['relative']:+.1%}"
            lines.append(
                f"| {point['train_visitors']} | {entry['a']} | {_fmt(point['rows'][entry['a']])} | "
                f"{_fmt(tuning['untuned'][entry['b']])} | {_fmt(entry['ndcg@9_difference'])} | {relative} |"
            )
    return "\n".join(lines)
