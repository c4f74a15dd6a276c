"""MMR re-ranking in the recommendation service (``recsys.algorithms.diversity.mmr_order`` on a
candidate pool).

A request may ask for more diverse recommendations with ``mmr_lambda`` (0 < lambda <= 1); a
recommender may carry its own (``RecommenderConfig.mmr_lambda``, settings ``MMR_LAMBDA`` or the
admin definition); the request's wins, and 1 (or none at all) leaves the recommender's order.

With lambda < 1 the recommender first ranks a pool of ``POOL_FACTOR * n`` paintings (rated,
excluded and filtered-out paintings already removed, explanations included), then MMR picks
n of them greedily:

    i* = argmax_{i in pool \\ S}  lambda * rel(i) - (1 - lambda) * max_{j in S} sim(i, j)

with rel the recommender's score min-max normalised over the pool and sim the cosine
similarity under the recommender's engine, or for several engines (late fusion, learned) the
mean of their cosines, ``recsys.algorithms.learned.mean_kernel`` (0 from an engine lacking a painting).
For BLIP that is the embeddings' cosine, not the ITM probability (ITM is only known for a few
pairs). Each item keeps the recommender's score and explanation; ranks follow the MMR order, so
scores need no longer decrease with rank. A late-fusion recommender in partial mode keeps its
lists at R (else n), so the pool is the same fusion's longer tail, not a different fusion.
Cost: one pool x pool similarity block (at most 500 x 500 for n = 100) and O(n * pool).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from recsys.algorithms.diversity import mmr_order
from recsys.algorithms.learned import mean_kernel
from recsys.artefacts.reader import LoadedArtefact
from recsys.serving.recommenders import PARTIAL, RecommenderConfig
from recsys.serving.results import RecommendationResult

#: the pool MMR picks from: this many times the number of recommendations asked for
POOL_FACTOR = 5


def effective_lambda(config: RecommenderConfig, requested: float | None) -> float | None:
    """The trade-off to apply: the request's, else the recommender's; None when that is 1 or unset."""
    lam = requested if requested is not None else config.mmr_lambda
    return None if lam is None or lam >= 1.0 else float(lam)


def pool_config(config: RecommenderConfig, n: int) -> RecommenderConfig:
    """The recommender as it ranks the pool: late fusion in partial mode keeps its lists at R (n
    when unset) instead of growing them with the pool."""
    if config.is_late and config.mode == PARTIAL and config.depth is None:
        return dataclasses.replace(config, depth=n)
    return config


def rerank(
    pool: RecommendationResult,
    *,
    config: RecommenderConfig,
    artefacts: Mapping[str, LoadedArtefact],
    lam: float,
    n: int,
) -> RecommendationResult:
    """The ``n`` items MMR picks from ``pool`` (the recommender's answer for ``POOL_FACTOR * n``)."""
    items = pool.items
    if not items:
        return dataclasses.replace(pool, mmr_lambda=lam)
    pks = np.array([item.painting_id for item in items], dtype=np.int64)
    similarity = mean_kernel(artefacts={engine: artefacts[engine] for engine in config.engines}, pks=pks)
    scores = np.array([item.score for item in items], dtype=np.float64)
    order = mmr_order(scores=scores, similarity=similarity, k=n, lam=lam)
    picked = tuple(dataclasses.replace(items[pos], rank=rank) for rank, pos in enumerate(order.tolist(), 1))
    return dataclasses.replace(pool, items=picked, mmr_lambda=lam)
