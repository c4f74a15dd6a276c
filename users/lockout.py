"""Login lockout that an attacker cannot aim at someone else.

Every password check (the web login, the admin login, ``POST /api/v1/auth/token/``) goes through
``users.authentication.LockoutModelBackend``, which asks ``login_blocked`` *before* hashing the
password and reports each outcome to ``login_failed`` / ``login_succeeded``. Fixed-window counters
(``LOGIN_FAILURE_WINDOW_S``) in the cache, and a memory of each account's **known clients** (the
addresses it signed in from, for ``LOGIN_KNOWN_CLIENT_DAYS``):

* per account and client: ``LOGIN_FAILURES_PER_ACCOUNT_CLIENT`` failures lock that client out of
  that account for the rest of the window (guessing from one place is slowed; nobody else is);
* per account: after ``LOGIN_FAILURES_PER_ACCOUNT`` failures (from anywhere) the account refuses
  clients it does not know, but never the ones it signed in from before: guesses spread over many
  addresses cannot lock its owner out, however long they go on;
* per client: after ``LOGIN_FAILURES_PER_CLIENT`` failures, plus ``LOGIN_FAILURES_PER_SUCCESS``
  more for each success from it in the window, the client may sign in only to accounts that know
  it. A password-spraying address (no successes) is stopped; a museum app's server, behind which
  many visitors sign in (most of them successfully), is not, and its known visitors never are.

Counters live in the cache (Redis with ``REDIS_URL``) and fail open when it is down, like the API
throttles (``config.ratelimit``).
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache

from config import ratelimit

logger = logging.getLogger(__name__)


def _account(username: str) -> str:
    """The account's key; the username is hashed (any text may be typed into the form)."""
    return hashlib.sha256(username.strip().casefold().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _client(client: str) -> str:
    return hashlib.sha256(client.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _known_key(account: str, client: str) -> str:
    return f"login-known:{account}:{_client(client)}"


def is_known_client(*, username: str, client: str) -> bool:
    """Whether the account signed in from ``client`` within ``LOGIN_KNOWN_CLIENT_DAYS``."""
    try:
        return bool(cache.get(_known_key(_account(username), client)))
    except Exception as exc:  # the cache down: nothing is counted either (fail open)
        logger.warning("login lockout cache unavailable (%s); treating %s as known", exc, client)
        return True


def login_blocked(*, username: str, client: str) -> int | None:
    """Seconds until ``client`` may try ``username`` again, or None if it may try now."""
    window = settings.LOGIN_FAILURE_WINDOW_S
    account = _account(username)
    pair = ratelimit.peek(f"login-fail:pair:{account}:{_client(client)}", window_s=window)
    if pair >= settings.LOGIN_FAILURES_PER_ACCOUNT_CLIENT:
        return ratelimit.window_remaining(window)
    if is_known_client(username=username, client=client):
        return None
    if (
        ratelimit.peek(f"login-fail:account:{account}", window_s=window)
        >= settings.LOGIN_FAILURES_PER_ACCOUNT
    ):
        return ratelimit.window_remaining(window)
    failures = ratelimit.peek(f"login-fail:client:{client}", window_s=window)
    successes = ratelimit.peek(f"login-ok:client:{client}", window_s=window)
    if failures >= settings.LOGIN_FAILURES_PER_CLIENT + settings.LOGIN_FAILURES_PER_SUCCESS * successes:
        return ratelimit.window_remaining(window)
    return None


def login_failed(*, username: str, client: str) -> None:
    """Count one failed password check against the account, the client and the pair."""
    window = settings.LOGIN_FAILURE_WINDOW_S
    account = _account(username)
    unbounded = 2**31  # counted only: ``login_blocked`` compares the counts itself
    ratelimit.hit(f"login-fail:pair:{account}:{_client(client)}", limit=unbounded, window_s=window)
    ratelimit.hit(f"login-fail:account:{account}", limit=unbounded, window_s=window)
    ratelimit.hit(f"login-fail:client:{client}", limit=unbounded, window_s=window)


def login_succeeded(*, username: str, client: str) -> None:
    """A correct password: the client becomes known to the account, the pair's failures are
    cleared, and the success is counted for the client."""
    window = settings.LOGIN_FAILURE_WINDOW_S
    account = _account(username)
    ratelimit.reset(f"login-fail:pair:{account}:{_client(client)}", window_s=window)
    ratelimit.hit(f"login-ok:client:{client}", limit=2**31, window_s=window)
    try:
        cache.set(_known_key(account, client), 1, timeout=settings.LOGIN_KNOWN_CLIENT_DAYS * 86400)
    except Exception as exc:
        logger.warning("login lockout cache unavailable (%s); %s not remembered", exc, client)
