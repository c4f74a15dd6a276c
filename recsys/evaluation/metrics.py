"""Offline ranking metrics, pure numpy (plus scipy's t quantile for the confidence interval).

``ranked`` is a list of painting pks, best first; ``relevant`` the pks that are right for the
visitor (binary relevance: the held-out members of the visitor's taste group, or the held-out
paintings a real user rated 4-5).

* precision@k = |top-k ∩ R| / k   (k, not the list length: a short list is not rewarded)
* recall@k    = |top-k ∩ R| / |R|
* DCG@k       = sum_{p=1..k} rel_p / log2(p + 1);  nDCG@k = DCG@k / IDCG@k, with IDCG@k the DCG
  of min(k, |R|) relevant items at the top
* catalogue coverage = |union over visitors of their top-k| / |candidates|
* intra-list diversity of one list (Ziegler et al. 2005) = 1 - mean_{p<q} cos(e_p, e_q) under a
  named engine's unit embeddings (only the list's paintings that engine represents count)
* novelty (Zhou et al. 2010, with add-one smoothing so unrated paintings are defined):
  self-information I(i) = -log2((c_i + 1) / (U + 1)), c_i the number of users who rated painting
  i and U the number of users with any rating; a list's novelty is the mean I(i) over its items.
  The popularity rank is i's 1-based rank by c_i, most rated first (ties share their mean rank),
  divided by the number of candidates: 0 = the most popular, 1 = the least.
* 95% interval of a mean over visitors (Student's t): mean ± t_{0.975, n-1} * s / sqrt(n), s the
  sample standard deviation (ddof = 1); with one value the interval is that value.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


def _hits(ranked: Sequence[int], relevant: Collection[int], k: int) -> np.ndarray:
    return np.array([pk in relevant for pk in list(ranked)[:k]], dtype=np.float64)


def precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    return float(_hits(ranked, relevant, k).sum() / k)


def recall_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    if not relevant:
        raise ValueError("recall needs at least one relevant item")
    return float(_hits(ranked, relevant, k).sum() / len(relevant))


def _discount(count: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, count + 2, dtype=np.float64))


def ndcg_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    if not relevant:
        raise ValueError("nDCG needs at least one relevant item")
    hits = _hits(ranked, relevant, k)
    dcg = float(hits @ _discount(hits.shape[0]))
    ideal = float(_discount(min(k, len(relevant))).sum())
    return dcg / ideal


def catalogue_coverage(lists: Iterable[Sequence[int]], n_candidates: int, k: int) -> float:
    if n_candidates <= 0:
        raise ValueError("no candidates")
    seen: set[int] = set()
    for ranked in lists:
        seen.update(list(ranked)[:k])
    return len(seen) / n_candidates


def intra_list_diversity(unit_vectors: np.ndarray) -> float:
    """1 - mean pairwise cosine of the list's unit rows; NaN for fewer than two rows."""
    vectors = np.asarray(unit_vectors, dtype=np.float64)
    count = vectors.shape[0]
    if count < 2:
        return float("nan")
    gram = vectors @ vectors.T
    pairs = (gram.sum() - np.trace(gram)) / 2.0
    return float(1.0 - pairs / (count * (count - 1) / 2.0))


def self_information(counts: np.ndarray, n_users: int) -> np.ndarray:
    """I(i) = -log2((c_i + 1) / (U + 1)) for every painting's rating count c_i."""
    counts = np.asarray(counts, dtype=np.float64)
    return -np.log2((counts + 1.0) / (n_users + 1.0))


def popularity_rank(counts: np.ndarray) -> np.ndarray:
    """Each painting's rank by rating count, most rated first, ties averaged, divided by m."""
    counts = np.asarray(counts, dtype=np.float64)
    return stats.rankdata(-counts, method="average") / counts.shape[0]


@dataclass(frozen=True, slots=True)
class Estimate:
    mean: float
    low: float  # 95% interval
    high: float
    n: int

    def as_dict(self) -> dict[str, float | int | list[float]]:
        return {"mean": self.mean, "ci95": [self.low, self.high], "n": self.n}


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> Estimate:
    """Mean and Student-t interval of the finite values (NaNs dropped: e.g. ILD of a 1-item list)."""
    array = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
    count = int(array.shape[0])
    if count == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    mean = float(array.mean())
    if count == 1:
        return Estimate(mean, mean, mean, 1)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, count - 1) * array.std(ddof=1) / np.sqrt(count))
    return Estimate(mean, mean - half, mean + half, count)
