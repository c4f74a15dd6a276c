"""One protocol of the offline evaluation: every recommender on one set of visitors.

``run_protocol`` ranks each visitor's list with each recommender and measures it (a report
``Row``: nDCG@9, precision@9, recall@50, ILD, novelty, coverage, timing), the MMR
accuracy/diversity curves of the recommenders that have a similarity, the paired comparisons
(nDCG@9 difference per visitor, same visitors) and what the evidence decides
(``recsys.evaluation.decision``). ``estimate`` and ``clean`` put numbers in the report's JSON form
(an Estimate; NaN -> null). The report's schema: ``recsys.evaluation.runner``.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from recsys.algorithms.diversity import mmr_order
from recsys.artefacts.reader import LoadedArtefact
from recsys.evaluation import metrics
from recsys.evaluation.decision import decide
from recsys.evaluation.recommenders import CENTERED_PREFIX, EvalRecommender, Ranked
from recsys.evaluation.visitors import Visitor

K = 9
RECALL_K = 50
MMR_LAMBDAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3)


class Lookup:
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


def estimate(values: Sequence[float]) -> dict[str, Any]:
    return clean(metrics.mean_ci(values).as_dict())


def clean(value: Any) -> Any:
    """NaN -> None, recursively (JSON has no NaN)."""
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def _row(
    rec: EvalRecommender, visitors: Sequence[Visitor], lookup: Lookup, n_candidates: int
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
    by_pattern: dict[str, list[float]] = defaultdict(list)
    for value, visitor in zip(ndcg, visitors, strict=True):
        by_kind[visitor.kind].append(value)
        by_pattern[visitor.pattern].append(value)
    row = {
        "kind": rec.kind,
        "engines": list(rec.engines),
        "ndcg@9": estimate(ndcg),
        "precision@9": estimate(
            [metrics.precision_at_k(t, v.relevant, K) for t, v in zip(tops, visitors, strict=True)]
        ),
        "recall@50": estimate(
            [
                metrics.recall_at_k(p.tolist(), v.relevant, RECALL_K)
                for p, v in zip(lists, visitors, strict=True)
            ]
        ),
        "ild": estimate([lookup.ild(top) for top in tops]),
        "novelty": estimate([lookup.novelty(top) for top in tops]) if lookup.info is not None else None,
        "popularity_rank": estimate([lookup.popularity(t) for t in tops])
        if lookup.info is not None
        else None,
        "coverage": metrics.catalogue_coverage(tops, n_candidates, K),
        "empty_lists": sum(1 for top in tops if not top),
        "median_ms": float(np.median(timings) * 1000.0) if timings else 0.0,
        "ndcg@9_by_kind": {kind: estimate(values) for kind, values in sorted(by_kind.items())},
        "ndcg@9_by_pattern": {p: estimate(values) for p, values in sorted(by_pattern.items())},
    }
    return row, ranked, ndcg


def _mmr_curve(
    rec: EvalRecommender, visitors: Sequence[Visitor], pools: Sequence[Ranked], lookup: Lookup
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
        curve.append({"lambda": lam, "ndcg@9": estimate(ndcg), "ild": estimate(ild)})
    return curve


def run_protocol(
    recs: Sequence[EvalRecommender],
    visitors: Sequence[Visitor],
    lookup: Lookup,
    n_candidates: int,
    curves: dict[str, list[dict[str, Any]]] | None,
    progress: Callable[[str], None],
    served: Sequence[str] = (),
    current: str | None = None,
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
        "decision": decide(per_visitor, candidates=served, current=current),
    }


def _pairs(recs: Sequence[EvalRecommender]) -> list[tuple[EvalRecommender, EvalRecommender]]:
    """Each learned and score-fusion row against every eq.-1 / late-fusion row on a subset of its
    engines, each served row against its eq.-1-with-centred-weights twin (``centered:<name>``),
    and every single/early engine row against each later one (which engine is better decides the
    order of ``RECSYS_DEFAULT_RECOMMENDERS``)."""
    pairs = [
        (a, b)
        for a in recs
        if a.kind in ("learned", "score")
        for b in recs
        if b.kind in ("single", "early", "late") and set(b.engines) <= set(a.engines)
    ]
    by_name = {r.name: r for r in recs}
    pairs += [
        (by_name[r.name[len(CENTERED_PREFIX) :]], r) for r in recs if r.name.startswith(CENTERED_PREFIX)
    ]
    engines = [r for r in recs if r.kind in ("single", "early") and not r.name.startswith(CENTERED_PREFIX)]
    pairs += [(a, b) for i, a in enumerate(engines) for b in engines[i + 1 :]]
    return pairs


def _paired(recs: Sequence[EvalRecommender], ndcg: Mapping[str, list[float]]) -> list[dict[str, Any]]:
    """Per pair of ``_pairs``: nDCG@9 difference per visitor (same visitors), its mean and t
    interval, and the mean difference relative to the other row's mean."""
    out = []
    for a, b in _pairs(recs):
        diff = np.asarray(ndcg[a.name]) - np.asarray(ndcg[b.name])
        base = float(np.mean(ndcg[b.name]))
        out.append(
            {
                "a": a.name,
                "b": b.name,
                "ndcg@9_difference": estimate(diff.tolist()),
                "relative": float(diff.mean() / base) if base else None,
            }
        )
    return out
