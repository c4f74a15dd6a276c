"""Diversity re-ranking: maximal marginal relevance (Carbonell & Goldstein, SIGIR 1998), pure numpy.

From a pool of candidates handed in best first, pick k greedily:

    i* = argmax_{i not in S}  lam * rel(i) - (1 - lam) * max_{j in S} sim(i, j)

with S the items picked so far (the max over an empty S is 0, so the first pick is the most
relevant item). ``rel`` is the recommender's score min-max normalised over the pool,
``(s - min s) / (max s - min s)`` (all equal: every rel is 1), so that one lambda means the same
for eq. 1 scores (~0.1) and RRF scores (~0.03). ``sim`` is the engine's cosine similarity
(for several engines the mean over them, ``recsys.algorithms.learned.mean_kernel``).

lam = 1 keeps the recommender's order; lam = 0 ignores relevance after the first pick. Ties go
to the item earlier in the pool, i.e. to the better-ranked one. Cost: O(k * pool) after the
pool x pool similarity block.
"""

from __future__ import annotations

import numpy as np


def normalised_relevance(scores: np.ndarray) -> np.ndarray:
    """(s - min s) / (max s - min s) over the pool; 1 everywhere when all scores are equal."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    low, high = scores.min(), scores.max()
    if high == low:
        return np.ones_like(scores)
    return (scores - low) / (high - low)


def mmr_order(*, scores: np.ndarray, similarity: np.ndarray, k: int, lam: float) -> np.ndarray:
    """Pool positions of the k items MMR picks, in pick order.

    ``scores`` (pool,) are the recommender's scores of the pool, best first; ``similarity``
    (pool, pool) their pairwise similarity.
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must lie in [0, 1], got {lam!r}")
    relevance = normalised_relevance(scores)
    size = relevance.shape[0]
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.shape != (size, size):
        raise ValueError("similarity must be pool x pool")
    count = min(k, size)
    picked: list[int] = []
    available = np.ones(size, dtype=bool)
    closest = np.zeros(size)  # max similarity to the picked items (0 while none is picked)
    for _ in range(count):
        gain = np.where(available, lam * relevance - (1.0 - lam) * closest, -np.inf)
        best = int(np.argmax(gain))  # first maximum: the better-ranked item wins a tie
        picked.append(best)
        available[best] = False
        closest = similarity[best].copy() if len(picked) == 1 else np.maximum(closest, similarity[best])
    return np.array(picked, dtype=np.intp)
