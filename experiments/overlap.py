"""Overlap of two ranked recommendation lists (the paper's tables 1-2), pure Python/numpy.

* Intersection over union of the sets: IoU(A, B) = |A & B| / |A | B| (two empty lists: 1).
* Rank-biased overlap (Webber, Moffat & Zobel 2010, "A similarity measure for indefinite
  rankings", eq. 32, the extrapolated RBO_ext) with persistence p (0 < p < 1). For lists S
  (length s) and L (length l), s <= l, without repeated items, let X_d = |S[:d] & L[:d]| (for
  d > s, S[:d] = S) and A_d = X_d / d. Then

      RBO_ext = (1 - p)/p * ( sum_{d=1}^{l} X_d/d * p^d
                              + sum_{d=s+1}^{l} X_s * (d - s) / (s * d) * p^d )
                + ( (X_l - X_s)/l + X_s/s ) * p^l

  For s = l this is  (1 - p)/p * sum_{d=1}^{k} A_d p^d + A_k p^k,  which is 1 for identical
  lists and 0 for disjoint ones. Two empty lists: 1; one empty list: 0.
* ``mean_pairwise``: the mean of a measure over every unordered pair of lists (within one arm,
  across visitors).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

DEFAULT_P = 0.9

Ranking = Sequence[int]


def iou(a: Ranking, b: Ranking) -> float:
    sa, sb = set(a), set(b)
    union = sa | sb
    return 1.0 if not union else len(sa & sb) / len(union)


def rbo(a: Ranking, b: Ranking, *, p: float = DEFAULT_P) -> float:
    """Extrapolated rank-biased overlap of two rankings (see the module docstring)."""
    if not 0 < p < 1:
        raise ValueError("p must lie strictly between 0 and 1")
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        raise ValueError("rankings must not repeat items")
    short, long_ = (list(a), list(b)) if len(a) <= len(b) else (list(b), list(a))
    s, l = len(short), len(long_)  # noqa: E741 - the paper's names
    if l == 0:
        return 1.0
    if s == 0:
        return 0.0
    seen_short: set[int] = set()
    seen_long: set[int] = set()
    overlap = 0
    x = [0] * (l + 1)  # x[d] = X_d
    for d in range(1, l + 1):
        item_l = long_[d - 1]
        if d <= s:
            item_s = short[d - 1]
            if item_s == item_l:
                overlap += 1
            else:
                overlap += (item_s in seen_long) + (item_l in seen_short)
            seen_short.add(item_s)
        else:
            overlap += item_l in seen_short
        seen_long.add(item_l)
        x[d] = overlap
    total = sum(x[d] / d * p**d for d in range(1, l + 1))
    total += sum(x[s] * (d - s) / (s * d) * p**d for d in range(s + 1, l + 1))
    return (1 - p) / p * total + ((x[l] - x[s]) / l + x[s] / s) * p**l


def mean_pairwise(lists: Sequence[Ranking], measure: Callable[[Ranking, Ranking], float]) -> float | None:
    """Mean of ``measure`` over all unordered pairs of ``lists`` (None: fewer than two lists)."""
    values = [measure(a, b) for a, b in itertools.combinations(lists, 2)]
    return sum(values) / len(values) if values else None
