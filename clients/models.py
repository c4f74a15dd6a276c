"""Museum-app clients: one API key per app, hashed at rest, with its own rate limit.

A museum app proxies many visitors through one key (``Authorization: Api-Key <key>``); the key
identifies the app (``request.auth`` is its ``ApiKey`` row), not a person, so it grants nothing a
visitor without an account could not do, only a rate of its own instead of the per-address one.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import models

from config.ratelimit import parse_rate

DEFAULT_RATE = "6000/min"


def validate_rate(value: str) -> None:
    """``"<requests>/<period>"`` as ``config.ratelimit.parse_rate`` reads it (``"100/s"``, ``"6000/min"``)."""
    try:
        limit, _ = parse_rate(value)
    except ValueError as exc:
        raise ValidationError(f"Not a rate: {value!r} (e.g. 100/s, 6000/min, 100000/day).") from exc
    if limit <= 0:
        raise ValidationError("The number of requests must be positive.")


class ApiKey(models.Model):
    """One museum app's key, stored as its SHA-256 only (like ``users.ApiToken``).

    The key itself is shown once, when the admin creates it (``clients.services.api_key_create``);
    ``prefix`` tells keys apart. ``collection`` (a catalogue ``source``) optionally restricts the app
    to its own collection on every endpoint it calls (``clients.authentication.app_collection``):
    requests of the key default to it and may not name another one. It must name a collection of
    the catalogue when saved (slug or name; stored as the source's name).
    """

    PREFIX_LENGTH = 8

    name = models.CharField(max_length=100, unique=True, help_text="The app, e.g. 'Rijksmuseum guide'.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=PREFIX_LENGTH, editable=False)
    rate = models.CharField(
        max_length=32,
        default=DEFAULT_RATE,
        validators=[validate_rate],
        help_text="Requests allowed for the whole app, e.g. 100/s, 6000/min.",
    )
    collection = models.CharField(
        max_length=100,
        blank=True,
        help_text="Optional catalogue source the app is restricted to (empty: the whole catalogue).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    def clean(self) -> None:
        super().clean()
        if not self.collection:
            return
        if self.pk and ApiKey.objects.filter(pk=self.pk, collection=self.collection).exists():
            return  # unchanged: a collection an import has since renamed does not block other edits
        from catalog.selectors import collection_source
        from config.exceptions import ValidationFailed

        try:
            self.collection = collection_source(self.collection)
        except ValidationFailed as exc:
            raise ValidationError({"collection": exc.message}) from exc

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
