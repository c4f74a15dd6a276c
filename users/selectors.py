"""Reads for users and ratings."""

from __future__ import annotations

from django.db.models import QuerySet

from users.models import Rating, User


def user_ratings(*, user: User) -> QuerySet[Rating]:
    return Rating.objects.filter(user=user).select_related("painting")


def user_rating_map(*, user: User) -> dict[int, int]:
    """painting pk -> rating value, the input of the scoring service."""
    return dict(Rating.objects.filter(user=user).values_list("painting_id", "value"))
