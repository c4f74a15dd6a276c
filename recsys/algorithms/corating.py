"""Item-item co-rating: paintings liked by the same visitors (numpy and scipy.sparse only).

From the visitors' histories (row index -> rating 1..5), each painting i gets a "liked by" vector
over the visitors, L[v, i] = max(0, (r_vi - 3) / 2) (0.5 for a 4, 1 for a 5, 0 otherwise), and

    C_ij = (L[:, i] . L[:, j]) / (||L[:, i]|| * ||L[:, j]||)     i != j; C_ii = 0

the cosine between two paintings' liked-by vectors (0 for a painting nobody liked). A visitor
with ratings r_j (targets y_j = (r_j - 3) / 2, as the learned model's) scores

    co(i) = sum_j y_j C_ij

"people who liked what you liked also liked i", minus the same for what you disliked. It knows
nothing about a painting no one has liked yet, so it is fused with a content score rather than
used alone (``fused``): s(i) / std(s) + beta * co(i) / max |co|.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse


def corating_matrix(histories: Sequence[Mapping[int, int]], m: int) -> sparse.csr_matrix:
    """C (m x m, sparse, float64) from the histories (see the module docstring)."""
    rows, cols, vals = [], [], []
    for v, history in enumerate(histories):
        for row, rating in history.items():
            if rating > 3:
                rows.append(v)
                cols.append(int(row))
                vals.append((rating - 3) / 2)
    liked = sparse.csr_matrix((vals, (rows, cols)), shape=(len(histories), m))
    norms = np.sqrt(np.asarray(liked.multiply(liked).sum(axis=0)).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    scaled = liked @ sparse.diags(inverse)
    gram = (scaled.T @ scaled).tocsr()
    gram.setdiag(0.0)
    gram.eliminate_zeros()
    return gram


def corating_scores(matrix: sparse.csr_matrix, ratings: Mapping[int, int]) -> np.ndarray:
    """co(i) = sum_j y_j C_ij for a visitor's ratings (row index -> 1..5), float64 (m,)."""
    y = np.zeros(matrix.shape[0])
    for row, rating in ratings.items():
        y[int(row)] = (rating - 3) / 2
    return np.asarray(matrix @ y).ravel()


def fused(content: np.ndarray, co: np.ndarray, beta: float) -> np.ndarray:
    """content / std(content) + beta * co / max |co| (either term 0 where it has no spread)."""
    spread = float(np.std(content))
    top = float(np.max(np.abs(co))) if co.size else 0.0
    out = content / spread if spread > 0 else np.zeros_like(content)
    return out + (beta * co / top if top > 0 else 0.0)
