"""The score-fusion recommender in the recommendation service (kind ``score``).

``recsys.serving.recommend`` scores every engine of the recommender with eq. 1 as for late fusion (each
engine on the rated paintings its artefact holds: a rated painting without an image still
counts for the text engine) and hands the engines' candidate scores here;
``recsys.algorithms.score_fusion`` fuses them,

    S(i) = sum_{e in E(i)} w_e s_e(i) / sum_{e in E(i)} w_e    (two engines: beta S_image + (1 - beta) S_text)

over the engines E(i) that represent painting i, so a painting lacking one modality is ranked by
the other alone. An engine that can use none of the rated paintings contributes nothing (the
others decide, as in late fusion). Each item is explained by the engine with the largest
weighted share w_e s_e(i) (ties: the recommender's engine order); ``engine_ranks`` stays empty
(that is late fusion's explanation).

Under the ``demote`` weighting the engines come with their bounds (``EngineRun.bound``: the pull
L_e >= s_e of every painting, one product each; exact scores are their own bound): their fusion
bounds S, ranks every candidate, and S is computed for the paintings near the top only
(``recsys.algorithms.bounded``), with the same first n as fusing every painting's S.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from recsys.algorithms.bounded import bounded_top_n
from recsys.algorithms.score_fusion import FusedScores, fuse_rows, fused_union
from recsys.serving.recommend_ranking import bounded_list, fused_recommendations
from recsys.serving.recommenders import RecommenderConfig
from recsys.serving.results import Recommendation


def score_fused(
    config: RecommenderConfig,
    runs: Mapping[str, Any],  # engine -> recsys.serving.recommend_runs.EngineRun
    candidates: Mapping[str, np.ndarray],  # engine -> rows that may be recommended
    n: int,
    depth: int,  # unused: score fusion ranks every candidate (the signature of late fusion's)
    explain: int,
) -> tuple[Recommendation, ...]:
    """The ``n`` best candidates by fused score, with explanations."""
    fused = _bounded(runs, candidates, {engine: config.engines[engine] for engine in runs}, n)
    order = list(runs)
    explainer: list[str] = []
    for position in range(fused.keys.size):
        shares = fused.engine_scores(position)
        explainer.append(
            max((config.engines[e] * s, -order.index(e), e) for e, s in shares.items() if s is not None)[2]
        )
    return fused_recommendations(runs, fused.keys, fused.scores, explainer, explain)


def _bounded(
    runs: Mapping[str, Any], candidates: Mapping[str, np.ndarray], weights: Mapping[str, float], n: int
) -> FusedScores:
    """Score fusion through the engines' bounds (exact scores are their own bound; demote's pull
    L >= S): the fused bound ranks every candidate and the fused S is computed near the top only
    (``recsys.algorithms.bounded``), with the first n of ``score_fusion`` over every painting."""
    lists = {engine: bounded_list(run, candidates[engine], array=True) for engine, run in runs.items()}
    union, bound = fused_union({e: (lst.keys, lst.bound) for e, lst in lists.items()}, weights=weights)

    def parts(keys: np.ndarray) -> dict[str, np.ndarray]:
        # a union key the artefact holds is one of its candidates (same removals and filters)
        out = {}
        for engine, run in runs.items():
            rows, found = run.artefact.row_of.rows(keys)
            part = np.full(keys.size, np.nan)
            part[found] = run.scores_at(rows[found])
            out[engine] = part
        return out

    positions, scores = bounded_top_n(
        bound=bound, keys=union, n=n, exact=lambda at: fuse_rows(parts(union[at]), weights=weights)
    )
    keys = union[positions]
    return FusedScores(keys=keys, scores=scores, parts=parts(keys))
