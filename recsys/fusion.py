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

from recsys.scoring import rank_all

DEFAULT_K = 60


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
