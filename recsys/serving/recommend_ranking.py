"""Ranking in the recommendation service: one engine's scores, its ANN index, or late fusion.

Every function turns ``recsys.serving.recommend_runs.EngineRun``s into ``Recommendation``s, best
first; ties: score descending, then painting pk ascending.

* Single and early recommenders rank the candidates by their eq.-1 scores (``rank_single``).
  Above ``RECSYS_ANN_MIN_ITEMS`` paintings they answer from the artefact's approximate index
  (``rank_single_from_index``, ``recsys.algorithms.ann``: eq. 1 is one inner-product query with
  the profile q = sum_j w_j e_j / n; the rows it finds are re-scored exactly). Rated, excluded
  and filtered paintings are masked inside the index and checked again, so they never come
  back; only which of the best paintings are found is approximate (recall@10 in
  bench/README.md). BLIP scored by ITM is no inner product and always takes the exact path.
* Late fusion (``rank_late``), partial mode: each engine ranks its own artefact's candidates and
  contributes its top-r list (r = the recommender's ``R``, else n). Total mode: each engine
  ranks every candidate of its own artefact, and the fused list keeps every painting that at
  least one fused engine represents (one without an image is still recommended by the text
  engine): an engine that cannot rank a painting gives it no RRF term (its rank is None),
  exactly as an engine with no usable rating contributes no list and the others decide. Total
  mode fuses with ``recsys.algorithms.fusion.fuse_top_n``: the exact first n of the fused full
  rankings, none sorted. Each item is explained by the engine that ranked it best (ties: the
  recommender's engine order).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from recsys.algorithms import scoring
from recsys.algorithms.bounded import BoundedList, bounded_top_n, prefix
from recsys.algorithms.fusion import fuse_top_n, reciprocal_rank_fusion
from recsys.serving.demote_scores import rescored_pool
from recsys.serving.recommend_mmr import POOL_FACTOR
from recsys.serving.recommend_runs import EngineRun
from recsys.serving.recommenders import PARTIAL, RecommenderConfig
from recsys.serving.results import Contribution, Recommendation


def rank_single(run: EngineRun, candidates: np.ndarray, n: int, explain: int) -> tuple[Recommendation, ...]:
    """The ``n`` best ``candidates`` (rows) by the run's scores; demote's from its bound
    (``recsys.algorithms.bounded``: S computed near the top only, the same answer)."""
    pids = run.artefact.painting_ids
    if run.scores is not None:
        rows = candidates[scoring.top_n(run.scores[candidates], pids[candidates], n)]
        return recommendations(run, rows, run.scores[rows], explain)
    positions, scores = bounded_top_n(
        bound=run.upper_bound(candidates),
        keys=pids[candidates],
        n=n,
        exact=lambda at: run.scores_at(candidates[at]),
    )
    return recommendations(run, candidates[positions], scores, explain)


def rank_single_from_index(
    run: EngineRun, removed: Collection[int], allowed: np.ndarray | None, n: int, explain: int
) -> tuple[Recommendation, ...]:
    from recsys.algorithms import ann  # faiss is imported only by processes that query an index

    art = run.artefact
    allowed_rows = None
    if allowed is not None:
        rows, found = art.row_of.rows(allowed)
        allowed_rows = rows[found]
    pushed = run.demote  # demote: the likes' profile finds a pool, re-scored exactly (S <= L)
    rows, scores = ann.profile_top_n(
        art.ann_index,
        embeddings=art.embeddings,
        rated_rows=run.rated_rows,
        weights=run.weights.values if pushed is None else pushed.pull,
        n=n if pushed is None else n * POOL_FACTOR,
        allowed=allowed_rows,
        exclude=run.known_rows(removed),
        keys=art.painting_ids,
    )
    if pushed is not None:
        rows, scores = rescored_pool(art, rows, run.rated_rows, pushed, n)
    return recommendations(run, rows, scores, explain)


def recommendations(
    run: EngineRun, rows: np.ndarray, scores: np.ndarray, explain: int
) -> tuple[Recommendation, ...]:
    """Recommendations for ``rows`` (best first) with their eq.-1 ``scores``."""
    pids = run.artefact.painting_ids
    explanations = run.explain(rows, explain)
    return tuple(
        Recommendation(
            painting_id=int(pids[row]),
            external_id=run.artefact.external_ids[int(row)],
            rank=rank,
            score=float(score),
            contributions=explanations[rank - 1],
            engine_ranks={},
        )
        for rank, (row, score) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True), start=1)
    )


def rank_late(
    config: RecommenderConfig,
    runs: dict[str, EngineRun],
    candidates: dict[str, np.ndarray],
    n: int,
    depth: int,
    explain: int,
) -> tuple[Recommendation, ...]:
    # each engine's candidates with exact scores, or demote's bound and S near the top on demand
    # (partial mode: each engine's exact first `depth` from its bound)
    bounded = {e: bounded_list(run, candidates[e]) for e, run in runs.items()}
    if config.mode == PARTIAL:
        lists = {e: _prefix(b, depth) for e, b in bounded.items()}
        fused = reciprocal_rank_fusion(lists, weights=config.engines, k=config.rrf_k)
    else:  # total: every painting ranked (threshold algorithm, no full sort); every row scored
        scored = {e: (b.keys, b.exact(np.arange(b.keys.size))) for e, b in bounded.items()}
        fused = fuse_top_n(scored, weights=config.engines, n=n, k=config.rrf_k)

    chosen = range(min(n, fused.keys.shape[0]))
    ranks = [{engine: None for engine in config.engines} | fused.engine_ranks(i) for i in chosen]
    # Explain each item from the engine that ranked it best (config order breaks ties).
    explainer = [
        min((r, pos, e) for pos, (e, r) in enumerate(rk.items()) if r is not None)[2] for rk in ranks
    ]
    return fused_recommendations(runs, fused.keys, fused.scores, explainer, explain, engine_ranks=ranks)


def bounded_list(run: EngineRun, candidates: np.ndarray, *, array: bool = False) -> BoundedList:
    """``run``'s ``candidates`` (rows) with the upper bound of their scores (exact ones as their
    own bound; ``EngineRun.upper_bound``, every value with ``array``), for
    ``recsys.algorithms.bounded``."""
    keys = run.artefact.painting_ids[candidates]
    if run.scores is not None:
        scores = run.scores[candidates]
        return BoundedList(keys=keys, bound=scores, exact=lambda at: scores[at])
    bound = run.upper_bound(candidates, array=array)
    return BoundedList(keys=keys, bound=bound, exact=lambda at: run.scores_at(candidates[at]))


def _prefix(lst: BoundedList, depth: int) -> np.ndarray:
    positions, _ = prefix(lst, depth)
    return lst.keys[positions]


def fused_recommendations(
    runs: Mapping[str, EngineRun],
    keys: np.ndarray,
    scores: np.ndarray,
    explainer: Sequence[str],
    explain: int,
    *,
    engine_ranks: Sequence[dict[str, int | None]] | None = None,
) -> tuple[Recommendation, ...]:
    """The first ``len(explainer)`` positions of a fused ranking (painting pks ``keys``, fused
    ``scores``) as recommendations, position i explained by engine ``explainer[i]``'s
    contributions (late fusion: the engine that ranked it best; score fusion: the largest
    weighted share)."""
    shown = np.asarray(keys[: len(explainer)], dtype=np.int64)
    explanations: dict[int, tuple[Contribution, ...]] = {}
    external_ids: dict[int, str] = {}
    for engine, run in runs.items():
        mine = [i for i, chosen in enumerate(explainer) if chosen == engine]
        if not mine:
            continue
        rows, found = run.artefact.row_of.rows(shown[mine])
        if not found.all():  # the explainer ranked them, so it holds them
            raise KeyError(f"{engine}: {shown[mine][~found].tolist()} not in its artefact")
        explanations.update(zip(mine, run.explain(rows, explain), strict=True))
        names = run.artefact.external_ids
        external_ids.update((i, names[row]) for i, row in zip(mine, rows.tolist(), strict=True))
    pks, fused = shown.tolist(), scores[: len(explainer)].tolist()
    return tuple(
        Recommendation(
            painting_id=pks[i],
            external_id=external_ids[i],
            rank=i + 1,
            score=float(fused[i]),
            contributions=explanations[i],
            engine_ranks=engine_ranks[i] if engine_ranks is not None else {},
        )
        for i in range(len(explainer))
    )
