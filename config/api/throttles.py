"""Rate limits of the API beyond DRF's anon/user throttles."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class RecommendAnonRateThrottle(SimpleRateThrottle):
    """Per-client-address limit of the account-less recommendation endpoint (scope ``recommend_anon``).

    The rate is read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` at request time, so it can be
    changed in settings (and in tests) without re-importing this module.
    """

    scope = "recommend_anon"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
