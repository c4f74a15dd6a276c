"""The exact top n of a score known only through a cheap upper bound, pure numpy (``bounded_top_n``;
``prefix`` for an engine's first c, as late fusion's partial mode fuses them).

The served ``demote`` scoring (``recsys.algorithms.demote``) has a cheap bound: a painting's
score never exceeds its pull, S(i) <= L(i), and L for every painting is one matrix-vector
product with the likes' profile, while S also needs the similarity to every disliked painting
(a matrix product as wide as the dislikes, 3-4x the cost of L on the sample). So L ranks
everything and S is computed only for the paintings near the top:

    P_K   = the K entries with the largest bound U                 (any K of them at a tie)
    u_out = max_{i not in P_K} U(i)                                (the (K+1)-th largest bound)
    s_n   = the n-th largest exact S(i) over P_K

    if s_n > u_out: every i outside P_K has S(i) <= U(i) <= u_out < s_n, so the n best by
                    (S descending, key ascending) over all entries are the n best over P_K;
    else:           K grows 4-fold and again, up to every entry (then it is the full ranking).

Worked example: U = [0.9, 0.8, 0.7, 0.2], S = [0.1, 0.8, 0.6, 0.2], n = 1, K = 2: P = {0, 1},
u_out = 0.7, s_1 = 0.8 > 0.7, so entry 1 is the best, and only S(0), S(1) were computed. With
n = 2: s_2 = 0.1 <= 0.7, K = 4 (all): the two best are 1 and 2.

Exact, not approximate: the answer is the one ``scoring.top_n`` gives on S computed for every
entry (ties: score descending, then key ascending); the strict ``>`` keeps an outside entry
that could tie s_n (and win on its key) from being missed.

The bound is an array of every entry's U, or anything that names the K entries with the
largest U and u_out without one (a ``Bound``: ``recsys.algorithms.scan_codes`` reads them from
8-bit codes, a quarter of the bytes of the float32 product).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from recsys.algorithms.scoring import top_n

#: the first pool: this many times n (at least ``MIN_POOL``) entries by bound
POOL_FACTOR = 8
MIN_POOL = 64
GROWTH = 4
#: a prefix of c entries (``prefix``) starts from a pool of this many times c
PREFIX_POOL = 2


class Bound(Protocol):
    """An upper bound U of every entry's exact score, asked only for its largest values."""

    @property
    def size(self) -> int:
        """How many entries it bounds."""
        ...

    def largest(self, k: int) -> tuple[np.ndarray, float]:
        """(positions P of at least ``k`` entries with the largest U, ascending; u_out, the
        largest U of the entries outside P), for 0 < k < size."""
        ...


@dataclass(frozen=True, slots=True)
class ArrayBound:
    """Every entry's U in one array (``Bound``)."""

    values: np.ndarray

    @property
    def size(self) -> int:
        return int(self.values.shape[0])

    def largest(self, k: int) -> tuple[np.ndarray, float]:
        split = np.argpartition(self.values, self.size - k - 1)  # [size - k:] hold k largest bounds
        return np.sort(split[self.size - k :]), float(self.values[split[self.size - k - 1]])


def bounded_top_n(
    *,
    bound: np.ndarray | Bound,
    keys: np.ndarray,
    n: int,
    exact: Callable[[np.ndarray], np.ndarray],
    pool: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, exact scores) of the ``n`` best entries by exact score, best first.

    ``bound`` (m,) is an upper bound of the exact score of every entry (or a ``Bound``), ``keys``
    (m,) break ties (ascending), ``exact(positions)`` returns the exact scores of those positions
    (float, same length). ``pool`` is the first K (default max(MIN_POOL, POOL_FACTOR * n)).
    """
    if isinstance(bound, np.ndarray):
        bound = ArrayBound(bound.astype(np.float64, copy=False))
    size = bound.size
    if n <= 0 or size == 0:
        return np.empty(0, dtype=np.intp), np.empty(0)
    k = max(n, pool if pool is not None else max(MIN_POOL, POOL_FACTOR * n))
    while True:
        if k >= size:
            positions, outside = np.arange(size), -np.inf
        else:
            positions, outside = bound.largest(k)
            k = max(k, positions.size)
        scores = np.asarray(exact(positions), dtype=np.float64)
        best = top_n(scores, keys[positions], n)
        if k >= size or (best.size == n and scores[best[-1]] > outside):
            return positions[best], scores[best]
        k *= GROWTH


@dataclass(frozen=True, slots=True)
class BoundedList:
    """One engine's candidates: keys, an upper bound of each one's exact score (an array, or a
    ``Bound``), and ``exact(positions)`` (as for ``bounded_top_n``)."""

    keys: np.ndarray
    bound: np.ndarray | Bound
    exact: Callable[[np.ndarray], np.ndarray]


def prefix(lst: BoundedList, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, exact scores) of ``lst``'s first ``depth`` (first pool: twice as many)."""
    return bounded_top_n(bound=lst.bound, keys=lst.keys, n=depth, exact=lst.exact, pool=PREFIX_POOL * depth)
