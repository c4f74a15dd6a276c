"""Accounts and the 1-5 ratings people give paintings."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

RATING_MIN = 1
RATING_MAX = 5


class User(AbstractUser):
    """Custom user from the first migration, so fields can be added later without pain."""


class Rating(models.Model):
    """One person's 1-5 rating of one painting. Written only through ``users.services.rating_upsert``.

    Deleting a painting or a user deletes their ratings (CASCADE, on purpose): a rating of a
    painting that no longer exists cannot be used by any engine, and a deleted account's ratings
    are personal data that must go with it.
    """

    user = models.ForeignKey("users.User", on_delete=models.CASCADE, related_name="ratings")
    painting = models.ForeignKey("catalog.Painting", on_delete=models.CASCADE, related_name="ratings")
    value = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "painting"], name="rating_unique_user_painting"),
            models.CheckConstraint(
                condition=Q(value__gte=RATING_MIN) & Q(value__lte=RATING_MAX),
                name="rating_value_1_to_5",
            ),
        ]
        indexes = [models.Index(fields=["painting"])]

    def __str__(self) -> str:
        return f"{self.user_id} rated {self.painting_id}: {self.value}"


class ApiToken(models.Model):
    """An API key for apps (``Authorization: Token <key>``), stored as its SHA-256 only.

    The key itself is shown once, when it is created (``users.services.api_token_create``); the
    ``prefix`` (its first characters) lets a person tell their tokens apart. A token stops working
    when it expires (``TOKEN_TTL``) or is revoked; an account may hold several (one per app).
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey("users.User", on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=PREFIX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}... ({self.user_id})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
