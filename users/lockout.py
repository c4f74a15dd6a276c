"""Login lockout: per-account and per-client limits on failed password checks.

Every password check (the web login, the admin login, ``POST /api/v1/auth/token/``) goes through
``users.authentication.LockoutModelBackend``, which asks ``login_blocked`` *before* hashing the
password and reports each failure to ``login_failed``. Two fixed-window counters in the cache:

* per account (the username as typed, case-folded): ``LOGIN_FAILURES_PER_ACCOUNT`` failures per
  ``LOGIN_FAILURE_WINDOW_S`` lock that account for the rest of the window, whatever the client;
* per client address: ``LOGIN_FAILURES_PER_CLIENT`` failures lock that client out of every account.

A successful login clears the account's counter. Counters live in the cache (Redis with
``REDIS_URL``) and fail open when it is down, like the API throttles (``config.ratelimit``).
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from config import ratelimit


def _keys(username: str, client: str) -> tuple[str, str]:
    """Cache keys; the username is hashed (any text may be typed into the form)."""
    account = hashlib.sha256(username.strip().casefold().encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"login-fail:account:{account}", f"login-fail:client:{client}"


def login_blocked(*, username: str, client: str) -> int | None:
    """Seconds until the account or the client may try again, or None if neither is locked."""
    window = settings.LOGIN_FAILURE_WINDOW_S
    account_key, client_key = _keys(username, client)
    if (
        ratelimit.peek(account_key, window_s=window) >= settings.LOGIN_FAILURES_PER_ACCOUNT
        or ratelimit.peek(client_key, window_s=window) >= settings.LOGIN_FAILURES_PER_CLIENT
    ):
        return ratelimit.window_remaining(window)
    return None


def login_failed(*, username: str, client: str) -> None:
    """Count one failed password check against the account and the client."""
    window = settings.LOGIN_FAILURE_WINDOW_S
    account_key, client_key = _keys(username, client)
    ratelimit.hit(account_key, limit=settings.LOGIN_FAILURES_PER_ACCOUNT, window_s=window)
    ratelimit.hit(client_key, limit=settings.LOGIN_FAILURES_PER_CLIENT, window_s=window)


def login_succeeded(*, username: str) -> None:
    """A correct password clears the account's failures (the client's stay counted)."""
    ratelimit.reset(_keys(username, "")[0], window_s=settings.LOGIN_FAILURE_WINDOW_S)
