"""Eq. 1 of Yilma & Leiva (UMAP 2023) on an artefact's unit-norm embeddings, in pure numpy.

    S_u(i) = 1/n * sum_j w_j * A_ij        over the user's n rated paintings j

with A = E @ E.T the engine's cosine similarity (``recsys.artefacts``: rows of E are unit
vectors). Because A is a Gram matrix the sum collapses into one matrix-vector product,
``E @ (sum_j w_j e_j) / n``: O(m*d) per request and never an m x m matrix. When the artefact also
holds the dense A and the user rated fewer paintings than E has dimensions, reading the n rated
rows of A is cheaper still (O(n*m)); both give the same numbers up to float rounding.

Weights (``rating_weights``; the served default ``demote`` is not eq. 1 but
``recsys.algorithms.demote``, where a dislike can only push down what is near it):

* ``centered`` (default): ``w = (r - 3) / 2`` in [-1, 1]. A 5 pulls similar paintings up, a 1
  pushes them down, a 3 is neutral. The paper's research code instead gives every dislike
  weight 0, so a 1-star rating could never move anything down.
* ``minmax``: exactly the paper's min-max normalisation over the user's own ratings,
  ``w = (r - min r) / (max r - min r)``. When every rating is equal that formula is 0/0 (the
  paper's code yields NaN/zero scores); only in that degenerate case we fall back to
  ``centered``, which is the one place this mode departs from the paper.
* ``equal``: never requested, only applied. When every weight is 0 (all ratings are 3), eq. 1
  scores every painting 0; instead of an arbitrary order we rank by the unweighted mean
  similarity to the rated paintings (w_j = 1): "what is close to what you looked at".

Ties are always broken the same way: score descending, then painting primary key ascending.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CENTERED = "centered"
MINMAX = "minmax"
EQUAL = "equal"
#: likes pull, dislikes only push down (not eq. 1: ``recsys.algorithms.demote``), the default
DEMOTE = "demote"
#: the weightings a caller may ask for (``EQUAL`` is only ever applied as a fallback)
WEIGHTINGS = (DEMOTE, CENTERED, MINMAX)

# Ratings are whole numbers 1..5 (users.models.RATING_MIN/RATING_MAX): 3 is neutral.
RATING_MIDPOINT = 3.0
RATING_HALF_RANGE = 2.0


@dataclass(frozen=True, slots=True)
class Weights:
    """The weights w_j actually used and the scheme that produced them."""

    values: np.ndarray  # float64 (n,)
    scheme: str  # CENTERED, MINMAX or EQUAL


def rating_weights(ratings: np.ndarray, *, weighting: str) -> Weights:
    """Weights w_j for ratings r_j under ``weighting`` (see the module docstring for fallbacks)."""
    r = np.asarray(ratings, dtype=np.float64)
    if r.ndim != 1 or r.size == 0:
        raise ValueError("ratings must be a non-empty 1-d array")
    if weighting == MINMAX:
        low, high = r.min(), r.max()
        if high > low:
            return Weights((r - low) / (high - low), MINMAX)
    elif weighting != CENTERED:
        raise ValueError(f"Unknown weighting {weighting!r}; expected one of {', '.join(WEIGHTINGS)}.")
    weights = (r - RATING_MIDPOINT) / RATING_HALF_RANGE
    if np.any(weights != 0.0):
        return Weights(weights, CENTERED)
    return Weights(np.ones_like(r), EQUAL)


def _dense_is_cheaper(similarity: np.ndarray | None, n_rated: int, dim: int) -> bool:
    """Read n rows of the dense A (O(n*m)) instead of multiplying E (O(m*d)) when n < d."""
    return similarity is not None and n_rated < dim


def eq1_scores(
    *,
    embeddings: np.ndarray,
    rated_rows: np.ndarray,
    weights: np.ndarray,
    similarity: np.ndarray | None = None,
) -> np.ndarray:
    """S(i) = 1/n * sum_j w_j * A_ij for every row i of the artefact (float64, shape (m,))."""
    rated_rows = np.asarray(rated_rows, dtype=np.intp)
    weights = np.asarray(weights, dtype=np.float64)
    n = rated_rows.shape[0]
    if n == 0 or weights.shape != (n,):
        raise ValueError("need one weight per rated row and at least one rated row")
    if _dense_is_cheaper(similarity, n, embeddings.shape[1]):
        rows = np.asarray(similarity[rated_rows], dtype=np.float64)  # (n, m)
        return (weights @ rows) / n
    profile = (weights @ np.asarray(embeddings[rated_rows], dtype=np.float64)) / n  # (d,)
    return np.asarray(embeddings @ profile.astype(embeddings.dtype, copy=False), dtype=np.float64)


def similarity_block(
    *,
    embeddings: np.ndarray,
    item_rows: np.ndarray,
    rated_rows: np.ndarray,
    similarity: np.ndarray | None = None,
) -> np.ndarray:
    """A_ij for the given items (rows) and rated paintings (columns), from the same source as
    ``eq1_scores`` so that an item's contributions add up to its score."""
    item_rows = np.asarray(item_rows, dtype=np.intp)
    rated_rows = np.asarray(rated_rows, dtype=np.intp)
    if _dense_is_cheaper(similarity, rated_rows.shape[0], embeddings.shape[1]):
        return np.asarray(similarity[item_rows][:, rated_rows], dtype=np.float64)
    items = np.asarray(embeddings[item_rows], dtype=np.float64)
    rated = np.asarray(embeddings[rated_rows], dtype=np.float64)
    return items @ rated.T


def contributions(similarities: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """w_j * A_ij / n for a block of similarities (items x n rated); rows sum to the scores."""
    n = similarities.shape[1]
    return similarities * np.asarray(weights, dtype=np.float64)[np.newaxis, :] / n


def top_contributors(contribution_block: np.ndarray, top: int) -> np.ndarray:
    """Column indices of the ``top`` largest |contributions| per row, largest first.

    Ties keep column order (stable sort), so callers pass the rated paintings sorted by pk.
    """
    order = np.argsort(-np.abs(contribution_block), axis=1, kind="stable")
    return order[:, :top]


def top_n(scores: np.ndarray, keys: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` best entries: score descending, then key (pk) ascending.

    ``np.partition`` finds the n-th best score in O(m); every entry scoring at least that much
    (so all ties at the boundary, not an arbitrary subset of them) is then sorted by
    (score, key), and the first n are kept: the result does not depend on memory order.
    """
    size = scores.shape[0]
    if n <= 0 or size == 0:
        return np.empty(0, dtype=np.intp)
    if n < size:
        threshold = np.partition(scores, size - n)[size - n]
        pool = np.flatnonzero(scores >= threshold)
    else:
        pool = np.arange(size)
    order = np.lexsort((keys[pool], -scores[pool]))
    return pool[order[:n]]


def rank_all(scores: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Every position, best first: score descending, then key ascending."""
    return np.lexsort((keys, -scores))
