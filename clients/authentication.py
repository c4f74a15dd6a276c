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

from catalog.models import Painting
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
    """The collection a request may search: the one it names, bounded by its app key's own.

    Without a restricted key: the request's ``collection`` (None: all). With a key restricted to a
    collection: that collection when the request names none or the same one (slug or name, any
    case); naming another one would widen the key and is a ``ValidationFailed`` on ``collection``.
    """
    app = request_api_key(request)
    if app is None or not app.collection:
        return collection
    if collection is None:
        return app.collection
    from catalog.selectors import collection_source  # not at import: DRF settings import this module
    from config.exceptions import ValidationFailed

    if collection_source(collection) != app.collection:
        raise ValidationFailed(
            f"This API key is restricted to the collection {app.collection!r}; a request may name "
            "that collection or none.",
            field="collection",
        )
    return app.collection


def painting_in_app_collection(request: object, painting: Painting) -> Painting:
    """``painting``, or ``UnknownPainting`` (404) when the request's app key is restricted to
    another collection (the answer to an id that does not exist: nothing outside it shows)."""
    from config.exceptions import UnknownPainting  # not at import: DRF settings import this module

    app = request_api_key(request)
    if app is not None and app.collection and painting.source != app.collection:
        raise UnknownPainting(f"Unknown painting id: {painting.external_id}.", field="id")
    return painting


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
