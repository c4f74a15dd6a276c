"""One catalogue import at a time, across processes: ``import_lock()``.

Two imports writing the same paintings at once would race on the unique external ids (the
second died with an ``IntegrityError``). The lock is taken without waiting; a second import
gets ``ImportAlreadyRunning`` before it reads or writes anything.

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of
  its own, so it does not depend on the import's transactions, and is released when that
  connection closes, also when the process dies.
* Other databases (SQLite): an exclusive ``flock`` on a file next to the database file (in the
  temporary folder, per process, for an in-memory database); the kernel releases it when the
  process dies.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections

from config.exceptions import ImportAlreadyRunning

#: Advisory lock key of the catalogue import (any constant bigint; "catalog" in ASCII).
ADVISORY_LOCK_KEY = int.from_bytes(b"catalog", "big")
MESSAGE = "An import is already running"


def lock_file_path(using: str = DEFAULT_DB_ALIAS) -> Path:
    """The lock file used on databases without advisory locks."""
    connection = connections[using]
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return Path(f"{name}.import.lock")
    return Path(tempfile.gettempdir()) / f"catalog-import-{os.getpid()}-{using}.lock"


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` or raise ``ImportAlreadyRunning`` at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ImportAlreadyRunning(f"{MESSAGE} (lock file {path}).") from exc
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def advisory_lock(using: str = DEFAULT_DB_ALIAS, *, key: int = ADVISORY_LOCK_KEY) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock ``key`` on a connection of its own, or raise
    ``ImportAlreadyRunning`` at once."""
    connection = connections.create_connection(using)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            (acquired,) = cursor.fetchone()
        if not acquired:
            raise ImportAlreadyRunning(f"{MESSAGE}.")
        yield
    finally:
        connection.close()  # ends the session, which releases the lock


@contextmanager
def import_lock(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Held for a whole catalogue import (see the module docstring)."""
    if connections[using].vendor == "postgresql":
        with advisory_lock(using):
            yield
    else:
        with file_lock(lock_file_path(using)):
            yield
