"""Approximate top-k of eq. 1 for large catalogues: an inverted-file index over an engine's unit
embeddings (faiss ``IVF<nlist>,SQ8``, inner product), with exact re-scoring.

Eq. 1 collapses to one inner product per painting (``recsys.algorithms.scoring``):

    S(i) = e_i . q        q = sum_j w_j e_j / n      (rows e_i unit vectors, q any length)

so the n best paintings are a maximum-inner-product query for the profile vector q. The index
clusters E into ``nlist`` cells (k-means on a sample) and stores each row as 8-bit scalar-quantised
codes (d bytes per painting, a quarter of float32); a query scans the ``nprobe`` cells whose
centroids are nearest q. ``search`` then re-scores every returned row exactly from the
artefact's embeddings (``E[rows] @ q`` as ``eq1_scores`` computes it) and orders them like the
exact path (score descending, then painting pk ascending), so only *which* paintings are found
is approximate (recall@10 vs exact is measured by ``bench/scale.py``), never their scores.

Exclusion and filters hold exactly: excluded rows (rated paintings, ``exclude``) and rows outside
``allowed`` (story group, artist, collection) are masked inside faiss (an ``IDSelector``) and
checked again on the results. A filter that keeps few rows is answered exactly over those rows
(cheaper than the index and never misses): when ``|allowed| <= nprobe/nlist * m``,
i.e. about as many rows as the index would scan anyway.

Chosen after measuring (bench/README.md): on clustered 384-d data HNSW (M=16/32,
efConstruction 80) built 3x slower than IVF and reached recall@10 0.69-0.78 for profile queries
(weighted means of rated paintings lie between clusters), IVF-SQ8 0.99 at nprobe = nlist/32.

The index file (``ann.faiss``) lives in the artefact folder and is opened memory-mapped, so
every worker process shares one copy in the page cache. faiss threads: a single query is
fastest on one thread: ``limit_query_threads`` (``RECSYS_ANN_THREADS``, default 1) runs
``faiss.omp_set_num_threads`` once per process, when it first opens an index
(``LoadedArtefact.ann_index``). The precompute builds the index into the artefact above
``RECSYS_ANN_MIN_ITEMS`` paintings (``build_into``; facts in the manifest's ``ann_index``).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Collection
from pathlib import Path

import faiss
import numpy as np

from recsys.algorithms.scoring import top_n

INDEX_FILE = "ann.faiss"
#: rows sampled to train the k-means cells (faiss wants >= 39 per cell)
TRAIN_ROWS = 100_000
#: a filter keeping at most this many times the rows one query scans is answered exactly
EXACT_FACTOR = 1
#: cells scanned per query at least (small catalogues have few, coarse cells)
MIN_NPROBE = 16


def default_nlist(size: int) -> int:
    """Cells for ``size`` rows: about 2 sqrt(m) (632 at 100,000, 2,000 at 1,000,000), at most m/39."""
    return max(1, min(int(2 * math.sqrt(size)), size // 39))


def build_index(
    embeddings: np.ndarray, *, nlist: int | None = None, nprobe: int | None = None, seed: int = 1234
) -> faiss.Index:
    """An IVF-SQ8 inner-product index of the rows of ``embeddings`` (row i has id i).

    ``nprobe`` (cells scanned per query) defaults to nlist/32 (about 3% of the rows), at least
    ``MIN_NPROBE``; it is
    stored in the index file. Reads ``embeddings`` (e.g. a memory map) in blocks of 100,000 rows.
    """
    size, dim = embeddings.shape
    if size == 0:
        raise ValueError("cannot index an empty artefact")
    nlist = nlist or default_nlist(size)
    index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(size, min(size, max(TRAIN_ROWS, 39 * nlist)), replace=False))
    index.train(np.ascontiguousarray(embeddings[sample], dtype=np.float32))
    for start in range(0, size, 100_000):
        index.add(np.ascontiguousarray(embeddings[start : start + 100_000], dtype=np.float32))
    faiss.extract_index_ivf(index).nprobe = min(nlist, nprobe or max(MIN_NPROBE, nlist // 32))
    return index


def describe(index: faiss.Index) -> dict[str, int | str]:
    """What the manifest records about an index: its kind, cells and cells scanned per query."""
    ivf = faiss.extract_index_ivf(index)
    kind = f"IVF{ivf.nlist},SQ8"
    return {"kind": kind, "metric": "inner_product", "nlist": ivf.nlist, "nprobe": ivf.nprobe}


def build_into(embeddings: np.ndarray, folder: Path) -> dict[str, int | float | str]:
    """Build the index of ``embeddings``, save it in ``folder`` (an artefact being built) and
    return the manifest's facts: ``describe`` plus file name, size in bytes and build seconds."""
    tick = time.perf_counter()
    index = build_index(embeddings)
    path = save_index(index, folder)
    seconds = time.perf_counter() - tick
    return {"file": INDEX_FILE, **describe(index), "bytes": path.stat().st_size, "build_s": round(seconds, 3)}


_threads_limited = False


def limit_query_threads(threads: int) -> None:
    """``faiss.omp_set_num_threads(threads)`` once per process (0: leave faiss's default, one
    thread per core). A web worker answers one query at a time, fastest on one thread."""
    global _threads_limited
    if not _threads_limited:
        if threads > 0:
            faiss.omp_set_num_threads(threads)
        _threads_limited = True


def save_index(index: faiss.Index, folder: Path, *, name: str = INDEX_FILE) -> Path:
    """Write ``index`` to ``folder/name`` (default ``ann.faiss``) atomically (temporary file + rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        faiss.write_index(index, tmp)
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / name


def load_index(folder: Path) -> faiss.Index | None:
    """The index saved in ``folder``, memory-mapped (shared by all workers); None if absent."""
    path = folder / INDEX_FILE
    if not path.exists():
        return None
    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)


def _exact(
    embeddings: np.ndarray, query: np.ndarray, rows: np.ndarray, k: int, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # as eq1_scores computes them: in the embeddings' dtype, then float64
    scores = np.asarray(embeddings[rows] @ query.astype(embeddings.dtype), dtype=np.float64)
    best = top_n(scores, keys[rows], k)
    return rows[best], scores[best]


def profile_top_n(
    index: faiss.Index,
    *,
    embeddings: np.ndarray,
    rated_rows: np.ndarray,
    weights: np.ndarray,
    n: int,
    allowed: np.ndarray | None = None,
    exclude: Collection[int] = (),
    keys: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 1's ``n`` best rows found by ``index``: the profile q = sum_j w_j e_j / |rated|
    (``weights`` of the ``rated_rows``, as ``scoring.eq1_scores`` forms it), then ``search``."""
    rated_rows = np.asarray(rated_rows, dtype=np.intp)
    weights = np.asarray(weights, dtype=np.float64)
    query = weights @ np.asarray(embeddings[rated_rows], dtype=np.float64) / rated_rows.shape[0]
    return search(index, query, n, embeddings=embeddings, allowed=allowed, exclude=exclude, keys=keys)


def search(
    index: faiss.Index,
    query: np.ndarray,
    k: int,
    *,
    embeddings: np.ndarray,
    allowed: np.ndarray | None = None,
    exclude: Collection[int] = (),
    keys: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``embeddings`` with the largest ``e_i . query`` found by ``index``.

    ``allowed``: rows that may be returned (None: all); ``exclude``: rows that may not (e.g. the
    rated paintings). Returns (rows, exact float64 scores), best first, ties by ``keys`` (painting
    pks of the rows; default the rows themselves) ascending: fewer than k only when fewer rows
    qualify. ``embeddings`` must be the array the index was built from (artefact row order).
    """
    size = index.ntotal
    if embeddings.shape[0] != size:
        raise ValueError(f"index holds {size} rows, embeddings {embeddings.shape[0]}")
    keys = np.arange(size) if keys is None else np.asarray(keys)
    query = np.asarray(query, dtype=np.float64).reshape(-1)
    removed = np.asarray(exclude if isinstance(exclude, np.ndarray) else list(exclude), dtype=np.int64)
    removed = np.unique(removed)
    ivf = faiss.extract_index_ivf(index)
    if allowed is not None or removed.size:
        mask = np.ones(size, dtype=bool) if allowed is None else np.zeros(size, dtype=bool)
        if allowed is not None:
            mask[np.asarray(allowed, dtype=np.intp)] = True
        mask[removed] = False
        kept = int(mask.sum())
        if kept <= EXACT_FACTOR * size * ivf.nprobe / ivf.nlist or not np.any(query):
            return _exact(embeddings, query, np.flatnonzero(mask), k, keys)
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(size, faiss.swig_ptr(bits))
    else:
        mask, kept, selector = None, size, None
        if not np.any(query):  # every score is 0: the exact path's pk order
            return _exact(embeddings, query, np.arange(size), k, keys)
    nprobe = ivf.nprobe
    while True:
        params = faiss.SearchParametersIVF(nprobe=nprobe, sel=selector)
        # fetch a few more than k: the index orders by quantised scores
        _, found = index.search(query[np.newaxis].astype(np.float32), min(kept, 2 * k + 10), params=params)
        rows = found[0][found[0] >= 0]
        if mask is not None:
            rows = rows[mask[rows]]  # the filters, checked again
        if rows.size >= min(k, kept) or nprobe >= ivf.nlist:
            break
        nprobe = min(ivf.nlist, 4 * nprobe)  # too few qualifying rows in the cells scanned
    return _exact(embeddings, query, rows, k, keys)
