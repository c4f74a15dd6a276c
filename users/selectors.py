"""Reads for users and ratings."""

from __future__ import annotations

from django.db.models import QuerySet

from users.models import ApiToken, Rating, User


def user_ratings(*, user: User) -> QuerySet[Rating]:
    """The user's ratings, most recent first, with each painting's artist and story group joined."""
    return Rating.objects.filter(user=user).select_related(
        "painting", "painting__artist", "painting__story_group"
    )


def user_rating_map(*, user: User, limit: int | None = None) -> dict[int, int]:
    """painting pk -> rating value, the input of the scoring service (the ``limit`` most recent)."""
    values = (
        Rating.objects.filter(user=user).order_by("-updated_at", "-id").values_list("painting_id", "value")
    )
    return dict(values[:limit] if limit is not None else values)


def user_has_rated(*, user: User, painting_external_id: str) -> bool:
    return Rating.objects.filter(user=user, painting__external_id=painting_external_id).exists()


def user_api_tokens(*, user: User) -> QuerySet[ApiToken]:
    """Every API token of ``user``, newest first (live, expired and revoked: a history to audit)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
