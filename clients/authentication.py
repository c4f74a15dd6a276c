"""``Authorization: Api-Key <key>`` (or ``X-API-Key: <key>``, or ``Authorization: Bearer pk_...``): a
museum app's key (``clients.models.ApiKey``).

The request stays account-less (``request.user`` is anonymous, so nothing of an account can be
read or written with a key); ``request.auth`` is the app's ``ApiKey`` row: its identity, its
rate (``config.api.throttles.ApiKeyRateThrottle``) and its optional collection. An unknown or
revoked key is refused with 401; a request without the header is left to the other
authenticators (and, without any, is anonymous).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from clients.models import ApiKey
from config.api.authentication import WWW_AUTHENTICATE, app_key_credential


class ApiKeyAuthentication(TokenAuthentication):
    """The key of ``Api-Key``, ``X-API-Key`` or ``Bearer pk_...``, checked against hashed, revocable keys."""

    keyword = "Api-Key"

    def authenticate(self, request: object) -> tuple[AnonymousUser, ApiKey] | None:
        key = app_key_credential(request)
        return None if key is None else self.authenticate_credentials(key)

    def authenticate_header(self, request: object) -> str:
        return WWW_AUTHENTICATE

    def authenticate_credentials(self, key: str) -> tuple[AnonymousUser, ApiKey]:
        found = ApiKey.objects.filter(key_hash=ApiKey.hash_key(key)).first()
        if found is None or not found.is_active:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        from clients.services import api_key_touch  # not at import: DRF settings import this module

        api_key_touch(key=found)
        return AnonymousUser(), found


def request_api_key(request: object) -> ApiKey | None:
    """The app key that authenticated ``request``, if any."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


def app_collection(request: object, collection: str | None) -> str | None:
    """The collection a request asks for, else its app key's own collection (None: all)."""
    if collection is not None:
        return collection
    app = request_api_key(request)
    return app.collection if app is not None and app.collection else None


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The key as an OpenAPI security scheme (``apiKeyAuth``) in the schema and Swagger UI."""

    target_class = "clients.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"
    priority = 1  # before drf-spectacular's TokenAuthentication scheme, which matches subclasses

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": (
                "A museum app's key (created in the admin), pasted as it is: sent as `X-API-Key: <key>`. "
                "`Authorization: Api-Key <key>` works too."
            ),
        }
