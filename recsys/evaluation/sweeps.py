"""The sweeps on validation visitors that choose the fusion rows' parameters.

``ridge_sweep``: nDCG@9 of the learned recommender at each ridge lambda of ``RIDGE_LAMBDAS``;
``beta_sweep``: nDCG@9 of ``score:a+b`` at each weight of ``SCORE_BETAS``, for every pair of
ready engines; ``best_value``: the swept value with the highest mean nDCG@9. The runner
(``recsys.evaluation.runner``) builds the ``score:a+b`` rows with the chosen betas and reports
both sweeps.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from recsys.artefacts.reader import LoadedArtefact
from recsys.evaluation import metrics
from recsys.evaluation.protocol import K, estimate
from recsys.evaluation.recommenders import learned, score_fusion
from recsys.evaluation.visitors import Visitor

RIDGE_LAMBDAS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)
SCORE_BETAS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def ridge_sweep(
    artefacts: Mapping[str, LoadedArtefact], candidates: np.ndarray, visitors: Sequence[Visitor]
) -> list[dict[str, Any]]:
    sweep = []
    for lam in RIDGE_LAMBDAS:
        rec = learned(artefacts, candidates, lam)
        ndcg = [metrics.ndcg_at_k(rec.rank(v.ratings, K).pks.tolist(), v.relevant, K) for v in visitors]
        sweep.append({"lambda": lam, "ndcg@9": estimate(ndcg)})
    return sweep


def beta_sweep(
    artefacts: Mapping[str, LoadedArtefact], candidates: np.ndarray, visitors: Sequence[Visitor]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """nDCG@9 of ``score:a+b`` at each of ``SCORE_BETAS``, for every pair of ready engines."""
    sweeps = {}
    for pair in itertools.combinations(artefacts, 2):
        sweeps[pair] = []
        for beta in SCORE_BETAS:
            rec = score_fusion(pair, artefacts, candidates, beta)
            ndcg = [metrics.ndcg_at_k(rec.rank(v.ratings, K).pks.tolist(), v.relevant, K) for v in visitors]
            sweeps[pair].append({"beta": beta, "ndcg@9": estimate(ndcg)})
    return sweeps


def best_value(sweep: Sequence[Mapping[str, Any]], key: str) -> float:
    """The swept value with the highest mean nDCG@9 (ties: the first listed)."""
    return max(sweep, key=lambda entry: entry["ndcg@9"]["mean"] or 0.0)[key]
