"""Likes pull, dislikes only push down: the served recommenders' scoring, in pure numpy.

Eq. 1 with centred weights (``recsys.algorithms.scoring``) adds ``w_j * A_ij`` with ``w_j < 0`` for a
dislike. Text and image cosines are mostly positive, so with few likes and many dislikes almost
every painting scores below zero and a painting far from *everything* rated (A_ij ~ 0: a rug, a
table) rises to the top for being far from the dislikes. Here a dislike can only lower the
score of what is near it, never lift anything:

    liked     P = {j : r_j > 3},  u_j = (r_j - 3) / 2   (4 -> 0.5, 5 -> 1)
    disliked  N = {j : r_j < 3},  v_j = (3 - r_j) / 2   (2 -> 0.5, 1 -> 1)

    L(i) = sum_{j in P} u_j * A_ij / sum_{j in P} u_j       pull: weighted mean similarity to the likes
    D(i) = max_{j in N} v_j * A_ij                           the nearest (weighted) dislike; 0 if N is empty
    S(i) = L(i) - gamma * max(0, D(i) - L(i))                gamma = GAMMA = 1

So S(i) <= L(i) for every painting (a dislike never promotes), S(i) = L(i) when the painting is at
least as close to the likes as to every dislike, and the push grows with how much closer it is to
a dislike. Ratings of 3 are neutral. When nobody was liked (no rating above 3) the pull falls
back to the unweighted mean similarity to the paintings rated 3, else to all rated paintings
("near what you looked at"; scheme ``demote-equal``), with the same push.

Explanations (``demote_contributions``): a liked j contributes ``u_j * A_ij / sum u``, the
nearest dislike contributes ``-gamma * max(0, D(i) - L(i))`` and the other dislikes 0, so an
item's contributions add up to S(i); a disliked painting only ever appears with a contribution
<= 0, as the reason something was pushed down.

Cost: L is one matrix-vector product with the profile sum_j u_j e_j (O(m*d)); D needs the
similarity columns of the disliked paintings only (O(m*d*|N|), or |N| rows of the dense A).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

DEMOTE = "demote"
DEMOTE_EQUAL = "demote-equal"  # applied when no rating is above 3
#: how hard a painting closer to a dislike than to the likes is pushed down. Swept on validation
#: visitors (MiniLM, sample, seed 1: 200 mixed + 100 few-likes), nDCG@9 for gamma 0 / 0.5 / 1 /
#: 2 / 4: 0.424 / 0.429 / 0.429 / 0.427 / 0.427; the push adds little there (those visitors'
#: dislikes lie in other story groups), and 1 keeps a painting nearer a dislike below the likes'
GAMMA = 1.0
RATING_MIDPOINT = 3.0
RATING_HALF_RANGE = 2.0


@dataclass(frozen=True, slots=True)
class DemoteWeights:
    """Per rated painting: its pull u_j / sum u (0 unless liked) and its push v_j (0 unless disliked)."""

    pull: np.ndarray  # float64 (n,), sums to 1
    push: np.ndarray  # float64 (n,), >= 0
    scheme: str  # DEMOTE or DEMOTE_EQUAL

    @property
    def signed(self) -> np.ndarray:
        """One number per rating for display/APIs: the pull of a like, minus the push of a dislike."""
        return self.pull - self.push

    def as_weights(self) -> Any:
        """``scoring.Weights`` (the signed values, this scheme) for code shared with eq. 1."""
        from recsys.algorithms.scoring import Weights

        return Weights(self.signed, self.scheme)

    def contributions(self, block: np.ndarray) -> np.ndarray:
        """``demote_contributions`` of a similarity block with these weights."""
        return demote_contributions(block, self)


def demote_weights(ratings: np.ndarray) -> DemoteWeights:
    """The pull and push weights of ratings 1..5 (see the module docstring for the fallback)."""
    r = np.asarray(ratings, dtype=np.float64)
    if r.ndim != 1 or r.size == 0:
        raise ValueError("ratings must be a non-empty 1-d array")
    pull = np.clip(r - RATING_MIDPOINT, 0.0, None) / RATING_HALF_RANGE
    push = np.clip(RATING_MIDPOINT - r, 0.0, None) / RATING_HALF_RANGE
    scheme = DEMOTE
    if not pull.any():
        scheme = DEMOTE_EQUAL
        neutral = r == RATING_MIDPOINT
        pull = neutral.astype(np.float64) if neutral.any() else np.ones_like(r)
    return DemoteWeights(pull / pull.sum(), push, scheme)


def _push_nearest(block: np.ndarray, push: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D(i), column of the nearest dislike or -1) from a similarity block (items x rated)."""
    m = block.shape[0]
    disliked = np.flatnonzero(push > 0)
    if disliked.size == 0:
        return np.zeros(m), np.full(m, -1, dtype=np.intp)
    weighted = block[:, disliked] * push[disliked][np.newaxis, :]
    nearest = np.argmax(weighted, axis=1)
    return weighted[np.arange(m), nearest], disliked[nearest]


def combine(pull_score: np.ndarray, nearest_dislike: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """S = L - gamma * max(0, D - L) (a painting with no dislike in play has D = 0)."""
    return pull_score - gamma * np.maximum(0.0, nearest_dislike - pull_score)


def scores_from_block(block: np.ndarray, weights: DemoteWeights, gamma: float = GAMMA) -> np.ndarray:
    """S(i) for the rows of a similarity block A (items x rated, columns in rating order)."""
    block = np.asarray(block, dtype=np.float64)
    pull = block @ weights.pull
    nearest, _ = _push_nearest(block, weights.push)
    return combine(pull, nearest, gamma)


def demote_contributions(block: np.ndarray, weights: DemoteWeights, gamma: float = GAMMA) -> np.ndarray:
    """Per item and rated painting its share of S(i) (rows add up to ``scores_from_block``)."""
    block = np.asarray(block, dtype=np.float64)
    out = block * weights.pull[np.newaxis, :]
    pull = out.sum(axis=1)
    nearest, column = _push_nearest(block, weights.push)
    penalty = gamma * np.maximum(0.0, nearest - pull)
    pushed = np.flatnonzero((column >= 0) & (penalty > 0))
    out[pushed, column[pushed]] -= penalty[pushed]
    return out


def demote_pull(
    *,
    embeddings: np.ndarray,
    rated_rows: np.ndarray,
    weights: DemoteWeights,
    similarity: np.ndarray | None = None,
) -> np.ndarray:
    """L(i) for every row of unit-norm ``embeddings`` (float64, (m,)): one product with the
    profile sum_j pull_j e_j (rows of the dense ``similarity`` when given and cheaper). S <= L:
    the bound ``recsys.algorithms.bounded`` ranks by before computing S near the top."""
    rated_rows = _checked_rows(rated_rows, weights)
    liked = np.flatnonzero(weights.pull > 0)
    if similarity is not None and liked.size < embeddings.shape[1]:
        return weights.pull[liked] @ np.asarray(similarity[rated_rows[liked]], dtype=np.float64)
    return pull_of(embeddings, pull_profile(embeddings=embeddings, rated_rows=rated_rows, weights=weights))


def pull_of(embeddings: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """L = E @ p for every row (float64), p from ``pull_profile``."""
    return np.asarray(embeddings @ profile, dtype=np.float64)


def pull_profile(*, embeddings: np.ndarray, rated_rows: np.ndarray, weights: DemoteWeights) -> np.ndarray:
    """The likes' profile p = sum_j pull_j e_j in the embeddings' dtype: L = E @ p, row by row
    or all at once (``demote_pull``)."""
    rated_rows = _checked_rows(rated_rows, weights)
    liked = np.flatnonzero(weights.pull > 0)
    profile = weights.pull[liked] @ np.asarray(embeddings[rated_rows[liked]], dtype=np.float64)
    return profile.astype(embeddings.dtype, copy=False)


def demote_scores_at(
    *,
    embeddings: np.ndarray,
    rows: np.ndarray | None,
    pull: np.ndarray | None,
    rated_rows: np.ndarray,
    weights: DemoteWeights,
    similarity: np.ndarray | None = None,
    gamma: float = GAMMA,
    profile: np.ndarray | None = None,
) -> np.ndarray:
    """S(i) for ``rows`` (None: every row) given their pull L(i) (``demote_pull`` at those rows;
    None: from the likes' ``profile`` (``pull_profile``) on the same gathered rows): D from the
    disliked paintings' columns only (rows of the dense ``similarity`` when given)."""
    rated_rows = _checked_rows(rated_rows, weights)
    disliked = np.flatnonzero(weights.push > 0)
    items = embeddings if rows is None else embeddings[rows]
    if pull is None:
        if profile is None:
            raise ValueError("need the pull or the likes' profile")
        pull = items @ profile
    if disliked.size == 0:
        return np.asarray(pull, dtype=np.float64)
    if similarity is not None and disliked.size < embeddings.shape[1]:
        dense = np.asarray(similarity[rated_rows[disliked]], dtype=np.float64)
        columns = (dense if rows is None else dense[:, rows]).T
    else:
        columns = np.asarray(items @ embeddings[rated_rows[disliked]].T, dtype=np.float64)
    nearest = (columns * weights.push[disliked][np.newaxis, :]).max(axis=1)
    return combine(np.asarray(pull, dtype=np.float64), nearest, gamma)


def demote_scores(
    *,
    embeddings: np.ndarray,
    rated_rows: np.ndarray,
    weights: DemoteWeights,
    similarity: np.ndarray | None = None,
    gamma: float = GAMMA,
) -> np.ndarray:
    """S(i) for every row of unit-norm ``embeddings`` (float64, (m,)), as ``scores_from_block``
    would give on the full block but without forming it: L from the profile sum_j pull_j e_j,
    D from the disliked paintings' columns only (rows of the dense ``similarity`` when given)."""
    pull = demote_pull(embeddings=embeddings, rated_rows=rated_rows, weights=weights, similarity=similarity)
    return demote_scores_at(
        embeddings=embeddings,
        rows=None,
        pull=pull,
        rated_rows=rated_rows,
        weights=weights,
        similarity=similarity,
        gamma=gamma,
    )


def _checked_rows(rated_rows: np.ndarray, weights: DemoteWeights) -> np.ndarray:
    rated_rows = np.asarray(rated_rows, dtype=np.intp)
    if rated_rows.shape != weights.pull.shape or rated_rows.size == 0:
        raise ValueError("need one weight per rated row and at least one rated row")
    return rated_rows
