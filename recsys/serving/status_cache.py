"""Recommender and engine statuses, and which artefact is active, served from the cache.

Every entry is stored under a *version key*: ``recsys:status:<version>:<name>``, where
``<version>`` is the value of ``recsys:status:version``. Activating an artefact
(``recsys.build.finalizing``) writes a new version after its transaction commits, so every
process (web workers, the background worker) misses at once and reads the new state; old
entries are never looked up again and expire. Entries also expire after
``RECSYS_STATUS_CACHE_S`` seconds, so the progress of a build that is still computing is at most
that old.

In front of the cache each process keeps what it read for ``RECSYS_STATUS_LOCAL_S`` seconds
(default 2): a recommendation then needs no cache round trip to find its engines' active
artefacts. ``invalidate()`` empties that memo at once in the process that activates; other
processes follow within ``RECSYS_STATUS_LOCAL_S`` seconds (their memo expires, they ask the cache,
which has the new version). A reader that must see another process's activation at once passes
``local=False`` (the web pages: ``web.selectors.recommender_statuses``).

Fails open, like ``config.ratelimit``: a cache error computes the value from the database and
logs a warning, and the cache is not asked again for ``RATELIMIT_FAILURE_BACKOFF_S`` seconds (per
process). An invalidation that cannot be written leaves entries at most ``RECSYS_STATUS_CACHE_S``
seconds stale.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from uuid import uuid4

from django.conf import settings
from django.core.cache import caches

logger = logging.getLogger(__name__)

VERSION_KEY = "recsys:status:version"
T = TypeVar("T")

_backoff_until = 0.0
_lock = threading.Lock()
#: per-process memo in front of the cache: name -> (value, valid until, monotonic seconds)
_local: dict[str, tuple[object, float]] = {}


def _failed(exc: BaseException, what: str) -> None:
    global _backoff_until
    with _lock:
        _backoff_until = time.monotonic() + settings.RATELIMIT_FAILURE_BACKOFF_S
    logger.warning("status cache unavailable (%s: %s); %s from the database", type(exc).__name__, exc, what)


def _version() -> str:
    cache = caches["default"]
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return str(version)


def cached(name: str, compute: Callable[[], T], *, local: bool = True) -> T:
    """``compute()``, from the cache while neither an activation nor ``RECSYS_STATUS_CACHE_S``
    has passed since it was stored; not ``local``: past this process's memo (what another
    process activated is seen at once, not ``RECSYS_STATUS_LOCAL_S`` later)."""
    ttl = settings.RECSYS_STATUS_CACHE_S
    if ttl <= 0 or time.monotonic() < _backoff_until:
        return compute()
    local_s = min(settings.RECSYS_STATUS_LOCAL_S, ttl)
    now = time.monotonic()
    memo = _local.get(name) if local else None
    if memo is not None and now < memo[1]:
        return memo[0]  # type: ignore[return-value]
    value = _shared(name, compute, ttl)
    if local_s > 0:
        _local[name] = (value, now + local_s)
    return value


def _shared(name: str, compute: Callable[[], T], ttl: int) -> T:
    try:
        key = f"recsys:status:{_version()}:{name}"
        hit = caches["default"].get(key)
    except Exception as exc:  # Redis down, frozen (timeout), misconfigured: serve from the database
        _failed(exc, name)
        return compute()
    if hit is not None:
        return hit
    value = compute()
    try:
        caches["default"].set(key, value, timeout=ttl)
    except Exception as exc:
        _failed(exc, name)
    return value


def forget_local() -> None:
    """Empty this process's memo (the next read asks the cache)."""
    _local.clear()


def invalidate() -> None:
    """A new version: every process reads the statuses and active artefacts afresh (this one at
    once, the others when their memo expires)."""
    forget_local()
    try:
        caches["default"].set(VERSION_KEY, uuid4().hex, timeout=None)
    except Exception as exc:
        logger.warning(
            "status cache not invalidated (%s: %s); stale for at most %s s",
            type(exc).__name__,
            exc,
            settings.RECSYS_STATUS_CACHE_S,
        )
