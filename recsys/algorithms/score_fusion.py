"""Weighted score fusion that survives a missing modality (the lost-art retrieval paper), pure numpy.

Late fusion by scores, not ranks (``recsys.algorithms.fusion`` is the rank-based RRF). Each engine e scores
the paintings its artefact represents (s_e(i): eq. 1 under that engine, a weighted mean of
cosines); with engine weights w_e > 0 and E(i) the engines that represent painting i,

    S(i) = sum_{e in E(i)} w_e * s_e(i)  /  sum_{e in E(i)} w_e

For an image and a text engine with weights beta and 1 - beta that is the paper's

    S = beta * S_image + (1 - beta) * S_text

for a painting that has both, S = S_text for one without an image and S = S_image for one
without a text: the weights are renormalised over the modalities present, so a missing one
neither zeroes nor halves a painting's score. Weights need not add up to 1 (only their ratios
matter). Paintings are keyed by primary key, so engines with different coverage and row order
fuse exactly; ties: fused score descending, then key ascending, as everywhere.

Worked example (weights image 0.25, text 0.75): painting 1 scores 0.8 (image) and 0.4 (text),
S = 0.25 * 0.8 + 0.75 * 0.4 = 0.5; painting 2 has no image and text 0.6: S = 0.6; painting 3
has no text and image 0.9: S = 0.9. Order: 3, 2, 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from recsys.algorithms.scoring import top_n


@dataclass(frozen=True, slots=True)
class FusedScores:
    """The best paintings by fused score, best first."""

    keys: np.ndarray  # int64 painting pks
    scores: np.ndarray  # float64 S(i), same order
    parts: dict[str, np.ndarray]  # engine -> s_e(i) of each key (NaN: the engine lacks it)

    def engine_scores(self, position: int) -> dict[str, float | None]:
        """Each engine's own score of the item at ``position`` (None: not represented)."""
        out: dict[str, float | None] = {}
        for engine, part in self.parts.items():
            value = float(part[position])
            out[engine] = None if np.isnan(value) else value
        return out


def fused_union(
    scored: Mapping[str, tuple[np.ndarray, np.ndarray]], *, weights: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(union of the keys, ascending; S of each), unranked: what ``score_fusion`` ranks.

    Fusing upper bounds of the engines' scores gives an upper bound of S (positive weights), which
    ``recsys.algorithms.bounded`` ranks by before computing S near the top only."""
    arrays = {
        engine: (np.asarray(keys, dtype=np.int64), np.asarray(scores, dtype=np.float64))
        for engine, (keys, scores) in scored.items()
    }
    if not any(keys.size for keys, _ in arrays.values()):
        return np.empty(0, np.int64), np.empty(0)
    union, _, fused = _fuse(arrays, weights)
    return union, fused


def fuse_rows(parts: Mapping[str, np.ndarray], *, weights: Mapping[str, float]) -> np.ndarray:
    """S for aligned rows: ``parts`` maps engine -> its scores of the same keys (NaN: the engine
    lacks that key; every key has at least one engine)."""
    total = weight_sum = 0.0
    for engine, part in parts.items():
        present = ~np.isnan(part)
        total = total + np.where(present, float(weights[engine]) * part, 0.0)
        weight_sum = weight_sum + present * float(weights[engine])
    return np.asarray(total / weight_sum, dtype=np.float64)


def _fuse(
    arrays: Mapping[str, tuple[np.ndarray, np.ndarray]], weights: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    all_keys = np.concatenate([keys for keys, _ in arrays.values()])
    union, slot = np.unique(all_keys, return_inverse=True)
    weighted = np.concatenate([float(weights[e]) * scores for e, (_, scores) in arrays.items()])
    present = np.concatenate([np.full(keys.size, float(weights[e])) for e, (keys, _) in arrays.items()])
    total = np.bincount(slot, weights=weighted, minlength=union.size)
    weight_sum = np.bincount(slot, weights=present, minlength=union.size)
    return union, slot, total / weight_sum


def score_fusion(
    scored: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    weights: Mapping[str, float],
    n: int | None = None,
) -> FusedScores:
    """The ``n`` best (None: all) of the union of every engine's scored keys by S(i) above.

    ``scored`` maps engine -> (keys, scores): unique painting pks and that engine's finite
    scores of them; ``weights`` must give every engine a positive weight."""
    missing = set(scored) - set(weights)
    if missing:
        raise ValueError(f"no weight for engine(s) {', '.join(sorted(missing))}")
    if any(not float(weights[engine]) > 0 for engine in scored):
        raise ValueError("weights must be positive")
    arrays = {
        engine: (np.asarray(keys, dtype=np.int64), np.asarray(scores, dtype=np.float64))
        for engine, (keys, scores) in scored.items()
    }
    for engine, (keys, scores) in arrays.items():
        if keys.ndim != 1 or keys.shape != scores.shape:
            raise ValueError(f"{engine}: keys and scores must be 1-d arrays of the same length")
    if not arrays or not any(keys.size for keys, _ in arrays.values()):
        return FusedScores(np.empty(0, np.int64), np.empty(0), {engine: np.empty(0) for engine in arrays})
    union, slot, fused = _fuse(arrays, weights)
    order = top_n(fused, union, union.size if n is None else int(n))
    parts: dict[str, np.ndarray] = {}
    start = 0
    for engine, (keys, scores) in arrays.items():
        part = np.full(union.size, np.nan)
        part[slot[start : start + keys.size]] = scores
        parts[engine] = part[order]
        start += keys.size
    return FusedScores(keys=union[order], scores=fused[order], parts=parts)
