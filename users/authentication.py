"""How requests and credentials are authenticated.

* ``ApiTokenAuthentication`` (DRF): ``Authorization: Token <key>`` against ``users.models.ApiToken``
  (looked up by the key's SHA-256; expired, revoked or inactive-account tokens are refused).
* ``LockoutModelBackend`` (Django ``AUTHENTICATION_BACKENDS``): the model backend behind the login
  lockout of ``users.lockout``; a locked account or client is refused before the password is hashed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from config.ratelimit import client_ip
from users import lockout
from users.models import ApiToken, User


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing (``Token <key>``; subclassed so the OpenAPI schema names it
    ``tokenAuth``), checked against hashed, expiring, revocable ``ApiToken`` rows."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()
        if token is None or token.revoked_at is not None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.expires_at is not None and token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("Token expired; request a new one.")
        from users.services import api_token_touch  # not at import: DRF settings import this module

        api_token_touch(token=token)
        return token.user, token


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
            lockout.login_succeeded(username=username)
        return user
