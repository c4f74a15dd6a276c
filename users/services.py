"""Writes for users and ratings. Typed, keyword-only; views and tasks call these, never the ORM."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from catalog.models import Painting
from config.exceptions import InvalidRating, UnknownPainting
from users.models import RATING_MAX, RATING_MIN, Rating, User


def validate_rating_value(value: object, *, field: str = "value") -> int:
    """Return ``value`` as an int in 1..5 or raise ``InvalidRating`` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRating(
            f"A rating must be a whole number from {RATING_MIN} to {RATING_MAX}.", field=field
        )
    if not RATING_MIN <= value <= RATING_MAX:
        raise InvalidRating(f"A rating must be from {RATING_MIN} to {RATING_MAX}, got {value}.", field=field)
    return value


def resolve_paintings(external_ids: list[str], *, field: str = "painting") -> dict[str, int]:
    """Map external ids to primary keys; every unknown id is an error (listed in ``detail``)."""
    found = dict(Painting.objects.filter(external_id__in=set(external_ids)).values_list("external_id", "pk"))
    missing = sorted(set(external_ids) - found.keys())
    if missing:
        raise UnknownPainting(
            f"Unknown painting id{'s' if len(missing) > 1 else ''}: {', '.join(missing[:10])}.",
            field=field,
            detail={"unknown_ids": missing},
        )
    return found


def ratings_upsert(*, user: User, ratings: Mapping[str, int]) -> list[Rating]:
    """Create or replace the user's ratings of paintings given by external id, all or nothing.

    One ``INSERT ... ON CONFLICT (user, painting) DO UPDATE`` statement: concurrent writers
    never create duplicates and the last write wins (no lost update of a later value). Rows go
    in painting order, so two writers overlapping on several paintings lock them in the same
    order and cannot deadlock.
    """
    values = {
        external_id: validate_rating_value(v, field=f"ratings.{external_id}")
        for external_id, v in ratings.items()
    }
    pks = resolve_paintings(list(values), field="ratings")
    now = timezone.now()
    rows = [
        Rating(user=user, painting_id=pks[external_id], value=value, created_at=now, updated_at=now)
        for external_id, value in sorted(values.items(), key=lambda item: pks[item[0]])
    ]
    with transaction.atomic():
        Rating.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["user", "painting"],
            update_fields=["value", "updated_at"],
        )
    return list(Rating.objects.filter(user=user, painting_id__in=pks.values()).select_related("painting"))


def rating_upsert(*, user: User, painting_external_id: str, value: int) -> Rating:
    """Rate one painting (a second rating replaces the first)."""
    return ratings_upsert(user=user, ratings={painting_external_id: value})[0]


def superuser_ensure(*, username: str, password: str, email: str = "") -> tuple[User, bool]:
    """Create the superuser ``username`` or reset an existing account to an active superuser with
    ``password``; returns ``(user, created)``. Running it again leaves exactly one such account."""
    with transaction.atomic():
        user, created = User.objects.select_for_update().get_or_create(
            username=username, defaults={"email": email}
        )
        user.is_active = user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
    return user, created


def auth_token_get_or_create(*, user: User) -> Token:
    """The user's API token (one per user, created on first request, stable afterwards)."""
    token, _ = Token.objects.get_or_create(user=user)
    return token


def rating_delete(*, user: User, painting_external_id: str) -> None:
    """Delete the user's rating of a painting; unknown painting or no rating -> ``UnknownPainting``."""
    deleted, _ = Rating.objects.filter(user=user, painting__external_id=painting_external_id).delete()
    if not deleted:
        raise UnknownPainting(f"You have not rated painting {painting_external_id}.", field="painting")
