"""The credentials the API accepts, and the authenticator that refuses every other one.

Accepted (``ACCEPTED_CREDENTIALS``):

* ``Authorization: Token <token>`` or ``Authorization: Bearer <token>``: an account's API token
  (``users.authentication.ApiTokenAuthentication``);
* ``Authorization: Api-Key <key>``, ``Authorization: Bearer pk_...`` or ``X-API-Key: <key>``: a
  museum app's key (``clients.authentication.ApiKeyAuthentication``; app keys start with ``pk_``);
* the session cookie of the web site (with its CSRF token).

Anything else in ``Authorization`` (``Basic ...``, ``ApiKey ...``, a bare key without a scheme) is
never silently anonymous: ``UnsupportedCredentialsAuthentication``, listed after the token and key
authenticators, answers 401 with ``WWW-Authenticate`` and a JSON body naming the accepted forms.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

#: App keys start with this (``clients.services``); a Bearer credential with it is an app key.
APP_KEY_PREFIX = "pk_"
API_KEY_HEADER = "HTTP_X_API_KEY"

ACCEPTED_CREDENTIALS = [
    "Authorization: Token <token>",
    "Authorization: Bearer <token or pk_ key>",
    "Authorization: Api-Key <key>",
    "X-API-Key: <key>",
]
#: The challenges of every 401 (RFC 9110 section 11.6.1: one per scheme, comma-separated).
WWW_AUTHENTICATE = 'Token realm="api", Bearer realm="api", Api-Key realm="api"'


def authorization(request: Any) -> tuple[str, str] | None:
    """``(scheme in lower case, credential)`` of the ``Authorization`` header, None without one.

    A header that is not ``<scheme> <credential>`` (no credential, spaces in it, not latin-1)
    is refused here with a 401 naming the accepted forms."""
    raw = get_authorization_header(request)
    if not raw.strip():
        return None
    parts = raw.split()
    if len(parts) != 2:
        raise UnsupportedCredentials("The Authorization header must be '<scheme> <credential>'.")
    try:
        return parts[0].decode("latin-1").lower(), parts[1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise UnsupportedCredentials("The credential contains characters a key never has.") from exc


def app_key_credential(request: Any) -> str | None:
    """The app key a request sends (``X-API-Key``, ``Api-Key`` or ``Bearer pk_...``), if any."""
    header = request.META.get(API_KEY_HEADER, "").strip()
    if header:
        return header
    parsed = authorization(request)
    if parsed is None:
        return None
    scheme, credential = parsed
    if scheme == "api-key" or (scheme == "bearer" and credential.startswith(APP_KEY_PREFIX)):
        return credential
    return None


def token_credential(request: Any) -> str | None:
    """The account token a request sends (``Token <token>`` or ``Bearer <token>``), if any."""
    if request.META.get(API_KEY_HEADER, "").strip():
        return None  # an app key: the key authenticator answers
    parsed = authorization(request)
    if parsed is None:
        return None
    scheme, credential = parsed
    if scheme == "token" or (scheme == "bearer" and not credential.startswith(APP_KEY_PREFIX)):
        return credential
    return None


class UnsupportedCredentials(exceptions.AuthenticationFailed):
    """401 for credentials the API cannot verify (the handler adds the accepted forms)."""

    default_code = "unsupported_credentials"

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} Send one of: {'; '.join(ACCEPTED_CREDENTIALS)}.")


class UnsupportedCredentialsAuthentication(BaseAuthentication):
    """Last of the header authenticators: a credential nobody before it took is refused (401)."""

    def authenticate(self, request: Any) -> None:
        parsed = authorization(request)
        if parsed is not None:
            raise UnsupportedCredentials(f"Unsupported authentication scheme {parsed[0]!r}.")
        return None

    def authenticate_header(self, request: Any) -> str:
        return WWW_AUTHENTICATE


class UnsupportedCredentialsScheme(OpenApiAuthenticationExtension):
    """Nothing to document: the refusing authenticator adds no security scheme of its own."""

    target_class = "config.api.authentication.UnsupportedCredentialsAuthentication"
    name: list[str] = []

    def get_security_requirement(self, auto_schema: object) -> None:
        return None

    def get_security_definition(self, auto_schema: object) -> list:
        return []
