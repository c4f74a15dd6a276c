"""The exact top n of a score known only through a cheap upper bound, pure numpy (``bounded_top_n``),
and late fusion's total mode from exact prefixes of each engine's ranking (``bounded_rrf``).

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
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from recsys.algorithms.fusion import DEFAULT_K, FusedRanking, reciprocal_rank_fusion
from recsys.algorithms.scoring import top_n

#: the first pool: this many times n (at least ``MIN_POOL``) entries by bound
POOL_FACTOR = 8
MIN_POOL = 64
GROWTH = 4
#: a prefix of c entries (``bounded_rrf``) starts from a pool of this many times c
PREFIX_POOL = 2


def bounded_top_n(
    *,
    bound: np.ndarray,
    keys: np.ndarray,
    n: int,
    exact: Callable[[np.ndarray], np.ndarray],
    pool: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, exact scores) of the ``n`` best entries by exact score, best first.

    ``bound`` (m,) is an upper bound of the exact score of every entry, ``keys`` (m,) break ties
    (ascending), ``exact(positions)`` returns the exact scores of those positions (float, same
    length). ``pool`` is the first K (default max(MIN_POOL, POOL_FACTOR * n)).
    """
    bound = np.asarray(bound, dtype=np.float64)
    size = bound.shape[0]
    if n <= 0 or size == 0:
        return np.empty(0, dtype=np.intp), np.empty(0)
    k = max(n, pool if pool is not None else max(MIN_POOL, POOL_FACTOR * n))
    while True:
        if k >= size:
            positions = np.arange(size)
            outside = -np.inf
        else:
            split = np.argpartition(bound, size - k - 1)  # [size - k:] hold k largest bounds
            positions = np.sort(split[size - k :])
            outside = float(bound[split[size - k - 1]])
        scores = np.asarray(exact(positions), dtype=np.float64)
        best = top_n(scores, keys[positions], n)
        if k >= size or (best.size == n and scores[best[-1]] > outside):
            return positions[best], scores[best]
        k *= GROWTH


@dataclass(frozen=True, slots=True)
class BoundedList:
    """One engine's candidates for ``bounded_rrf``: keys, an upper bound of each one's exact
    score, and ``exact(positions)`` (as for ``bounded_top_n``)."""

    keys: np.ndarray
    bound: np.ndarray
    exact: Callable[[np.ndarray], np.ndarray]


def bounded_rrf(
    lists: Mapping[str, BoundedList],
    *,
    weights: Mapping[str, float],
    n: int,
    k: float = DEFAULT_K,
    rounds: int | None = None,
) -> FusedRanking | None:
    """The first ``n`` of ``recsys.algorithms.fusion.reciprocal_rank_fusion`` over every engine's
    *full* ranking of its candidates (late fusion, total mode), from exact prefixes only.

    Each engine e contributes its exact top c_e (``bounded_top_n``: ranks 1..c_e exact). An item
    of e's candidates outside that prefix ranks below c_e, so its term from e is at most
    cap_e = w_e / (k + c_e + 1) (0 once the prefix is the whole list). An item is *settled* when
    every engine holding it has it in its prefix: its RRF score is exact. Another item's score is
    at most its known terms plus the caps of the engines that hold it but not in their prefix,
    and an item in no prefix scores at most sum_e cap_e. When the n-th best settled score is
    above every such bound, the n best settled items are the first n of the full fusion (the
    same terms, summed in the same order: bit for bit); else every prefix grows 4-fold (up to
    the whole list, where everything is settled). With ``rounds``, None after that many prefixes
    certified nothing: the caller ranks every item instead (``fusion.fuse_top_n``), cheaper than
    deep prefixes when the engines disagree that much.
    """
    n = max(int(n), 0)
    if n == 0 or not lists:
        return FusedRanking(
            keys=np.empty(0, np.int64), scores=np.empty(0), ranks={e: np.empty(0, np.int64) for e in lists}
        )
    depth = {engine: min(lst.keys.size, max(MIN_POOL, POOL_FACTOR * n)) for engine, lst in lists.items()}
    for _ in itertools.count() if rounds is None else range(rounds):
        prefixes = {}
        for engine, lst in lists.items():
            positions, _ = prefix(lst, depth[engine])
            prefixes[engine] = lst.keys[positions]
        fused = reciprocal_rank_fusion(prefixes, weights=weights, k=k)
        cap = {
            e: 0.0 if depth[e] >= lst.keys.size else float(weights[e]) / (k + depth[e] + 1)
            for e, lst in lists.items()
        }
        upper = fused.scores.copy()
        settled = np.ones(fused.keys.size, dtype=bool)
        for engine, lst in lists.items():
            unranked = fused.ranks[engine] == 0
            if cap[engine] > 0 and unranked.any():
                held = np.zeros(fused.keys.size, dtype=bool)
                held[unranked] = np.isin(fused.keys[unranked], lst.keys, assume_unique=True)
                upper[held] += cap[engine]
                settled &= ~held
        chosen = np.flatnonzero(settled)[:n]
        outside = max([sum(cap.values()), *upper[~settled].tolist()])
        done = all(depth[e] >= lst.keys.size for e, lst in lists.items())
        if done or (chosen.size == n and fused.scores[chosen[-1]] > outside):
            return FusedRanking(
                keys=fused.keys[chosen],
                scores=fused.scores[chosen],
                ranks={engine: rank[chosen] for engine, rank in fused.ranks.items()},
            )
        depth = {e: min(lst.keys.size, depth[e] * GROWTH) for e, lst in lists.items()}
    return None


def prefix(lst: BoundedList, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, exact scores) of ``lst``'s first ``depth`` (first pool: twice as many)."""
    return bounded_top_n(bound=lst.bound, keys=lst.keys, n=depth, exact=lst.exact, pool=PREFIX_POOL * depth)
