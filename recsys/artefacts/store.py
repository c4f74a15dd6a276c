"""Artefact files between machines: the build's scratch and the published artefacts travel
through the ``artefacts`` storage (``settings.STORAGES``), which every worker and web machine
reaches; each machine works on a local folder (``recsys.artefacts.files.artefact_root``).

Every function takes the *local* path a file has under ``artefact_root()``; its storage name is
that path relative to the root (``<engine>/.staging-<version>/batches/000003.npy``,
``<engine>/<version>/embeddings.npy``), so both sides share one layout.

Local storage (the default: a FileSystemStorage on ``RECSYS_ARTEFACT_ROOT``, shared by the
machines, e.g. over NFS): the local folder *is* the storage's folder, so every function is the
plain file operation it was before (atomic writes, publishing by one rename, reading in place).

Storage without local paths (object storage: S3 through django-storages, ``path()`` raises
``NotImplementedError``): the local folder is ``RECSYS_ARTEFACT_CACHE``.

* scratch of a run (plan, reused rows, batch results) is written to and read from the storage
  only; the fitted state (``state/``) is built locally, uploaded before the plan, and downloaded
  by a machine that needs it (``pull_tree``);
* ``publish`` uploads the built staging folder with the manifest last (its presence in the
  storage means "published"), deletes the run's scratch from the storage and keeps the built
  folder as this machine's local copy;
* ``local_copy`` gives a reader the published folder: downloaded once into a temporary folder
  and renamed into place, so a reader never sees half a copy; older copies are pruned.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile

from recsys.artefacts import files

TMP_DIR = ".tmp"  # under the local root: downloads in progress (same file system as the target)


def is_remote() -> bool:
    """Whether the storage has no local paths (files are copied to and from it)."""
    return files.storage_root() is None


def name_of(path: Path) -> str:
    """The storage name of a local path under ``artefact_root()``."""
    return path.relative_to(files.artefact_root()).as_posix()


# -- objects ------------------------------------------------------------------------------------
def _put(name: str, content: File) -> None:
    """Store ``content`` under exactly ``name``, replacing what is there."""
    storage = files.storage()
    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, content)
    if saved != name:  # written meanwhile by a duplicate delivery of the same step: same content
        storage.delete(saved)


def _get(name: str) -> bytes:
    with files.storage().open(name, "rb") as handle:
        return handle.read()


def _walk(prefix: str) -> list[str]:
    """Names of every file under ``prefix`` (a "folder" of the storage), depth first."""
    storage = files.storage()
    try:
        dirs, names = storage.listdir(prefix)
    except FileNotFoundError:
        return []
    found = [f"{prefix}/{name}" for name in names]
    for sub in dirs:
        found += _walk(f"{prefix}/{sub}")
    return found


def _download(prefix: str, target: Path) -> int:
    """Copy every file under ``prefix`` into ``target`` (created); returns the number of files."""
    names = _walk(prefix)
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        local = target / PurePosixPath(name).relative_to(prefix)
        local.parent.mkdir(parents=True, exist_ok=True)
        with files.storage().open(name, "rb") as source, local.open("wb") as out:
            shutil.copyfileobj(source, out, length=1 << 20)
    return len(names)


def _temp_dir() -> Path:
    folder = files.artefact_root() / TMP_DIR / secrets.token_hex(8)
    folder.mkdir(parents=True)
    return folder


def _move_into_place(tmp: Path, target: Path) -> None:
    """Rename a complete temporary folder onto ``target``; if another process got there first,
    its copy (of the same immutable files) is kept and ours discarded."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(tmp, target)
    except OSError:
        if not target.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


# -- scratch of a run ---------------------------------------------------------------------------
def exists(path: Path) -> bool:
    return files.storage().exists(name_of(path)) if is_remote() else path.exists()


def save_array(path: Path, array: np.ndarray) -> None:
    if not is_remote():
        files.save_local_array(path, array)
        return
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    _put(name_of(path), ContentFile(buffer.getvalue()))


def save_json(path: Path, payload: Any) -> None:
    if not is_remote():
        files.save_local_json(path, payload)
        return
    data = json.dumps(payload, indent=2, sort_keys=True, default=str).encode()
    _put(name_of(path), ContentFile(data))


def load_array(path: Path) -> np.ndarray:
    source = io.BytesIO(_get(name_of(path))) if is_remote() else path
    return np.load(source, allow_pickle=False)


def load_json(path: Path) -> Any:
    return json.loads(_get(name_of(path)) if is_remote() else path.read_text())


def push_tree(folder: Path) -> None:
    """Upload a locally built folder (the fitted state) for the other machines."""
    if not is_remote() or not folder.is_dir():
        return
    for local in sorted(p for p in folder.rglob("*") if p.is_file()):
        with local.open("rb") as handle:
            _put(name_of(local), File(handle))


def pull_tree(folder: Path) -> None:
    """Make the uploaded folder (the fitted state) present locally, if it is not already."""
    if not is_remote() or folder.is_dir():
        return
    tmp = _temp_dir()
    if _download(name_of(folder), tmp):
        _move_into_place(tmp, folder)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_tree(path: Path) -> None:
    """Delete a folder locally and, with remote storage, its files in the storage."""
    files.remove_local_tree(path)
    if is_remote():
        _delete_prefix(name_of(path))


def _delete_prefix(prefix: str) -> None:
    storage = files.storage()
    for name in _walk(prefix):
        storage.delete(name)
    try:  # a file system keeps the emptied folders; object storage has none
        dirs = [prefix]
        for folder in dirs:
            dirs += [f"{folder}/{sub}" for sub in storage.listdir(folder)[0]]
        for folder in reversed(dirs):
            storage.delete(folder)
    except (FileNotFoundError, OSError):
        pass


def children(folder: Path) -> set[str]:
    """Names inside a local folder and, with remote storage, inside its storage counterpart."""
    names = {child.name for child in folder.iterdir()} if folder.is_dir() else set()
    if is_remote():
        try:
            dirs, stored = files.storage().listdir(name_of(folder))
        except FileNotFoundError:
            dirs, stored = [], []
        names |= set(dirs) | set(stored)
    return names


# -- published artefacts ------------------------------------------------------------------------
def published(final: Path) -> bool:
    """Whether the artefact folder ``final`` is published (complete) in the storage."""
    if not is_remote():
        return final.exists()
    return files.storage().exists(name_of(final / files.MANIFEST))


def publish(staging: Path, final: Path) -> None:
    """Publish a built staging folder (scratch already dropped) as ``final``.

    Local storage: one rename (``recsys.artefacts.files.publish_local``). Remote: upload every file, the
    manifest last, then delete the run's scratch from the storage; the built folder stays here
    as this machine's local copy."""
    if not is_remote():
        files.publish_local(staging, final)
        return
    target = name_of(final)
    uploads = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != files.MANIFEST)
    for local in [*uploads, staging / files.MANIFEST]:
        with local.open("rb") as handle:
            _put(f"{target}/{local.relative_to(staging).as_posix()}", File(handle))
    _delete_prefix(name_of(staging))
    _move_into_place(staging, final)


def local_copy(relative_path: str) -> Path:
    """The local folder of a published artefact (``Artefact.path``), for memory-mapping.

    Local storage: the published folder itself. Remote: ``RECSYS_ARTEFACT_CACHE/<path>``,
    downloaded on first use into a temporary folder and renamed into place (atomic), after which
    copies of the engine's other versions beyond ``RECSYS_ARTEFACT_KEEP`` are deleted (a process
    still reading one keeps its memory maps: the files stay until they are closed)."""
    final = files.artefact_root() / relative_path
    if not is_remote() or (final / files.MANIFEST).exists():
        return final
    tmp = _temp_dir()
    if not _download(relative_path, tmp) or not (tmp / files.MANIFEST).exists():
        shutil.rmtree(tmp, ignore_errors=True)
        raise FileNotFoundError(f"Artefact {relative_path!r} is not published in the artefacts storage.")
    _move_into_place(tmp, final)
    _prune_copies(final)
    return final


def _prune_copies(current: Path) -> None:
    keep = max(1, int(settings.RECSYS_ARTEFACT_KEEP))
    copies = [
        child
        for child in current.parent.iterdir()
        if child != current and not child.name.startswith(".") and (child / files.MANIFEST).exists()
    ]
    copies.sort(key=lambda child: child.stat().st_mtime, reverse=True)
    for stale in copies[keep - 1 :]:
        files.remove_local_tree(stale)
