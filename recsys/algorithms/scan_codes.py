"""Demote's pull read from 8-bit codes: an exact upper bound for a quarter of the bytes.

The served ``demote`` scoring (``recsys.algorithms.demote``) ranks by the likes' pull
L(i) = e_i . p (rows e_i of the artefact's float32 embeddings, p = sum_j pull_j e_j) before it
computes S <= L near the top (``recsys.algorithms.bounded``). That one product reads every row,
and on a busy server the rows come from memory, not the caches: a web worker's float32 pass
over the sample's MiniLM (11,482 x 384, 17.6 MB) and TF-IDF (11.7 MB) took 1.6 and 1.0 ms with a
second worker beside it, most of what a recommendation costs beyond a page of paintings
(bench/README.md). So the artefact also keeps every row as 8-bit scalar-quantised codes ẽ_i
(``scan.faiss``: a faiss ``IndexScalarQuantizer``, QT_8bit_uniform, one byte per dimension on one
range for all of them, memory-mapped and shared by the workers), and faiss scans those for the
rows with the largest L̃(i) = ẽ_i . p. With

    eps = max_i ||e_i - ẽ_i||      (written with the codes: 0.012 for MiniLM, 0.030 for TF-IDF)
    nu  = max_i ||e_i||
    g   = d u / (1 - d u)          u = 2^-24 (float32's unit roundoff), d the dimension

every row's pull, computed in float32 in any summation order, satisfies

    L(i) <= L̃(i) + slack          slack = ||p|| (eps + g (2 nu + eps))

(Cauchy-Schwarz on e_i - ẽ_i, and g ||x|| ||y|| bounds the rounding of a d-term float32 dot
product: Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., eq. 3.5, once for
each of the two products). L̃ + slack has L̃'s order, so the rows with the k largest L̃ are
``bounded``'s pool P_K and the (k+1)-th L̃ plus slack its u_out (``ScanBound``). The answer is
the exact one. When the pool's n-th exact S does not clear u_out (dislikes pushing most of the
pool down), a larger pool is read from the codes again, and beyond ``MAX_POOL_SHARE`` of the rows
from the float32 pull of every row, read once.

Worked example (||p|| = 1, slack = 0.01, n = 1, a pool of 2): L̃ = [0.90, 0.50, 0.80, 0.30] gives
P = {0, 2} and u_out = 0.50 + 0.01 = 0.51. With exact S(0) = 0.85 > 0.51, row 0 is the answer,
and rows 1 and 3 were never read in float32. With S(0) = 0.45 and S(2) = 0.40, neither clears
0.51: the pool grows (read from the codes again while it is a small share of the rows).

Why these codes (bench/README.md): half precision (QT_fp16, eps ~2e-4) bounds more tightly but
reads twice the bytes: through gunicorn the default recommender ran at 0.69-0.76x the list with
it and 0.78-0.86x with these. Per-dimension ranges (QT_8bit: eps 0.008 / 0.014) measured no faster.
Only an artefact of at least ``MIN_BYTES`` of embeddings gets codes (a smaller one stays in the
caches), and never one with a dense similarity (its pull reads those rows instead).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from recsys.algorithms.ann import save_index
from recsys.algorithms.bounded import ArrayBound

SCAN_FILE = "scan.faiss"
#: embeddings smaller than this are scanned in float32: no codes are written
MIN_BYTES = 1 << 20
#: a pool read from the codes holds at least this many rows (one scan finds any number). On 300
#: random visitors of the sample (ratings 1-5, dislikes pushing the top down) MiniLM's first pool
#: cleared u_out for 246 at 64 rows, 267 at 128 and 278 at 256 (TF-IDF's for all but one): 64
#: costs the least on average (S of fewer rows; a second scan, ~0.25 ms, for one visitor in five)
MIN_POOL = 64
#: a larger pool is read from the codes again up to this share of the rows, then from the float32 pull
MAX_POOL_SHARE = 1 / 8
#: the codes answer only while at most this share of the rows is excluded (else a filter: float32)
MAX_EXCLUDED_SHARE = 0.25
UNIT_ROUNDOFF = 2.0**-24
BLOCK_ROWS = 100_000
#: rows sampled for the codes' range (a value outside it is clipped: its error counts in eps)
TRAIN_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class ScanCodes:
    """An artefact's codes and the facts its bound needs (``load``)."""

    index: faiss.Index
    max_error: float  # eps
    max_norm: float  # nu

    def slack(self, profile: np.ndarray) -> float:
        """||p|| (eps + g (2 nu + eps)) for the profile p (the module docstring)."""
        d = int(self.index.d)
        gamma = d * UNIT_ROUNDOFF / (1.0 - d * UNIT_ROUNDOFF)
        norm = float(np.linalg.norm(np.asarray(profile, dtype=np.float64)))
        return norm * (self.max_error + gamma * (2.0 * self.max_norm + self.max_error))

    def bound(
        self, *, profile: np.ndarray, candidates: np.ndarray, full: Callable[[], np.ndarray]
    ) -> ScanBound | None:
        """The ``bounded.Bound`` of the pull over ``candidates`` (sorted rows), or None when
        more than ``MAX_EXCLUDED_SHARE`` of the rows are not candidates (a filter: the float32
        pull of the candidates is cheaper than skipping most of what the codes find).
        ``full()`` returns the float32 pull of the candidates (the fallback)."""
        if self.index.ntotal - candidates.size > MAX_EXCLUDED_SHARE * self.index.ntotal:
            return None
        return ScanBound(
            codes=self,
            query=np.ascontiguousarray(profile, dtype=np.float32).reshape(1, -1),
            slack=self.slack(profile),
            candidates=candidates,
            full=full,
        )


@dataclass(slots=True)
class ScanBound:
    """``bounded.Bound`` of the pull over ``candidates``: pools from the codes (one scan each) up
    to ``MAX_POOL_SHARE`` of them, larger ones from the float32 pull of every candidate
    (``full()``, read once)."""

    codes: ScanCodes
    query: np.ndarray  # (1, d) float32: the profile p
    slack: float
    candidates: np.ndarray  # sorted rows of the artefact
    full: Callable[[], np.ndarray]
    scans: int = 0
    fallback: ArrayBound | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return int(self.candidates.shape[0])

    def largest(self, k: int) -> tuple[np.ndarray, float]:
        """At least ``k`` (and ``MIN_POOL``) positions in ``candidates`` with the largest L̃, and
        the largest bound outside them."""
        if self.fallback is None:
            fetch = max(k, MIN_POOL)
            if fetch >= self.size:
                return np.arange(self.size), -np.inf
            if self.scans == 0 or fetch <= MAX_POOL_SHARE * self.size:
                self.scans += 1
                return self._scan(fetch)
            self.fallback = ArrayBound(np.asarray(self.full(), dtype=np.float64))
        return self.fallback.largest(k)

    def _scan(self, fetch: int) -> tuple[np.ndarray, float]:
        # fetch + 1 + |not candidates| <= every row: faiss returns that many, best first, and at
        # least fetch + 1 of them are candidates (found by binary search: no mask of every row)
        excluded = self.codes.index.ntotal - self.size
        scores, rows = self.codes.index.search(self.query, fetch + 1 + excluded)
        at = np.searchsorted(self.candidates, rows[0])
        keep = self.candidates[np.minimum(at, self.size - 1)] == rows[0]
        at, scores = at[keep], scores[0][keep]
        return np.sort(at[:fetch]), float(scores[fetch]) + self.slack


def encode(embeddings: np.ndarray, *, seed: int = 1234) -> ScanCodes:
    """The codes of ``embeddings`` (read in blocks, e.g. a memory map) with their eps and nu."""
    size, dim = embeddings.shape
    index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit_uniform, faiss.METRIC_INNER_PRODUCT)
    sample = np.sort(np.random.default_rng(seed).choice(size, min(size, TRAIN_ROWS), replace=False))
    index.train(np.ascontiguousarray(embeddings[sample], dtype=np.float32))  # the one range
    max_error = max_norm = 0.0
    for start in range(0, size, BLOCK_ROWS):
        block = np.ascontiguousarray(embeddings[start : start + BLOCK_ROWS], dtype=np.float32)
        index.add(block)
        exact = block.astype(np.float64)
        decoded = index.reconstruct_n(start, block.shape[0]).astype(np.float64)
        max_error = max(max_error, float(np.linalg.norm(exact - decoded, axis=1).max()))
        max_norm = max(max_norm, float(np.linalg.norm(exact, axis=1).max()))
    return ScanCodes(index=index, max_error=max_error, max_norm=max_norm)


def build_into(
    embeddings: np.ndarray, folder: Path, *, min_bytes: int | None = None
) -> dict[str, Any] | None:
    """Write the codes of ``embeddings`` into ``folder`` (an artefact being built) and return the
    manifest's facts (file, bytes, eps, nu, build seconds); None below ``min_bytes`` (default
    ``MIN_BYTES``)."""
    if embeddings.shape[0] == 0 or embeddings.nbytes < (MIN_BYTES if min_bytes is None else min_bytes):
        return None
    tick = time.perf_counter()
    codes = encode(embeddings)
    path = save_index(codes.index, folder, name=SCAN_FILE)
    return {
        "file": SCAN_FILE,
        "codes": "sq8-uniform",
        "bytes": path.stat().st_size,
        "max_error": codes.max_error,
        "max_norm": codes.max_norm,
        "build_s": round(time.perf_counter() - tick, 3),
    }


def load(folder: Path, facts: Mapping[str, Any] | None, *, size: int, dim: int) -> ScanCodes | None:
    """The codes written into ``folder`` with ``facts`` (the manifest's ``scan_codes``),
    memory-mapped; None when the build wrote none."""
    path = folder / SCAN_FILE
    if not facts or not path.exists():
        return None
    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    if index.ntotal != size or index.d != dim:
        raise ValueError(f"{path}: codes of {index.ntotal} x {index.d}, the artefact is {size} x {dim}")
    return ScanCodes(index=index, max_error=float(facts["max_error"]), max_norm=float(facts["max_norm"]))
