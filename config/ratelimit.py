"""Atomic fixed-window counters on the default cache, the client address, and a rate-limit decorator.

A counter is the number of hits of ``key`` in the current window of ``window_s`` seconds. On Redis
one ``MULTI; SET key 0 EX window NX; INCR key; EXEC`` round trip creates the window and counts the
hit atomically, so N concurrent requests see N distinct counts and never more than ``limit`` are
allowed; the key expires with its window. Other caches (locmem: the embedded default and tests)
use ``add`` + ``incr``, atomic within the process that owns the cache.

Cache failures fail open: a counter that cannot be read allows the request and logs a warning,
so a Redis outage degrades rate limiting instead of failing every request. After a failure the
cache is not asked again for ``RATELIMIT_FAILURE_BACKOFF_S`` seconds (per process), so a frozen
Redis costs one socket timeout per process and back-off period, not one per request.

The client address is ``REMOTE_ADDR`` unless ``NUM_PROXIES`` trusted proxies sit in front: then it
is the ``X-Forwarded-For`` entry the outermost trusted proxy appended (the ``NUM_PROXIES``-th
from the right); anything left of it is client-supplied and ignored.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_backoff_until = 0.0
_backoff_lock = threading.Lock()


@dataclass(frozen=True)
class Hit:
    """The outcome of counting one hit: allowed or not, and seconds until the window ends."""

    allowed: bool
    count: int
    retry_after: int


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/min"`` -> ``(10, 60)``; also ``"5/15m"``-style multiples (``(5, 900)``)."""
    number, _, period = rate.partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :]
    if unit not in _UNITS:
        raise ValueError(f"Unknown rate period {period!r} in {rate!r}.")
    return int(number), int(digits or 1) * _UNITS[unit]


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry set by the outermost of
    ``NUM_PROXIES`` trusted proxies (0, the default: X-Forwarded-For is ignored)."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.NUM_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote  # fewer hops than configured proxies: the request bypassed them
    return forwarded[-proxies]


def _cache_unavailable() -> bool:
    return time.monotonic() < _backoff_until


def _cache_failed(exc: BaseException, key: str) -> None:
    global _backoff_until
    with _backoff_lock:
        _backoff_until = time.monotonic() + settings.RATELIMIT_FAILURE_BACKOFF_S
    logger.warning("rate limit cache unavailable (%s: %s); allowing %s", type(exc).__name__, exc, key)


def _count(key: str, window_s: int) -> int:
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        client = cache._cache.get_client(full_key, write=True)
        pipe = client.pipeline(transaction=True)
        pipe.set(full_key, 0, ex=window_s, nx=True)
        pipe.incr(full_key)
        return int(pipe.execute()[1])
    cache.add(key, 0, timeout=window_s)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: a new window starts with this hit
        cache.add(key, 1, timeout=window_s)
        return 1


def window_remaining(window_s: int) -> int:
    """Seconds until the current fixed window of ``window_s`` seconds ends."""
    return window_s - int(time.time()) % window_s


def hit(key: str, *, limit: int, window_s: int) -> Hit:
    """Count a hit of ``key`` in its fixed window; allowed while the count is at most ``limit``.

    Fails open (allowed, count 0) when the cache cannot be reached."""
    bucket = int(time.time()) // window_s
    retry_after = window_remaining(window_s)
    full = f"rl:{key}:{bucket}"
    if _cache_unavailable():
        return Hit(True, 0, retry_after)
    try:
        count = _count(full, window_s)
    except Exception as exc:  # any cache error: Redis down, frozen (timeout), misconfigured
        _cache_failed(exc, key)
        return Hit(True, 0, retry_after)
    return Hit(count <= limit, count, retry_after)


def peek(key: str, *, window_s: int) -> int:
    """The current count of ``key`` without counting a hit (0 when unknown or the cache is down)."""
    if _cache_unavailable():
        return 0
    full = f"rl:{key}:{int(time.time()) // window_s}"
    try:
        return int(caches["default"].get(full) or 0)
    except Exception as exc:
        _cache_failed(exc, key)
        return 0


def reset(key: str, *, window_s: int) -> None:
    """Forget the current window of ``key`` (e.g. an account's failures after a good login)."""
    if _cache_unavailable():
        return
    try:
        caches["default"].delete(f"rl:{key}:{int(time.time()) // window_s}")
    except Exception as exc:
        _cache_failed(exc, key)


def rate_limited(scope: str, *, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """View decorator: at most ``settings.RATE_LIMITS[scope]`` requests per client address with
    one of ``methods``; beyond it a plain-text 429 with ``Retry-After``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                limit, window_s = parse_rate(settings.RATE_LIMITS[scope])
                outcome = hit(f"{scope}:{client_ip(request)}", limit=limit, window_s=window_s)
                if not outcome.allowed:
                    response = HttpResponse(
                        f"Too many requests from your address; try again in {outcome.retry_after} s.",
                        status=429,
                        content_type="text/plain; charset=utf-8",
                    )
                    response["Retry-After"] = str(outcome.retry_after)
                    return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
