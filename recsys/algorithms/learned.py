"""The learned per-visitor recommender: kernel ridge regression on the visitor's own ratings, numpy only.

Each painting i is the concatenation of its unit embeddings under the engines E (an engine that
does not represent i contributes a zero block), scaled so that dot products average the engines'
cosines:

    x_i = [u_{1,i}, ..., u_{|E|,i}] / sqrt(|E|)         k(i, j) = x_i . x_j = mean_e cos_e(i, j)

From the visitor's n rated paintings (rows X_r, ratings r_j) fit, in closed form,

    y_j   = (r_j - 3) / 2                      centred targets in [-1, 1] (3 is neutral)
    K     = X_r X_r^T                          (n x n)
    alpha = (K + lambda I)^-1 y                 one n x n solve (K + lambda I is positive definite)
    s(i)  = x_i . (X_r^T alpha) = sum_j alpha_j K_ij     one pass over the embeddings

The prediction for a painting far from everything rated is 0, i.e. neutral. When every rating is
3 (y = 0) the targets become y = 1 (rank by closeness to what was rated, as ``recsys.algorithms.scoring``'s
``equal`` fallback does).

How it relates to eq. 1: as lambda -> infinity, alpha -> y / lambda and s(i) is proportional to
sum_j y_j K_ij, eq. 1 with centred weights on the mean kernel. A finite lambda lets the rated
paintings share credit: three liked paintings that are near copies of each other get about a
third of the weight each, and a liked painting next to a disliked one is told apart from it.
lambda is chosen once by the offline evaluation (``manage.py evaluate`` reports the sweep).

Explanations: the rated paintings with the largest |alpha_j K_ij| for item i (these add up to
s(i)). Cost per request: building K is O(n^2 d), the solve O(n^3) with n <= RECSYS_MAX_RATINGS,
the scores O(m * sum_e d_e), like eq. 1.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from recsys.algorithms.scoring import RATING_HALF_RANGE, RATING_MIDPOINT


class EngineRows(Protocol):
    """What the model reads of one engine's artefact (``recsys.artefacts.reader.EngineRows``)."""

    @property
    def version(self) -> str: ...
    @property
    def painting_ids(self) -> np.ndarray: ...  # int64 (m,), sorted
    @property
    def embeddings(self) -> np.ndarray: ...  # (m, d) unit rows
    @property
    def size(self) -> int: ...


class NoKnownRatings(ValueError):
    """None of the rated paintings is represented by any of the engines; ``ignored`` says why per pk."""

    def __init__(self, message: str, ignored: dict[int, str]) -> None:
        super().__init__(message)
        self.ignored = ignored


#: lambda chosen by ``manage.py evaluate`` on the sample catalogue (see README, "Offline evaluation")
DEFAULT_LAMBDA = 1.0
#: lambda in a tuned space (``recsys.serving.tuned``), whose cosines are larger: chosen by
#: ``manage.py evaluate --tuned``'s sweep on validation visitors (README, "Learning from every visitor")
TUNED_LAMBDA = 30.0


def centred_targets(ratings: np.ndarray) -> np.ndarray:
    """y_j = (r_j - 3) / 2; all ones when every rating is 3."""
    y = (np.asarray(ratings, dtype=np.float64) - RATING_MIDPOINT) / RATING_HALF_RANGE
    return y if np.any(y != 0.0) else np.ones_like(y)


def kernel_ridge_alpha(gram: np.ndarray, targets: np.ndarray, lam: float) -> np.ndarray:
    """alpha = (K + lambda I)^-1 y (lambda > 0)."""
    if not lam > 0.0:
        raise ValueError(f"lambda must be positive, got {lam!r}")
    gram = np.asarray(gram, dtype=np.float64)
    return np.linalg.solve(gram + lam * np.eye(gram.shape[0]), np.asarray(targets, dtype=np.float64))


@dataclass(frozen=True)
class _Union:
    """Every painting any of the engines represents (sorted pks), and each engine's row of each
    (-1: that engine does not represent it)."""

    painting_ids: np.ndarray
    rows: dict[str, np.ndarray]


_unions: dict[tuple[tuple[str, str], ...], _Union] = {}
_unions_lock = threading.Lock()


def _check_embeddings(artefacts: Mapping[str, EngineRows]) -> None:
    if not artefacts:
        raise ValueError("the learned recommender needs at least one engine")
    for engine, art in artefacts.items():
        if getattr(art, "embeddings", None) is None:
            raise ValueError(f"engine {engine!r}: its artefact has no embeddings, only similarities")


def painting_union(artefacts: Mapping[str, EngineRows]) -> _Union:
    """Cached per combination of artefact versions (they are immutable)."""
    key = tuple(sorted((engine, art.version) for engine, art in artefacts.items()))
    union = _unions.get(key)
    if union is None:
        ids = np.unique(np.concatenate([np.asarray(art.painting_ids) for art in artefacts.values()]))
        rows = {}
        for engine, art in artefacts.items():
            row = np.full(ids.shape[0], -1, dtype=np.intp)
            row[np.searchsorted(ids, art.painting_ids)] = np.arange(art.size)
            rows[engine] = row
        union = _Union(painting_ids=ids, rows=rows)
        with _unions_lock:
            if len(_unions) >= 16:  # old versions: drop them all rather than track use
                _unions.clear()
            _unions[key] = union
    return union


def _vectors(art: EngineRows, rows: np.ndarray) -> np.ndarray:
    """Unit embeddings of ``rows`` (float64); zero rows where the row is -1."""
    out = np.zeros((rows.shape[0], art.embeddings.shape[1]))
    present = rows >= 0
    out[present] = art.embeddings[rows[present]]
    return out


def mean_kernel(*, artefacts: Mapping[str, EngineRows], pks: np.ndarray) -> np.ndarray:
    """k(i, j) = mean over the engines of cos_e(i, j) for the given paintings (0 from an engine
    that lacks either painting): the similarity the learned model and MMR over several engines use."""
    _check_embeddings(artefacts)
    union = painting_union(artefacts)
    pos = np.searchsorted(union.painting_ids, np.asarray(pks, dtype=np.int64))
    blocks = [_vectors(art, union.rows[engine][pos]) for engine, art in artefacts.items()]
    return sum(block @ block.T for block in blocks) / len(blocks)


@dataclass(frozen=True)
class LearnedScores:
    """The fitted model and its prediction for every painting of the engines' union."""

    painting_ids: np.ndarray  # int64 (m,), sorted: every painting any engine represents
    scores: np.ndarray  # float64 (m,), s(i)
    rated_pks: np.ndarray  # int64 (n,), the usable rated paintings, pk ascending
    targets: np.ndarray  # y (n,)
    alpha: np.ndarray  # (n,)
    lam: float
    engines: tuple[str, ...]
    ignored_ratings: dict[int, str]  # rated pk no engine represents -> reason
    _rated: dict[str, np.ndarray] = field(repr=False)  # engine -> (n, d_e) rated unit vectors
    _union: _Union = field(repr=False)
    _artefacts: Mapping[str, EngineRows] = field(repr=False)

    def kernel_block(self, positions: np.ndarray) -> np.ndarray:
        """K_ij for the paintings at ``positions`` of ``painting_ids`` (rows) and the rated ones."""
        positions = np.asarray(positions, dtype=np.intp)
        total = np.zeros((positions.shape[0], self.rated_pks.shape[0]))
        for engine, art in self._artefacts.items():
            total += _vectors(art, self._union.rows[engine][positions]) @ self._rated[engine].T
        return total / len(self.engines)

    def contributions(self, positions: np.ndarray) -> np.ndarray:
        """alpha_j K_ij (rows add up to s(i))."""
        return self.kernel_block(positions) * self.alpha[np.newaxis, :]

    def explain(self, positions: np.ndarray, top: int) -> list[list[tuple[int, float]]]:
        """Per painting, the ``top`` rated paintings with the largest |alpha_j K_ij| as
        (rated pk, contribution), largest first (ties: pk ascending)."""
        block = self.contributions(positions)
        order = np.argsort(-np.abs(block), axis=1, kind="stable")[:, :top]
        return [[(int(self.rated_pks[j]), float(block[i, j])) for j in row] for i, row in enumerate(order)]


def learned_scores(
    *, artefacts: Mapping[str, EngineRows], ratings: Mapping[int, int], lam: float = DEFAULT_LAMBDA
) -> LearnedScores:
    """Fit the visitor's kernel ridge model on ``ratings`` (painting pk -> 1..5, already validated)
    and score every painting the engines of ``artefacts`` represent.

    Rated paintings no engine represents are left out and listed in ``ignored_ratings``; when
    none is left this raises ``NoKnownRatings``. Callers remove rated and
    excluded paintings and rank with ``recsys.algorithms.scoring.top_n(scores, painting_ids, n)``.
    """
    _check_embeddings(artefacts)
    union = painting_union(artefacts)
    ids = union.painting_ids
    rated = sorted(ratings)
    pos = np.searchsorted(ids, np.asarray(rated, dtype=np.int64))
    known = (pos < ids.shape[0]) & (ids[np.minimum(pos, ids.shape[0] - 1)] == np.asarray(rated))
    ignored = {
        pk: f"not in the {', '.join(artefacts)} artefact(s)"
        for pk, ok in zip(rated, known.tolist(), strict=True)
        if not ok
    }
    if not known.any():
        raise NoKnownRatings(
            f"None of the rated paintings is in the {', '.join(artefacts)} artefact(s).", ignored
        )
    pos = pos[known]
    rated_pks = ids[pos]
    y = centred_targets(np.array([ratings[int(pk)] for pk in rated_pks]))
    vectors = {engine: _vectors(art, union.rows[engine][pos]) for engine, art in artefacts.items()}
    gram = sum(v @ v.T for v in vectors.values()) / len(vectors)
    alpha = kernel_ridge_alpha(gram, y, lam)
    scores = np.zeros(ids.shape[0])
    for engine, art in artefacts.items():
        profile = (alpha @ vectors[engine]).astype(art.embeddings.dtype)  # X_r^T alpha, one engine's block
        present = union.rows[engine] >= 0
        scores[present] += np.asarray(art.embeddings @ profile, dtype=np.float64)[union.rows[engine][present]]
    scores /= len(vectors)
    return LearnedScores(
        painting_ids=ids,
        scores=scores,
        rated_pks=rated_pks,
        targets=y,
        alpha=alpha,
        lam=float(lam),
        engines=tuple(artefacts),
        ignored_ratings=ignored,
        _rated=vectors,
        _union=union,
        _artefacts=artefacts,
    )
