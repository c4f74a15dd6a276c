"""Vector maths of the artefacts: unit rows, the cosine matrix and each row's nearest neighbours.

Pure numpy, no Django. With ``e_i`` a row of the embedding matrix ``E`` (m x d):

* ``l2_normalise``: ``u_i = e_i / ||e_i||_2``; a row that is not finite or has ``||e_i|| <= 1e-12``
  has no direction and is reported in the mask (set to 0 here, dropped by the caller).
* ``dense_similarity``: ``A = U U^T``, so ``A_ij = cos(e_i, e_j)``, clipped to ``[-1, 1]``, made
  exactly symmetric (``A_ij = A_ji`` bit for bit) with ``A_ii = 1``.
* ``top_k_neighbours``: for each row ``i`` the ``k`` columns ``j != i`` with the largest ``A_ij``,
  best first; among equal similarities the lower index comes first. ``k`` is capped at ``m - 1``.

Both the matrix and the neighbours are computed in row blocks of at most ``BLOCK_ELEMENTS``
similarities (about 64 MB of float32), so memory stays bounded whatever the catalogue size.
"""

from __future__ import annotations

import numpy as np

BLOCK_ELEMENTS = 1 << 24  # similarity block size (rows x catalogue)


def l2_normalise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit rows (float32) and the mask of rows that could be normalised (finite, non-zero)."""
    out = np.array(vectors, dtype=np.float32, copy=True)
    finite = np.isfinite(out).all(axis=1)
    out[~finite] = 0.0
    norms = np.linalg.norm(out.astype(np.float64), axis=1)
    ok = finite & (norms > 1e-12)
    out[ok] /= norms[ok, None].astype(np.float32)
    return out, ok


def _block_rows(m: int) -> int:
    return max(1, min(m, BLOCK_ELEMENTS // max(m, 1)))


def dense_similarity(embeddings: np.ndarray) -> np.ndarray:
    """``A = E E^T`` for unit rows: clipped to [-1, 1], exactly symmetric, diagonal exactly 1.

    Computed by row blocks of the upper triangle and mirrored, so symmetry holds bit for bit."""
    m = embeddings.shape[0]
    sim = np.empty((m, m), dtype=np.float32)
    step = _block_rows(m)
    for start in range(0, m, step):
        stop = min(m, start + step)
        block = embeddings[start:stop] @ embeddings[start:].T
        width = stop - start
        diag = block[:, :width]
        block[:, :width] = (diag + diag.T) * np.float32(0.5)
        sim[start:stop, start:] = block
        sim[start:, start:stop] = block.T
    np.clip(sim, -1.0, 1.0, out=sim)
    np.fill_diagonal(sim, 1.0)
    return sim


def _top_k_block(sims: np.ndarray, start: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k columns of each row of a block (rows ``start..``), self excluded, best first;
    ties go to the lower column index. ``sims`` is modified."""
    n, m = sims.shape
    idx = np.empty((n, k), dtype=np.int32)
    val = np.empty((n, k), dtype=np.float32)
    if k == 0:
        return idx, val
    sims[np.arange(n), start + np.arange(n)] = -np.inf
    threshold = np.partition(sims, m - k, axis=1)[:, m - k]  # k-th largest value of each row
    for r in range(n):
        candidates = np.flatnonzero(sims[r] >= threshold[r])  # ascending index: stable sort keeps it
        best = candidates[np.argsort(-sims[r, candidates], kind="stable")[:k]]
        idx[r] = best
        val[r] = sims[r, best]
    return idx, val


def top_k_neighbours(
    embeddings: np.ndarray, k: int, *, similarity: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k most similar other rows (int32 indices, float32 similarities), best first.

    Reads rows of ``similarity`` instead of computing ``E E^T`` when it is given."""
    m = embeddings.shape[0]
    k = max(0, min(k, m - 1))
    idx = np.empty((m, k), dtype=np.int32)
    val = np.empty((m, k), dtype=np.float32)
    step = _block_rows(m)
    for start in range(0, m, step):
        stop = min(m, start + step)
        if similarity is not None:
            sims = np.array(similarity[start:stop], dtype=np.float32)
        else:
            sims = np.clip(embeddings[start:stop] @ embeddings.T, -1.0, 1.0)
        idx[start:stop], val[start:stop] = _top_k_block(sims, start, k)
    return idx, val
