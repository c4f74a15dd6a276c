"""How requests and credentials are authenticated.

* ``ApiTokenAuthentication`` (DRF): ``Authorization: Token <key>`` (or ``Bearer <key>``, as Swagger
  UI sends it) against ``users.models.ApiToken`` (looked up by the key's SHA-256; expired, revoked
  or inactive-account tokens are refused). Other schemes: ``config.api.authentication``.
* ``LockoutModelBackend`` (Django ``AUTHENTICATION_BACKENDS``): the model backend behind the login
  lockout of ``users.lockout``; a locked account or client is refused before the password is hashed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from config.api.authentication import WWW_AUTHENTICATE, token_credential
from config.ratelimit import client_ip
from users import lockout
from users.models import ApiToken, User


class ApiTokenAuthentication(TokenAuthentication):
    """``Token <key>`` or ``Bearer <key>`` (``config.api.authentication.token_credential``; a
    subclass of DRF's class so the OpenAPI schema names it ``tokenAuth``), checked against hashed,
    expiring, revocable ``ApiToken`` rows."""

    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[User, ApiToken] | None:
        key = token_credential(request)
        return None if key is None else self.authenticate_credentials(key)

    def authenticate_header(self, request: Any) -> str:
        return WWW_AUTHENTICATE

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()
        if token is None or token.revoked_at is not None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.expires_at is not None and token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("Token expired; request a new one.")
        from users.services import api_token_touch  # not at import: DRF settings import this module

        api_token_touch(token=token)
        return token.user, token


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token as an HTTP bearer scheme (``tokenAuth``): Swagger UI's box takes the token as it
    is and sends ``Authorization: Bearer <token>``."""

    target_class = "users.authentication.ApiTokenAuthentication"
    name = "tokenAuth"
    priority = 1  # before drf-spectacular's TokenAuthentication scheme, which matches subclasses

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An account's API token (POST /api/v1/auth/token/), pasted as it is: sent as "
                "`Authorization: Bearer <token>`. `Authorization: Token <token>` works too."
            ),
        }


class LoginLockedOut(PermissionDenied):
    """Raised by the backend for a locked account or client; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed sign-ins; try again in {retry_after} s.")
        self.retry_after = retry_after


class LockoutModelBackend(ModelBackend):
    """``ModelBackend`` with per-account and per-client failure limits (``users.lockout``).

    ``django.contrib.auth.authenticate`` treats ``PermissionDenied`` as "stop, no user", so a locked
    account fails like a wrong password without any hashing; the raised error is also remembered
    on the request (``login_retry_after``) for views that answer 429 instead.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        client = client_ip(request) if request is not None else "local"
        retry_after = lockout.login_blocked(username=username, client=client)
        if retry_after is not None:
            if request is not None:
                request.login_retry_after = retry_after  # type: ignore[union-attr]
            raise LoginLockedOut(retry_after)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lockout.login_failed(username=username, client=client)
        else:
            lockout.login_succeeded(username=username, client=client)
        return user
