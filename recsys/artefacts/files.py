"""Artefact files on this machine's disk: where they are, atomic writing and publishing.

Every writer here has ``local`` in its name (``save_local_array``, ``publish_local``, ...): it
touches this machine's folder only. The build's files go through ``recsys.artefacts.store``
(``store.save_array``, ``store.publish``, ...), which also carries them to the storage; reading
is ``recsys.artefacts.reader``.

Layout of one artefact (``RECSYS_ARTEFACT_ROOT/<engine>/<version>/``)::

    manifest.json          engine, version, model id, params, catalogue hash, created, shapes, facts
    painting_ids.npy       int64 (m,)   painting primary keys, row order of every other array
    external_ids.json      list[str]    the same paintings' external ids
    embeddings.npy         float32 (m, d), L2-normalised rows: A = E @ E.T (cosine)
    similarity.npy         float32 (m, m) dense A, only while m <= RECSYS_DENSE_MAX_ITEMS
    neighbours_idx.npy     int32 (m, k)  top-k rows by similarity, self excluded, best first
    neighbours_sim.npy     float32 (m, k)
    ann.faiss              approximate index of the embeddings (``recsys.algorithms.ann``), only while
                           m > RECSYS_ANN_MIN_ITEMS
    scan.faiss             8-bit codes of the embeddings that bound demote's pull
                           (``recsys.algorithms.scan_codes``), from 1 MB of embeddings, never beside
                           similarity.npy
    (engine extras, e.g. BLIP's itm_idx.npy / itm_prob.npy, and LDA's model files under state/)

A run builds everything in ``<engine>/.staging-<version>/`` and publishes it with one
``os.rename`` onto ``<engine>/<version>/``; readers only ever open published folders, so they see
either the previous complete version or the new complete one.

Where the folders are: in the ``artefacts`` storage (``settings.STORAGES``). By default that is a
FileSystemStorage on ``RECSYS_ARTEFACT_ROOT`` (``ArtefactRootStorage``), which is also the local
folder every step works in (``artefact_root``). A storage without local paths (object storage)
makes ``RECSYS_ARTEFACT_CACHE`` the local folder of each machine instead, and
``recsys.artefacts.store`` carries the files between it and the storage.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages

MANIFEST = "manifest.json"
PAINTING_IDS = "painting_ids.npy"
EXTERNAL_IDS = "external_ids.json"
EMBEDDINGS = "embeddings.npy"
SIMILARITY = "similarity.npy"
NEIGHBOURS_IDX = "neighbours_idx.npy"
NEIGHBOURS_SIM = "neighbours_sim.npy"
STATE_DIR = "state"


class ArtefactRootStorage(FileSystemStorage):
    """The default ``artefacts`` storage: a FileSystemStorage on ``settings.RECSYS_ARTEFACT_ROOT``,
    read at each use (unlike ``location``, which is fixed when the storage is created)."""

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(self._location if self._location is not None else settings.RECSYS_ARTEFACT_ROOT)

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def storage() -> Storage:
    """The storage every worker and web machine reaches (``STORAGES["artefacts"]``)."""
    return storages["artefacts"]


def storage_root() -> Path | None:
    """The storage's local folder, or None for a storage without local paths (object storage)."""
    try:
        return Path(storage().path(""))
    except NotImplementedError:
        return None


def artefact_root() -> Path:
    """The local folder steps build in and readers open: the storage's own folder when it has
    one (the default: ``RECSYS_ARTEFACT_ROOT``), else this machine's ``RECSYS_ARTEFACT_CACHE``."""
    root = storage_root()
    return root if root is not None else Path(settings.RECSYS_ARTEFACT_CACHE)


def engine_dir(engine: str) -> Path:
    return artefact_root() / engine


def final_dir(engine: str, version: str) -> Path:
    return engine_dir(engine) / version


def staging_dir(engine: str, version: str) -> Path:
    return engine_dir(engine) / f".staging-{version}"


# -- atomic writes ------------------------------------------------------------------------------
def _atomic_replace(target: Path, write: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_local_array(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as .npy atomically (temporary file + rename)."""
    _atomic_replace(path, lambda handle: np.save(handle, np.ascontiguousarray(array), allow_pickle=False))


def save_local_json(path: Path, payload: Any) -> None:
    data = json.dumps(payload, indent=2, sort_keys=True, default=str).encode()
    _atomic_replace(path, lambda handle: handle.write(data))


def fsync_dir(path: Path) -> None:
    """Make the directory's entries (created, renamed, deleted files) durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """fsync every file (engines' own files, e.g. gensim's, are not written by ``save_local_*``) and
    then every directory of ``root``, deepest first."""
    for folder, _, names in sorted(os.walk(root), key=lambda entry: -entry[0].count(os.sep)):
        for name in names:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))


def publish_local(staging: Path, final: Path) -> None:
    """Atomically move a complete staging folder to its final name (same filesystem).

    Everything in the folder is made durable first and the parent directory after the rename,
    so after a power loss the published folder is either absent or complete."""
    if final.exists():
        raise FileExistsError(f"Artefact folder {final} already exists; versions are immutable.")
    _fsync_tree(staging)
    os.rename(staging, final)
    fsync_dir(final.parent)


def remove_local_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
