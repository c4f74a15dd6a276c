"""Rate limits of the API (``DEFAULT_THROTTLE_CLASSES`` and per-view scopes).

Every throttle counts on ``config.ratelimit``: atomic fixed-window counters in the cache (one Redis
round trip per request), the client address from ``NUM_PROXIES`` trusted proxies only (a rotated
``X-Forwarded-For`` changes nothing unless a trusted proxy wrote it), and fail-open with a logged
warning when the cache is down. Rates are read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``
at request time, so settings (and tests) can change them without re-importing this module.
"""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from config.ratelimit import Hit, client_ip, hit, parse_rate

#: Attribute of the Django request holding the most binding limit seen (``RateLimitState``).
STATE_ATTRIBUTE = "ratelimit_state"


class RateLimitState:
    """One throttle's view of a request: its limit, what is left, seconds until its window ends."""

    __slots__ = ("limit", "remaining", "reset", "window_s")

    def __init__(self, *, limit: int, window_s: int, outcome: Hit) -> None:
        self.limit = limit
        self.window_s = window_s
        self.remaining = max(0, limit - outcome.count)
        self.reset = outcome.retry_after


def record(request: Any, *, limit: int, window_s: int, outcome: Hit) -> None:
    """Keep the most binding limit of ``request`` (fewest requests left, then the latest reset):
    ``config.middleware.RateLimitHeadersMiddleware`` answers it as ``RateLimit-*`` headers."""
    django_request = getattr(request, "_request", request)
    state = RateLimitState(limit=limit, window_s=window_s, outcome=outcome)
    current = getattr(django_request, STATE_ATTRIBUTE, None)
    if current is None or (state.remaining, -state.reset) < (current.remaining, -current.reset):
        setattr(django_request, STATE_ATTRIBUTE, state)


def _app_key(request: Any) -> Any:
    """The museum-app key that authenticated the request (``clients.models.ApiKey``), if any."""
    from clients.authentication import request_api_key  # not at import: DRF settings import this

    return request_api_key(request)


class ScopedRateThrottle(BaseThrottle):
    """Base: ``scope`` names the rate; ``ident`` says whose requests are counted together."""

    scope: str = ""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def ident(self, request: Any) -> str | None:
        """The counter's owner, or None for a request this throttle does not count."""
        return client_ip(request)

    def allow_request(self, request: Any, view: Any) -> bool:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        ident = self.ident(request)
        if rate is None or ident is None:
            return True
        limit, window_s = parse_rate(rate)
        outcome = hit(f"throttle:{self.scope}:{ident}", limit=limit, window_s=window_s)
        self.retry_after = outcome.retry_after
        record(request, limit=limit, window_s=window_s, outcome=outcome)
        return outcome.allowed

    def wait(self) -> float | None:
        return self.retry_after


class AnonRateThrottle(ScopedRateThrottle):
    """Requests without an account, per client address (scope ``anon``)."""

    scope = "anon"

    def ident(self, request: Any) -> str | None:
        if (request.user and request.user.is_authenticated) or _app_key(request) is not None:
            return None
        return client_ip(request)


class UserRateThrottle(ScopedRateThrottle):
    """Requests of a signed-in account, per account (scope ``user``)."""

    scope = "user"

    def ident(self, request: Any) -> str | None:
        return str(request.user.pk) if request.user and request.user.is_authenticated else None


class RecommendAnonRateThrottle(ScopedRateThrottle):
    """Per-client-address limit of the account-less recommendation endpoint (scope ``recommend_anon``);
    requests with a museum-app key count against the key's own rate instead."""

    scope = "recommend_anon"

    def ident(self, request: Any) -> str | None:
        return None if _app_key(request) is not None else client_ip(request)


class ApiKeyRateThrottle(ScopedRateThrottle):
    """A museum app's requests, all visitors it proxies together, per key at the key's own
    ``rate`` (set in the admin); requests without a key are not counted here."""

    scope = "api_key"

    def allow_request(self, request: Any, view: Any) -> bool:
        key = _app_key(request)
        if key is None:
            return True
        limit, window_s = parse_rate(key.rate)
        outcome = hit(f"throttle:{self.scope}:{key.pk}", limit=limit, window_s=window_s)
        self.retry_after = outcome.retry_after
        record(request, limit=limit, window_s=window_s, outcome=outcome)
        return outcome.allowed


class AuthRateThrottle(ScopedRateThrottle):
    """Credential checks (``POST /api/v1/auth/token/``) per client address (scope ``auth``): checked
    before the password is hashed, so hashing cannot be used as an unbounded CPU sink."""

    scope = "auth"


class SearchImageRateThrottle(ScopedRateThrottle):
    """Image searches (``POST /api/v1/search/image/``) per client address (scope ``search_image``):
    each one decodes an upload and runs an image model, on top of the anon/user limits; requests
    with a museum-app key count against the key's own rate instead."""

    scope = "search_image"

    def ident(self, request: Any) -> str | None:
        return None if _app_key(request) is not None else client_ip(request)
