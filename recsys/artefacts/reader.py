"""Reading artefacts: a published folder opened memory-mapped and read-only (``open_artefact``),
and the per-process cache of the active versions (``artefact_cache``), opened from this machine's
local copy (``recsys.artefacts.store.local_copy``). The layout is ``recsys.artefacts.files``'s.
"""

from __future__ import annotations

import itertools
import json
import threading
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from django.conf import settings

from recsys.artefacts.files import (
    EMBEDDINGS,
    EXTERNAL_IDS,
    MANIFEST,
    NEIGHBOURS_IDX,
    NEIGHBOURS_SIM,
    PAINTING_IDS,
    SIMILARITY,
)
from recsys.artefacts.store import local_copy

if TYPE_CHECKING:
    import faiss

    from recsys.algorithms.scan_codes import ScanCodes


class RowIndex(Mapping[int, int]):
    """painting pk -> row, answered by ``np.searchsorted`` on the sorted pks.

    A read-only mapping like the dict it replaces, without one Python int pair per painting
    (a dict of 1,000,000 entries held ~100 MB per worker process); ``rows`` looks many pks up
    at once. ``painting_ids`` written by the pipeline are sorted; otherwise a sort order
    (8 bytes per painting) is kept.
    """

    def __init__(self, painting_ids: np.ndarray) -> None:
        self._ids = painting_ids
        ascending = bool(np.all(painting_ids[1:] > painting_ids[:-1]))
        self._order = None if ascending else np.argsort(painting_ids, kind="stable")
        self._sorted = painting_ids if ascending else painting_ids[self._order]
        if not ascending and np.any(self._sorted[1:] == self._sorted[:-1]):
            raise ValueError("painting ids are not unique")

    def rows(self, pks: Any) -> tuple[np.ndarray, np.ndarray]:
        """(rows, found) for an array of pks: ``rows[found]`` are the rows of the known pks."""
        keys = np.asarray(pks, dtype=np.int64).reshape(-1)
        if self._sorted.size == 0:
            return np.zeros(keys.size, dtype=np.intp), np.zeros(keys.size, dtype=bool)
        pos = np.minimum(np.searchsorted(self._sorted, keys), self._sorted.size - 1)
        found = self._sorted[pos] == keys
        rows = pos if self._order is None else self._order[pos]
        return rows.astype(np.intp, copy=False), found

    def __getitem__(self, pk: int) -> int:
        if isinstance(pk, bool) or not isinstance(pk, int | np.integer):
            raise KeyError(pk)
        try:
            rows, found = self.rows([pk])
        except OverflowError:  # beyond int64: no painting has it
            raise KeyError(pk) from None
        if not found[0]:
            raise KeyError(pk)
        return int(rows[0])

    def __contains__(self, pk: object) -> bool:
        try:
            self[pk]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        return int(self._ids.shape[0])


class ExternalIds(Sequence[str]):
    """The external ids of the rows as one UTF-8 buffer and offsets (a tuple of 1,000,000
    ``str`` held ~70 MB per worker); ``ids[row]`` decodes one."""

    def __init__(self, ids: Sequence[str]) -> None:
        encoded = [value.encode() for value in ids]
        # an array.array, not numpy: its items are Python ints (a numpy scalar per lookup cost ~2 us)
        self._offsets = array("q", itertools.accumulate(map(len, encoded), initial=0))
        self._blob = b"".join(encoded)

    @overload
    def __getitem__(self, row: int) -> str: ...
    @overload
    def __getitem__(self, row: slice) -> list[str]: ...
    def __getitem__(self, row: int | slice) -> str | list[str]:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        size = len(self)
        row = int(row)
        if not -size <= row < size:
            raise IndexError(row)
        row %= size
        return self._blob[self._offsets[row] : self._offsets[row + 1]].decode()

    def __len__(self) -> int:
        return len(self._offsets) - 1


@dataclass(frozen=True)
class LoadedArtefact:
    """A published artefact opened read-only; arrays are memory-mapped and never written."""

    engine: str
    version: str
    path: Path
    manifest: dict[str, Any]
    painting_ids: np.ndarray  # int64 (m,)
    external_ids: Sequence[str]  # ExternalIds when opened from disk
    embeddings: np.ndarray  # float32 (m, d), unit rows
    row_of: RowIndex = field(repr=False)  # painting pk -> row
    similarity: np.ndarray | None = field(default=None, repr=False)  # dense (m, m) or None
    neighbours_idx: np.ndarray | None = field(default=None, repr=False)
    neighbours_sim: np.ndarray | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return int(self.painting_ids.shape[0])

    def missing_reason(self, pk: int) -> str:
        """Why painting ``pk`` has no row here: this artefact's name, and the engine's skip reason
        when the build recorded one (e.g. "no image")."""
        reason = f"not in the {self.engine} artefact {self.version}"
        skipped = self.skip_reasons.get(pk)
        return f"{reason}: {skipped}" if skipped else reason

    @cached_property
    def skip_reasons(self) -> dict[int, str]:
        """pk -> why the build skipped it: the pipeline's manifest lists ``{"pk", "reason"}``
        entries (a mapping pk -> reason is read too)."""
        skipped = self.manifest.get("skipped")
        if isinstance(skipped, dict):
            return {int(pk): str(reason) for pk, reason in skipped.items()}
        if isinstance(skipped, list):
            return {int(s["pk"]): str(s["reason"]) for s in skipped if isinstance(s, dict) and "pk" in s}
        return {}

    def extra(self, name: str) -> np.ndarray | None:
        """An engine-specific array (e.g. ``itm_idx.npy``), memory-mapped, or None if absent."""
        candidate = self.path / name
        return _load(candidate) if candidate.exists() else None

    @cached_property
    def ann_index(self) -> faiss.Index | None:
        """The approximate index (``recsys.algorithms.ann``) built with the artefact, memory-mapped on first
        use and kept as long as this version is cached; None when the build wrote none."""
        from recsys.algorithms import ann  # faiss is imported only by processes that query an index

        ann_threads_limited()
        index = ann.load_index(self.path)
        if index is not None and index.ntotal != self.size:
            raise ValueError(f"{self.path}: the index holds {index.ntotal} rows, the artefact {self.size}.")
        return index

    @cached_property
    def scan_codes(self) -> ScanCodes | None:
        """The 8-bit codes of the embeddings (``recsys.algorithms.scan_codes``), memory-mapped
        on first use; None when the build wrote none (small embeddings, a dense similarity, an
        artefact built before them, a tuned view)."""
        from recsys.algorithms import scan_codes  # faiss is imported only by processes that scan codes

        ann_threads_limited()
        return scan_codes.load(
            self.path, self.manifest.get("scan_codes"), size=self.size, dim=int(self.embeddings.shape[1])
        )


def ann_threads_limited() -> None:
    """faiss's threads limited once per process (``RECSYS_ANN_THREADS``)."""
    from recsys.algorithms import ann

    ann.limit_query_threads(settings.RECSYS_ANN_THREADS)


def _load(path: Path) -> np.ndarray:
    """The array in ``path``, memory-mapped read-only, as a plain ndarray over the map (its
    ``base``): indexing an ``np.memmap`` runs Python code on every call (~2 us a row, a third
    more for a gather), on the hot path of every recommendation."""
    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))


def open_artefact(path: Path) -> LoadedArtefact:
    """Open a published artefact folder (memory-mapped, read-only)."""
    manifest = json.loads((path / MANIFEST).read_text())
    painting_ids = np.asarray(np.load(path / PAINTING_IDS, allow_pickle=False), dtype=np.int64)
    painting_ids.setflags(write=False)
    external_ids = ExternalIds(json.loads((path / EXTERNAL_IDS).read_text()))
    if len(external_ids) != painting_ids.shape[0]:
        raise ValueError(f"{path}: {EXTERNAL_IDS} and {PAINTING_IDS} disagree in length.")
    optional = {
        name: (_load(path / filename) if (path / filename).exists() else None)
        for name, filename in (
            ("similarity", SIMILARITY),
            ("neighbours_idx", NEIGHBOURS_IDX),
            ("neighbours_sim", NEIGHBOURS_SIM),
        )
    }
    return LoadedArtefact(
        engine=manifest["engine"],
        version=manifest["version"],
        path=path,
        manifest=manifest,
        painting_ids=painting_ids,
        external_ids=external_ids,
        embeddings=_load(path / EMBEDDINGS),
        row_of=RowIndex(painting_ids),
        **optional,
    )


class ArtefactCache:
    """Per-process cache of opened artefacts, keyed by (engine, version).

    Callers pass the version that is active *now* (one indexed query, see
    ``recsys.serving.selectors.active_artefact``); a new version is opened once and replaces the old one,
    so workers pick up an activation without a restart. It is opened from this machine's local
    copy (``recsys.artefacts.store.local_copy``: in place with a local storage, else downloaded
    once into ``RECSYS_ARTEFACT_CACHE``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_engine: dict[str, LoadedArtefact] = {}

    def get(self, engine: str, version: str, relative_path: str) -> LoadedArtefact:
        cached = self._by_engine.get(engine)
        if cached is not None and cached.version == version:
            return cached
        with self._lock:
            cached = self._by_engine.get(engine)
            if cached is None or cached.version != version:
                cached = open_artefact(local_copy(relative_path))
                self._by_engine[engine] = cached
            return cached

    def clear(self) -> None:
        with self._lock:
            self._by_engine.clear()


artefact_cache = ArtefactCache()
