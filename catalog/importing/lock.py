"""One catalogue import at a time, across processes: ``import_lock()``.

Two imports writing the same paintings at once would race on the unique external ids (the
second died with an ``IntegrityError``). The lock is taken without waiting; a second import
gets ``ImportAlreadyRunning`` before it reads or writes anything.

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of
  its own, so it does not depend on the import's transactions; released when the import ends
  (``pg_advisory_unlock``), and with the session when the connection closes or the process dies.
* Other databases (SQLite): an exclusive ``flock`` on a file next to the database file (in the
  temporary folder, per process, for an in-memory database); the kernel releases it when the
  process dies.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

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
    acquired = False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            (acquired,) = cursor.fetchone()
        if not acquired:
            raise ImportAlreadyRunning(f"{MESSAGE}.")
        yield
    finally:
        # released now: a closed session's locks go only when its server process has ended, and
        # an import started right after this one would be refused meanwhile. If the connection
        # is already gone, ending the session releases the lock.
        with suppress(DatabaseError):
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        connection.close()


@contextmanager
def import_lock(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Held for a whole catalogue import (see the module docstring)."""
    if connections[using].vendor == "postgresql":
        with advisory_lock(using):
            yield
    else:
        with file_lock(lock_file_path(using)):
            yield
