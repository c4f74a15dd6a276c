"""A database outage answers 503 with ``Retry-After``, and is logged once, not once per request.

What counts as an outage (``is_database_outage``): a ``django.db`` ``OperationalError`` or
``InterfaceError`` whose cause is a lost or refused connection, never a bug in a query:

* PostgreSQL (psycopg): no SQLSTATE (the connection could not be made or broke), class 08
  (connection exception), 57P01-57P03 (the server is shutting down or starting) or 53300 (too
  many connections);
* SQLite: a locked or unopenable database file.

Where it is answered:

* DRF views: ``config.exceptions.api_exception_handler`` (JSON body, code ``database_unavailable``);
* other views: ``config.middleware.DatabaseOutageMiddleware.process_exception`` (JSON under
  /api/, a plain page on the web: ``config.exceptions.database_outage_response``);
* middleware that touched the database (the session, the signed-in user):
  ``config.exceptions.handler500`` and, under DEBUG, the middleware's check of the flag that
  ``got_request_exception`` leaves on the request.

The first failure of an outage is logged at ERROR with its cause (no traceback); later ones are
not logged (Django's per-request error log is skipped with ``_has_been_logged``); the first
request that uses the database successfully afterwards logs the recovery and its duration.
State is per process.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.dispatch import receiver
from django.http import HttpRequest

logger = logging.getLogger(__name__)

CODE = "database_unavailable"
MESSAGE = "The database is unavailable just now; nothing was changed. Try again in a few seconds."
_PG_OUTAGE_STATES = {"57P01", "57P02", "57P03", "53300"}
_SQLITE_OUTAGE_WORDS = ("database is locked", "unable to open database file", "disk i/o error")
REQUEST_FLAG = "_database_outage"

_lock = threading.Lock()
_outage_since: float | None = None


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the database cannot be reached (see the module docstring)."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.Error):
        return any(word in str(cause).lower() for word in _SQLITE_OUTAGE_WORDS)
    if isinstance(exc, InterfaceError):
        return True  # the connection is already closed
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is None:
        return True  # psycopg: refused, reset, timed out: no server answered with a state
    return sqlstate.startswith("08") or sqlstate in _PG_OUTAGE_STATES


def outage_started(exc: BaseException) -> None:
    """Note a failure; only the first of an outage is logged."""
    global _outage_since
    with _lock:
        first = _outage_since is None
        if first:
            _outage_since = time.monotonic()
    if first:
        logger.error("database unavailable, answering 503 until it is back: %s: %s", type(exc).__name__, exc)


def outage_over() -> None:
    """Note a request that used the database successfully: logs the end of an outage once."""
    global _outage_since
    with _lock:
        since, _outage_since = _outage_since, None
    if since is not None:
        logger.warning("database reachable again after %.0f s", time.monotonic() - since)


def in_outage() -> bool:
    return _outage_since is not None


def retry_after() -> int:
    return settings.DATABASE_OUTAGE_RETRY_AFTER_S


@receiver(got_request_exception, dispatch_uid="config.db_outage.flag")
def _flag_outage(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    """An exception no view handled (raised in a middleware): remember it if it is an outage."""
    exc = sys.exc_info()[1]
    if request is not None and is_database_outage(exc):
        setattr(request, REQUEST_FLAG, exc)


def used_a_connection() -> bool:
    """Whether this thread holds an open database connection (the request reached the database)."""
    return any(
        getattr(conn, "connection", None) is not None for conn in connections.all(initialized_only=True)
    )
