"""Late fusion: weighted reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009), pure numpy.

    RRF(i) = sum_e weight_e / (k + rank_e(i))      1-based ranks, k = 60 by default

An item missing from an engine's list contributes nothing from that engine. The paper (UMAP'23)
fuses LDA and ResNet in two modes, which differ only in the lists handed in here:

* partial: each engine's top-r list (r = n unless configured), so an item ranked just below r by
  one engine gets nothing from it, however high it is elsewhere;
* total: each engine's full ranking of the same candidate set, so every item gets a term from
  every engine.

Items are painting primary keys, which is what makes rankings from engines with different
artefacts (different row orders, different coverage) comparable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from recsys.algorithms.scoring import rank_all

DEFAULT_K = 60
#: first depth of ``fuse_top_n`` in units of k + n (blocks of ~550 entries for k = 60, n = 9)
FIRST_DEPTH = 8


@dataclass(frozen=True, slots=True)
class FusedRanking:
    """Every item of any input list, best first (RRF score descending, then key ascending)."""

    keys: np.ndarray  # int64 painting pks
    scores: np.ndarray  # float64 RRF scores, same order
    ranks: dict[str, np.ndarray]  # engine -> int64 1-based rank of each key in its list, 0 = absent

    def engine_ranks(self, position: int) -> dict[str, int | None]:
        """Each engine's 1-based rank of the item at ``position`` (None: not in its list)."""
        return {engine: (int(r[position]) or None) for engine, r in self.ranks.items()}


def reciprocal_rank_fusion(
    lists: Mapping[str, np.ndarray], *, weights: Mapping[str, float], k: float = DEFAULT_K
) -> FusedRanking:
    """Fuse each engine's ranked list of unique keys (best first) into one ranking.

    ``weights`` must name every engine in ``lists``; ``k`` dampens the advantage of the very
    top ranks (Cormack et al. found 60 robust).
    """
    if k < 0:
        raise ValueError("k must be non-negative")
    missing = set(lists) - set(weights)
    if missing:
        raise ValueError(f"no weight for engine(s) {', '.join(sorted(missing))}")
    arrays = {engine: np.asarray(keys, dtype=np.int64) for engine, keys in lists.items()}
    if not arrays:
        return FusedRanking(keys=np.empty(0, np.int64), scores=np.empty(0), ranks={})
    # One sort of all (key, engine, rank) entries groups equal keys: `slot` is each entry's
    # position in the union of keys, scores add up per slot with one bincount. Within a key the
    # terms are added smallest first, so two items with the same terms from different engines
    # (ranks 1, 2, 7 and 7, 1, 2) get bit-identical sums: float addition is not associative, and
    # summing in engine order would break such exact ties by rounding instead of by key.
    positions = {engine: np.arange(1, a.shape[0] + 1) for engine, a in arrays.items()}
    keys = np.concatenate(list(arrays.values()))
    terms = np.concatenate([float(weights[e]) / (k + positions[e]) for e in arrays])
    by_key = np.lexsort((terms, keys))
    sorted_keys = keys[by_key]
    first = np.empty(sorted_keys.shape[0], dtype=bool)
    first[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
    slot = np.empty_like(by_key)
    slot[by_key] = np.cumsum(first) - 1
    union = sorted_keys[first]
    scores = np.bincount(slot[by_key], weights=terms[by_key], minlength=union.shape[0])
    ranks: dict[str, np.ndarray] = {}
    start = 0
    for engine, ranked in positions.items():
        rank = np.zeros(union.shape[0], dtype=np.int64)
        rank[slot[start : start + ranked.shape[0]]] = ranked
        ranks[engine] = rank
        start += ranked.shape[0]
    order = rank_all(scores, union)
    return FusedRanking(
        keys=union[order],
        scores=scores[order],
        ranks={engine: rank[order] for engine, rank in ranks.items()},
    )


def fuse_top_n(
    scored: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    weights: Mapping[str, float],
    n: int,
    k: float = DEFAULT_K,
) -> FusedRanking:
    """The first ``n`` items of ``reciprocal_rank_fusion`` over every engine's *full* ranking
    (late fusion, total mode), without sorting any full ranking.

    ``scored`` maps engine -> (keys, scores): unique painting pks and their eq.-1 scores, in any
    order; an engine's ranking is score descending, then key ascending (``rank_all``). The
    result equals, bit for bit, ranking each list with ``rank_all``, fusing the rankings with
    ``reciprocal_rank_fusion`` and keeping the first ``n`` entries.

    Threshold algorithm (Fagin, Lotem & Naor 2003) on ranks. For a depth b, engine e's block
    B_e holds its entries scoring at least its b-th best score (``np.partition``, O(m); ties at
    the boundary all kept), ranked exactly by sorting the block alone. An item outside every
    block has at least |B_e| entries strictly above it in each engine, so

        RRF(i) <= bound(b) = sum_e w_e / (k + |B_e| + 1)     (engines not wholly in their block)

    Candidates C = union_e B_e. A candidate's terms from engines whose block misses it are
    unknown but lie in [0, w_e / (k + |B_e| + 1)], which gives a lower and an upper bound on its
    score; a candidate whose upper bound is below the n-th best lower bound cannot reach the top
    n (no random access needed for it). The others get their missing ranks by counting, O(m):

        rank_e(i) = 1 + #{j : s_e(j) > s_e(i)} + #{j : s_e(j) = s_e(i), key_j < key_i}

    When the n-th best exact score s_n is above bound(b), no item outside C can reach the top n.
    Otherwise the depth grows to the smallest b with bound(b) < s_n (s_n only rises with b, so
    one more round normally suffices): b ~ sum_e w_e / s_n - k, about k + 2n for two unrelated
    engines of equal weight. Scores must be finite, weights non-negative. Every sum adds its
    terms smallest first like ``reciprocal_rank_fusion`` (float addition is monotone, so the
    bounds hold for the rounded sums too).
    """
    if k < 0:
        raise ValueError("k must be non-negative")
    missing = set(scored) - set(weights)
    if missing:
        raise ValueError(f"no weight for engine(s) {', '.join(sorted(missing))}")
    if any(float(weights[engine]) < 0 for engine in scored):
        raise ValueError("weights must be non-negative")
    lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for engine, (keys, scores) in scored.items():
        keys, scores = np.asarray(keys, dtype=np.int64), np.asarray(scores, dtype=np.float64)
        if keys.ndim != 1 or keys.shape != scores.shape:
            raise ValueError(f"{engine}: keys and scores must be 1-d arrays of the same length")
        lists[engine] = (keys, scores)
    n = max(int(n), 0)
    longest = max((keys.size for keys, _ in lists.values()), default=0)
    weight_sum = sum(float(weights[engine]) for engine in lists)
    # A deep first block costs one partition like a shallow one, and a small `cap` prunes
    # most candidates before any counting; one round then normally suffices.
    depth = min(longest, max(n, 1, int(FIRST_DEPTH * (k + n))))
    counted: dict[str, dict[int, int]] = {engine: {} for engine in lists}  # exact ranks found so far
    while True:
        blocks = {
            engine: keys[_ranked_block(keys, scores, depth)] for engine, (keys, scores) in lists.items()
        }
        candidates = np.unique(np.concatenate(list(blocks.values()))) if blocks else np.empty(0, np.int64)
        # outside engine e's block an item ranks below it: its term is at most `cap[e]`
        beyond = {engine: blocks[engine].size < keys.size for engine, (keys, _) in lists.items()}
        cap = {e: float(weights[e]) / (k + blocks[e].size + 1) if beyond[e] else 0.0 for e in lists}
        ranks = {engine: _block_ranks(blocks[engine], candidates) for engine in lists}
        lower, upper = np.zeros(candidates.size), np.zeros(candidates.size)
        for engine, rank in ranks.items():
            term = _terms(rank, float(weights[engine]), k)
            lower += term
            upper += np.where(rank > 0, term, cap[engine])
        floor = np.partition(lower, lower.size - n)[lower.size - n] if 0 < n <= lower.size else 0.0
        alive = np.flatnonzero(upper >= floor)
        keys_alive = candidates[alive]
        terms = np.empty((len(lists), alive.size))
        for row, (engine, (keys, scores)) in enumerate(lists.items()):
            rank = ranks[engine][alive]
            if beyond[engine]:
                unknown = rank == 0
                rank[unknown] = _ranks_by_counting(keys, scores, keys_alive[unknown], counted[engine])
            ranks[engine] = rank
            terms[row] = _terms(rank, float(weights[engine]), k)
        # smallest term first, as ``reciprocal_rank_fusion`` adds them (absent ones are 0 and add
        # nothing), so both give bit-identical sums and break exact ties the same way
        terms.sort(axis=0)
        fused = np.zeros(alive.size)
        for row in terms:
            fused += row
        order = rank_all(fused, keys_alive)[:n]
        nth = fused[order[-1]] if n > 0 and order.size == n else 0.0
        bound = sum(cap.values())
        # the margin covers rounding of the sums (a few ulps)
        if not any(beyond.values()) or n == 0 or nth > bound * (1 + 1e-9):
            return FusedRanking(
                keys=keys_alive[order],
                scores=fused[order],
                ranks={engine: rank[order] for engine, rank in ranks.items()},
            )
        needed = weight_sum * (1 + 1e-8) / nth - k if nth > 0 else 2.0 * depth
        depth = min(longest, max(depth + 1, int(min(np.ceil(needed), longest))))


def _terms(rank: np.ndarray, weight: float, k: float) -> np.ndarray:
    """w / (k + rank) where the rank is known (> 0), else 0, as ``reciprocal_rank_fusion`` computes it."""
    term = np.zeros(rank.shape[0])
    known = rank > 0
    term[known] = weight / (k + rank[known])
    return term


def _ranked_block(keys: np.ndarray, scores: np.ndarray, depth: int) -> np.ndarray:
    """Positions of the entries scoring at least the ``depth``-th best score (all ties kept),
    best first (score descending, then key ascending): their 1-based ranks are 1, 2, ..."""
    size = scores.shape[0]
    if depth >= size:
        block = np.arange(size)
    else:
        threshold = np.partition(scores, size - depth)[size - depth]
        block = np.flatnonzero(scores >= threshold)
    return block[rank_all(scores[block], keys[block])]


def _block_ranks(block_keys: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Each sorted candidate's rank in the ranked block (0: not in it)."""
    rank = np.zeros(candidates.shape[0], dtype=np.int64)
    rank[np.searchsorted(candidates, block_keys)] = np.arange(1, block_keys.shape[0] + 1)
    return rank


def _ranks_by_counting(
    keys: np.ndarray, scores: np.ndarray, probes: np.ndarray, counted: dict[int, int]
) -> np.ndarray:
    """1-based rank (score descending, then key ascending) of each of the sorted ``probes`` in
    the whole list, by counting the entries ahead of it (O(m) each); 0 for a probe the list
    lacks. ``counted`` (key -> rank) remembers them across rounds."""
    todo = np.array([key for key in probes.tolist() if key not in counted], dtype=np.int64)
    if todo.size:
        counted.update(dict.fromkeys(todo.tolist(), 0))
        for position in np.flatnonzero(np.isin(keys, todo)).tolist():
            value, key = scores[position], int(keys[position])
            ahead = np.count_nonzero(scores > value)
            tied = scores == value
            if np.count_nonzero(tied) > 1:
                ahead += np.count_nonzero(keys[tied] < key)
            counted[key] = 1 + int(ahead)
    return np.array([counted[key] for key in probes.tolist()], dtype=np.int64)
