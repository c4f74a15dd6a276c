"""Demote's pull read from 8-bit codes: an exact upper bound for a quarter of the bytes.

The served ``demote`` scoring (``recsys.algorithms.demote``) ranks by the likes' pull
L(i) = e_i . p (rows e_i of the artefact's float32 embeddings, p = sum_j pull_j e_j) before it
computes S <= L near the top (``recsys.algorithms.bounded``). That one product reads every row,
and on a busy server the rows come from memory, not the caches: a web worker's float32 pass
over the sample's MiniLM (11,482 x 384, 17.6 MB) and TF-IDF (11.7 MB) took 1.6 and 1.0 ms with a
second worker beside it, most of what a recommendation costs beyond a page of paintings
(bench/README.md). So the artefact also keeps every row as 8-bit codes (``scan.faiss``, memory-mapped
and shared by the workers): integers on one scale K for all rows,

    c_i = round(K e_i) in [-127, 127]^d,   K = 127 / max_ij |e_ij|,   ẽ_i = c_i / K

(a faiss ``IndexScalarQuantizer``, QT_8bit_direct_signed). faiss scans those in integer
arithmetic: the query is taken as 8-bit integers too, and for an integer query in [-127, 127]^d
it returns c_i . q exactly (``load`` checks that on the artefact). So a request rounds its
profile p the same way, on its own scale,

    q = round(K_p p),   K_p = 127 / max_j |p_j|,   delta = p - q / K_p   (computed exactly)

and faiss finds the rows with the largest L̃(i) = c_i . q / (K K_p) = ẽ_i . (q / K_p). With

    eps = max_i ||e_i - ẽ_i||      (written with the codes: 0.012 for MiniLM, 0.036 for TF-IDF)
    nu  = max_i ||e_i||
    g   = d u / (1 - d u)          u = 2^-24 (float32's unit roundoff), d the dimension

every row's pull, computed in float32 in any summation order, satisfies

    L(i) <= L̃(i) + slack     slack = ||p|| (eps + g nu) + (nu + eps) (||delta|| + g ||q|| / K_p)

since e_i . p = ẽ_i . (q / K_p) + ẽ_i . delta + (e_i - ẽ_i) . p (Cauchy-Schwarz on the last two,
||ẽ_i|| <= nu + eps); g ||e_i|| ||p|| bounds the rounding of the float32 pull (Higham, *Accuracy
and Stability of Numerical Algorithms*, 2nd ed., eq. 3.5), and g ||ẽ_i|| ||q|| / K_p that of
faiss's sum however it adds (in integers it is exact below 2^24) and of the division, in
float64. L̃ + slack has L̃'s order, so the rows with the k largest L̃ are ``bounded``'s pool
P_K and the (k+1)-th L̃ plus slack its u_out (``ScanBound``). The answer is the exact one.
When the pool's n-th exact S does not clear u_out (dislikes pushing most of the pool down), a
larger pool is read from the codes again, and beyond ``MAX_POOL_SHARE`` of the rows from the
float32 pull of every row, read once.

Worked example (||p|| = 1, slack = 0.01, n = 1, a pool of 2): L̃ = [0.90, 0.50, 0.80, 0.30] gives
P = {0, 2} and u_out = 0.50 + 0.01 = 0.51. With exact S(0) = 0.85 > 0.51, row 0 is the answer,
and rows 1 and 3 were never read in float32. With S(0) = 0.45 and S(2) = 0.40, neither clears
0.51: the pool grows (read from the codes again while it is a small share of the rows).

Why these codes (bench/README.md): faiss's integer scan reads MiniLM's in 0.24 ms, against
0.42 ms for QT_8bit_uniform codes (one [min, max] range, eps about the same), which faiss decodes
to floats value by value; the bound pays for rounding p (||delta|| ~ 0.009 ||p||). Artefacts
built with those first codes (``"sq8-uniform"`` in the manifest) are not read (the float32
pull answers) and are rebuilt by the next precompute (``is_current``). Half precision (QT_fp16,
eps ~2e-4) bounds more tightly but reads twice the bytes: through gunicorn the default
recommender ran at 0.69-0.76x the list with it and 0.78-0.86x with uniform 8-bit codes.
Per-dimension ranges (QT_8bit: eps 0.008 / 0.014) measured no faster than one range. Only an
artefact of at least ``MIN_BYTES`` of embeddings gets codes (a smaller one stays in the
caches), and never one with a dense similarity (its pull reads those rows instead).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from recsys.algorithms.ann import save_index
from recsys.algorithms.bounded import ArrayBound

logger = logging.getLogger(__name__)

SCAN_FILE = "scan.faiss"
#: embeddings smaller than this are scanned in float32: no codes are written
MIN_BYTES = 1 << 20
#: a pool read from the codes holds at least this many rows (one scan finds any number). On 300
#: random visitors of the sample (ratings 1-5, dislikes pushing the top down) MiniLM's first pool
#: cleared u_out for 246 at 64 rows, 267 at 128 and 278 at 256 (TF-IDF's for all but one; uniform
#: codes, the integer ones scan a few percent more): 64 costs the least on average (S of fewer
#: rows; a second scan, ~0.25 ms, for one visitor in five)
MIN_POOL = 64
#: a larger pool is read from the codes again up to this share of the rows, then from the float32 pull
MAX_POOL_SHARE = 1 / 8
#: the codes answer only while at most this share of the rows is excluded (else a filter: float32)
MAX_EXCLUDED_SHARE = 0.25
UNIT_ROUNDOFF = 2.0**-24
BLOCK_ROWS = 100_000
#: the manifest's name of the codes written now (``is_current``)
CODES = "sq8-signed"
INT8_MAX = 127.0


@dataclass(frozen=True, slots=True)
class ScanCodes:
    """An artefact's codes and the facts its bound needs (``load``)."""

    index: faiss.Index
    max_error: float  # eps
    max_norm: float  # nu
    scale: float  # K

    def query(self, profile: np.ndarray) -> tuple[np.ndarray, float, float]:
        """What faiss is asked for the profile p: the (1, d) float32 query, the divisor that turns
        its inner products into L̃, and the slack (the module docstring)."""
        d = int(self.index.d)
        gamma = d * UNIT_ROUNDOFF / (1.0 - d * UNIT_ROUNDOFF)
        p = np.asarray(profile, dtype=np.float64).reshape(-1)
        norm = float(np.linalg.norm(p))
        largest = float(np.abs(p).max(initial=0.0))
        scale = INT8_MAX / largest if largest > 0 else 1.0
        q = np.rint(p * scale)
        rounding = float(np.linalg.norm(p - q / scale)) + gamma * float(np.linalg.norm(q)) / scale
        slack = norm * (self.max_error + gamma * self.max_norm) + (self.max_norm + self.max_error) * rounding
        return q.astype(np.float32).reshape(1, -1), self.scale * scale, slack

    def decoded(self, start: int, count: int) -> np.ndarray:
        """Rows ``start`` .. ``start + count`` as the codes give them back, ẽ_i (float64)."""
        return self.index.reconstruct_n(start, count).astype(np.float64) / self.scale

    def bound(
        self, *, profile: np.ndarray, candidates: np.ndarray, full: Callable[[], np.ndarray]
    ) -> ScanBound | None:
        """The ``bounded.Bound`` of the pull over ``candidates`` (sorted rows), or None when
        more than ``MAX_EXCLUDED_SHARE`` of the rows are not candidates (a filter: the float32
        pull of the candidates is cheaper than skipping most of what the codes find).
        ``full()`` returns the float32 pull of the candidates (the fallback)."""
        if self.index.ntotal - candidates.size > MAX_EXCLUDED_SHARE * self.index.ntotal:
            return None
        query, divisor, slack = self.query(profile)
        return ScanBound(
            codes=self,
            query=query,
            divisor=divisor,
            slack=slack,
            candidates=candidates,
            full=full,
        )


@dataclass(slots=True)
class ScanBound:
    """``bounded.Bound`` of the pull over ``candidates``: pools from the codes (one scan each) up
    to ``MAX_POOL_SHARE`` of them, larger ones from the float32 pull of every candidate
    (``full()``, read once)."""

    codes: ScanCodes
    query: np.ndarray  # (1, d) float32: the profile p, rounded to integers (``ScanCodes.query``)
    divisor: float  # faiss's inner products / divisor = L̃
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
        return np.sort(at[:fetch]), float(scores[fetch]) / self.divisor + self.slack


def encode(embeddings: np.ndarray) -> ScanCodes:
    """The codes of ``embeddings`` (read in blocks, e.g. a memory map) with their K, eps and nu."""
    size, dim = embeddings.shape
    largest = max(
        (float(np.abs(embeddings[start : start + BLOCK_ROWS]).max()) for start in range(0, size, BLOCK_ROWS)),
        default=0.0,
    )
    scale = INT8_MAX / largest if largest > 0 else 1.0
    index = faiss.IndexScalarQuantizer(
        dim, faiss.ScalarQuantizer.QT_8bit_direct_signed, faiss.METRIC_INNER_PRODUCT
    )
    max_error = max_norm = 0.0
    for start in range(0, size, BLOCK_ROWS):
        exact = np.asarray(embeddings[start : start + BLOCK_ROWS], dtype=np.float64)
        codes = np.clip(np.rint(exact * scale), -INT8_MAX, INT8_MAX)
        index.add(codes.astype(np.float32))  # integers: stored as they are
        max_error = max(max_error, float(np.linalg.norm(exact - codes / scale, axis=1).max()))
        max_norm = max(max_norm, float(np.linalg.norm(exact, axis=1).max()))
    return ScanCodes(index=index, max_error=max_error, max_norm=max_norm, scale=scale)


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
        "codes": CODES,
        "scale": codes.scale,
        "bytes": path.stat().st_size,
        "max_error": codes.max_error,
        "max_norm": codes.max_norm,
        "build_s": round(time.perf_counter() - tick, 3),
    }


def load(folder: Path, facts: Mapping[str, Any] | None, *, size: int, dim: int) -> ScanCodes | None:
    """The codes written into ``folder`` with ``facts`` (the manifest's ``scan_codes``),
    memory-mapped; None when the build wrote none, or codes of another kind (``is_current``):
    the float32 pull answers."""
    path = folder / SCAN_FILE
    if not facts or not is_current(facts) or not path.exists():
        return None
    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    if index.ntotal != size or index.d != dim:
        raise ValueError(f"{path}: codes of {index.ntotal} x {index.d}, the artefact is {size} x {dim}")
    if not _scans_in_integers(index):
        logger.warning(
            "%s: faiss does not scan these codes in exact integers; the float32 pull answers", path
        )
        return None
    return ScanCodes(
        index=index,
        max_error=float(facts["max_error"]),
        max_norm=float(facts["max_norm"]),
        scale=float(facts["scale"]),
    )


def is_current(facts: Mapping[str, Any] | None) -> bool:
    """Whether a manifest's ``scan_codes`` are what a build writes now: none (small embeddings, a
    dense similarity) or codes of this kind. Older ones (``"sq8-uniform"``) make the artefact
    out of date (``recsys.build.services.artefact_up_to_date``)."""
    return facts is None or facts.get("codes") == CODES


def _scans_in_integers(index: faiss.Index) -> bool:
    """Whether ``index`` holds signed 8-bit codes and faiss answers an integer query with the
    exact integer inner products (the module docstring's premise; a faiss that decoded or scaled
    differently fails). Checked on a copy of a few of its rows: no scan of all of them."""
    if getattr(getattr(index, "sq", None), "qtype", None) != faiss.ScalarQuantizer.QT_8bit_direct_signed:
        return False
    rows = index.reconstruct_n(0, min(int(index.ntotal), 16))
    probe = faiss.IndexScalarQuantizer(
        index.d, faiss.ScalarQuantizer.QT_8bit_direct_signed, faiss.METRIC_INNER_PRODUCT
    )
    probe.add(rows)
    query = np.random.default_rng(0).integers(-INT8_MAX, INT8_MAX, size=(1, index.d), endpoint=True)
    scores, found = probe.search(query.astype(np.float32), rows.shape[0])
    exact = rows.astype(np.int64) @ query[0].astype(np.int64)
    return bool(np.array_equal(scores[0].astype(np.int64), exact[found[0]]))
