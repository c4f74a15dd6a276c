"""A database outage answers 503 with ``Retry-After``, and is logged once, not once per request.

What counts as an outage (``is_database_outage``): a ``django.db`` ``OperationalError`` or
``InterfaceError`` whose cause is a lost or refused connection, never a bug in a query:

* PostgreSQL (psycopg): no SQLSTATE (the connection could not be made or broke), class 08
  (connection exception), 57P01-57P03 (the server is shutting down or starting) or 53300 (too
  many connections);
* SQLite: a locked or unopenable database file.

Where it is answered:

* DRF views: ``config.exceptions.api_exception_handler`` (JSON body, code ``database_unavailable``);
* other views: ``DatabaseOutageMiddleware.process_exception`` (JSON under /api/, a plain page on
  the web);
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
from collections.abc import Callable

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

CODE = "database_unavailable"
MESSAGE = "The database is unavailable just now; nothing was changed. Try again in a few seconds."
_PG_OUTAGE_STATES = {"57P01", "57P02", "57P03", "53300"}
_SQLITE_OUTAGE_WORDS = ("database is locked", "unable to open database file", "disk i/o error")
_REQUEST_FLAG = "_database_outage"

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


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """503 with ``Retry-After``: the API's JSON error body under /api/, a plain page elsewhere.
    Rendered without templates or context processors (they may read the database)."""
    from config.exceptions import api_error_response, is_api_path

    outage_started(exc)
    if is_api_path(request.path):
        response: HttpResponse = api_error_response(503, CODE, MESSAGE)
    else:
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Back in a moment</title></head>"
            "<body><h1>Back in a moment</h1><p>The site cannot reach its database just now. Nothing "
            "you sent was lost or half-saved; please try again in a few seconds.</p></body></html>"
        )
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(retry_after())
    response._has_been_logged = True  # type: ignore[attr-defined]  # logged once, above
    return response


@receiver(got_request_exception, dispatch_uid="config.db_outage.flag")
def _flag_outage(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    """An exception no view handled (raised in a middleware): remember it if it is an outage."""
    exc = sys.exc_info()[1]
    if request is not None and is_database_outage(exc):
        setattr(request, _REQUEST_FLAG, exc)


class DatabaseOutageMiddleware:
    """Answers a database outage as ``outage_response`` (placed inside ``ApiJsonErrorsMiddleware``,
    so that its ``process_exception`` runs first and no traceback is logged)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = getattr(request, _REQUEST_FLAG, None)
        if exc is not None and response.status_code >= 500 and response.status_code != 503:
            return outage_response(request, exc)
        if exc is None and in_outage() and response.status_code < 500 and _used_a_connection():
            outage_over()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        setattr(request, _REQUEST_FLAG, exception)
        return outage_response(request, exception)


def _used_a_connection() -> bool:
    """Whether this thread holds an open database connection (the request reached the database)."""
    return any(
        getattr(conn, "connection", None) is not None for conn in connections.all(initialized_only=True)
    )
