"""BLIP scored as the paper scores it: A_ij is the ITM match probability, in pure numpy.

The BLIP artefact (``recsys.engines.blip``) holds, per painting i, its top-K candidates by the
joint cosine re-scored by the image-text matching head: ``itm_idx`` (int32 (m, K), rows, best
first, -1 padded) and ``itm_prob`` (float32 (m, K), 0 where padded). A pair's probability is the
mean over its scored directions, ``p_ij = mean(ITM(image_i, text_j), ITM(image_j, text_i))``, so
it is symmetric, and it exists for every pair of the graph

    G = {(i, j) : j in itm_idx[i] or i in itm_idx[j]}      (i != j)

(a pair one painting lists and the other does not has been scored all the same). The ITM head
is a cross-encoder: scoring all m^2 pairs is out of reach, so outside G A_ij needs a fallback:

    A_ij = p_ij               (i, j) in G
    A_ij = a + b * cos_ij     otherwise: the cosine calibrated to the ITM scale

with (a, b) the least-squares line through the (cos_ij, p_ij) of the pairs in G (``calibrate``),
b >= 0. Why not 0: with K = 50 of thousands of paintings, almost every painting is outside the
lists of a visitor's few rated paintings and would score exactly 0, so all but a handful of
recommendations (and the whole tail a late fusion ranks) would be in primary-key order, i.e.
arbitrary. The calibrated cosine keeps the embedding's order where ITM has no number and puts it
on the ITM scale, so a p_ij and a fallback add up in one eq.-1 sum. The line is not clipped to
[0, 1] (a very dissimilar pair may get a slightly negative score, as a cosine can): unclipped it
is linear, so eq. 1 keeps the Gram shortcut of ``recsys.algorithms.scoring``:

    S(i) = 1/n * sum_j w_j * A_ij
         = 1/n * [ a * sum_j w_j  +  b * e_i . (sum_j w_j e_j)
                   + sum_{j : (i,j) in G} w_j * (p_ij - a - b * cos_ij) ]

one matrix-vector product plus a correction over the rated paintings' graph rows (O(m*d + n*K)).
When the fit is degenerate (fewer than 2 pairs, all cosines equal, or a negative slope, which
would invert the cosine's order) the fallback is the constant mean probability (b = 0).
The diagonal A_ii is never read (a rated painting is never recommended, a painting is not its
own neighbour) and follows the fallback.

Worked example (``tests/recsys_scoring/test_itm.py``): 3 paintings, K = 1, itm_idx = [[1], [0],
[0]], itm_prob = [[0.9], [0.9], [0.3]]: G = {(0,1), (0,2)}; the pair (1, 2) is outside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recsys.algorithms.scoring import eq1_scores

#: the artefact's files (written by ``recsys.engines.blip``)
ITM_IDX = "itm_idx.npy"
ITM_PROB = "itm_prob.npy"

ITM, COSINE = "itm", "cosine"
#: values of settings.RECSYS_BLIP_SCORE
SCORES = (ITM, COSINE)


@dataclass(frozen=True, slots=True)
class Calibration:
    """The fallback line A = a + b * cos for pairs outside the ITM graph."""

    a: float
    b: float
    pairs: int  # unordered pairs the line was fitted on

    def __call__(self, cosines: np.ndarray) -> np.ndarray:
        return self.a + self.b * np.asarray(cosines, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ItmGraph:
    """G as a symmetric sparse matrix in CSR form: row i's neighbours ``indices[indptr[i]:
    indptr[i + 1]]`` (ascending) with probabilities ``probs`` at the same positions."""

    indptr: np.ndarray  # int64 (m + 1,)
    indices: np.ndarray  # int64 (nnz,)
    probs: np.ndarray  # float64 (nnz,)

    @property
    def size(self) -> int:
        return int(self.indptr.shape[0] - 1)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.indptr[i], self.indptr[i + 1]
        return self.indices[start:stop], self.probs[start:stop]

    def rows_of(self) -> np.ndarray:
        """The row of every stored entry (the CSR's implicit first coordinate)."""
        return np.repeat(np.arange(self.size), np.diff(self.indptr))


def itm_graph(itm_idx: np.ndarray, itm_prob: np.ndarray) -> ItmGraph:
    """Symmetrise the artefact's lists: (i, j, p) and (j, i, p) for every listed pair, once each
    (a pair both paintings list is kept once; its two stored numbers are equal by construction,
    the first in (row, column) order is kept)."""
    idx = np.asarray(itm_idx, dtype=np.int64)
    prob = np.asarray(itm_prob, dtype=np.float64)
    m = idx.shape[0]
    listed = idx >= 0
    rows = np.repeat(np.arange(m), listed.sum(axis=1))
    cols = idx[listed]
    probs = prob[listed]
    keep = rows != cols
    rows, cols, probs = rows[keep], cols[keep], probs[keep]
    both_rows = np.concatenate([rows, cols])
    both_cols = np.concatenate([cols, rows])
    both_probs = np.concatenate([probs, probs])
    order = np.lexsort((both_cols, both_rows))
    both_rows, both_cols, both_probs = both_rows[order], both_cols[order], both_probs[order]
    first = np.ones(both_rows.shape[0], dtype=bool)
    first[1:] = (both_rows[1:] != both_rows[:-1]) | (both_cols[1:] != both_cols[:-1])
    both_rows, both_cols, both_probs = both_rows[first], both_cols[first], both_probs[first]
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(both_rows, minlength=m), out=indptr[1:])
    return ItmGraph(indptr=indptr, indices=both_cols, probs=both_probs)


def graph_cosines(embeddings: np.ndarray, graph: ItmGraph) -> np.ndarray:
    """cos_ij of every stored entry (unit rows: a row-wise dot product)."""
    rows = graph.rows_of()
    out = np.empty(rows.shape[0], dtype=np.float64)
    for start in range(0, rows.shape[0], 65_536):  # bounded memory on large catalogues
        stop = start + 65_536
        left = np.asarray(embeddings[rows[start:stop]], dtype=np.float64)
        right = np.asarray(embeddings[graph.indices[start:stop]], dtype=np.float64)
        out[start:stop] = np.einsum("ij,ij->i", left, right)
    return out


def calibrate(cosines: np.ndarray, probs: np.ndarray) -> Calibration:
    """Least squares p = a + b * cos over the pairs of G (each stored twice in the symmetric
    graph, which weighs every pair equally and leaves the line unchanged):

        b = cov(cos, p) / var(cos),   a = mean(p) - b * mean(cos)

    degenerate fits fall back to b = 0, a = mean(p) (0 without any pair): see the module."""
    c = np.asarray(cosines, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    pairs = c.shape[0] // 2
    if p.size == 0:
        return Calibration(a=0.0, b=0.0, pairs=0)
    mean_c, mean_p = float(c.mean()), float(p.mean())
    var = float(((c - mean_c) ** 2).mean())
    slope = float(((c - mean_c) * (p - mean_p)).mean()) / var if var > 1e-12 else 0.0
    if pairs < 2 or slope < 0:
        slope = 0.0
    return Calibration(a=mean_p - slope * mean_c, b=slope, pairs=pairs)


def _corrections(
    embeddings: np.ndarray, graph: ItmGraph, calibration: Calibration, rated_rows: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per rated row j: its graph neighbours i and p_ij - (a + b * cos_ij)."""
    out = []
    for j in np.asarray(rated_rows, dtype=np.intp).tolist():
        neighbours, probs = graph.row(j)
        cos = np.asarray(embeddings[neighbours], dtype=np.float64) @ np.asarray(embeddings[j], np.float64)
        out.append((neighbours, probs - calibration(cos)))
    return out


def itm_scores(
    *,
    embeddings: np.ndarray,
    graph: ItmGraph,
    calibration: Calibration,
    rated_rows: np.ndarray,
    weights: np.ndarray,
    similarity: np.ndarray | None = None,
) -> np.ndarray:
    """Eq. 1 with A_ij as above for every row i (float64, shape (m,)).

    The cosine term sum_j w_j cos_ij is ``recsys.algorithms.scoring.eq1_scores`` (n rows of the dense
    cosine matrix when the artefact has it and that is cheaper, else one product with E)."""
    rated_rows = np.asarray(rated_rows, dtype=np.intp)
    weights = np.asarray(weights, dtype=np.float64)
    n = rated_rows.shape[0]
    if n == 0 or weights.shape != (n,):
        raise ValueError("need one weight per rated row and at least one rated row")
    cosine_sum = n * eq1_scores(
        embeddings=embeddings, rated_rows=rated_rows, weights=weights, similarity=similarity
    )
    scores = calibration.a * weights.sum() + calibration.b * cosine_sum
    for w, (neighbours, residual) in zip(
        weights, _corrections(embeddings, graph, calibration, rated_rows), strict=True
    ):
        np.add.at(scores, neighbours, w * residual)
    return scores / n


def itm_block(
    *,
    embeddings: np.ndarray,
    graph: ItmGraph,
    calibration: Calibration,
    item_rows: np.ndarray,
    rated_rows: np.ndarray,
) -> np.ndarray:
    """A_ij for the given items (rows) and rated paintings (columns), consistent with
    ``itm_scores`` (an item's contributions w_j * A_ij / n add up to its score)."""
    item_rows = np.asarray(item_rows, dtype=np.intp)
    rated_rows = np.asarray(rated_rows, dtype=np.intp)
    items = np.asarray(embeddings[item_rows], dtype=np.float64)
    rated = np.asarray(embeddings[rated_rows], dtype=np.float64)
    block = calibration(items @ rated.T)
    for col, j in enumerate(rated_rows.tolist()):
        neighbours, probs = graph.row(j)  # neighbours ascending
        if neighbours.size == 0:
            continue
        at = np.minimum(np.searchsorted(neighbours, item_rows), neighbours.size - 1)
        hit = neighbours[at] == item_rows
        block[hit, col] = probs[at[hit]]
    return block


def itm_row(*, embeddings: np.ndarray, graph: ItmGraph, calibration: Calibration, row: int) -> np.ndarray:
    """A_row,j for every j (float64, shape (m,)): similar paintings under ITM."""
    values = calibration(np.asarray(embeddings, dtype=np.float64) @ np.asarray(embeddings[row], np.float64))
    neighbours, probs = graph.row(row)
    values[neighbours] = probs
    return values
