"""Writes for API keys: creating (the raw key is returned once, never stored), revoking, and
recording use at most once a minute per key."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from clients.models import DEFAULT_RATE, ApiKey

KEY_PREFIX = "pk_"  # tells an app key from a user token at a glance
TOUCH_EVERY = timedelta(minutes=1)


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def api_key_issue(*, key: ApiKey) -> str:
    """Give the unsaved ``key`` a fresh secret and save it; returns the raw key (the only time it
    exists outside the caller: only its hash is stored)."""
    raw = _new_key()
    key.key_hash = ApiKey.hash_key(raw)
    key.prefix = raw[: ApiKey.PREFIX_LENGTH]
    key.full_clean()
    key.save()
    return raw


def api_key_create(*, name: str, rate: str = DEFAULT_RATE, collection: str = "") -> tuple[ApiKey, str]:
    """A new key for the app ``name``: (row, raw key)."""
    key = ApiKey(name=name, rate=rate, collection=collection)
    return key, api_key_issue(key=key)


def api_key_revoke(*, key: ApiKey) -> bool:
    """Revoke ``key`` (its requests are refused with 401 from now on); False if already revoked."""
    updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return bool(updated)


def api_key_touch(*, key: ApiKey) -> None:
    """Record use; at most one write a minute per key, however many requests the app sends."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
