"""Writes for users and ratings. Typed, keyword-only; views and tasks call these, never the ORM."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Painting
from catalog.selectors import EXTERNAL_ID_PATTERN
from config.exceptions import InvalidRating, NotFound, UnknownPainting
from users.models import RATING_MAX, RATING_MIN, ApiToken, Rating, User


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
        raise UnknownPainting.for_ids(missing, field=field)
    return found


@dataclass(frozen=True)
class RatingWrite:
    """What one upsert stored: the row as written by this statement, and whether it inserted it."""

    rating: Rating
    created: bool


_UPSERT_SQL = """
INSERT INTO {table} (user_id, painting_id, value, created_at, updated_at)
VALUES {rows}
ON CONFLICT (user_id, painting_id) DO UPDATE
    SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
RETURNING painting_id, {inserted}
"""


def _upsert_rows(*, user: User, rows: list[tuple[int, int]], now: datetime) -> dict[int, bool]:
    """One ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` of ``(painting pk, value)`` rows;
    returns ``{painting pk: inserted}``. Call it inside a transaction.

    Only integers and booleans come back from the raw statement (the rows themselves are read
    back through the ORM, which converts each column the way the model field does on every
    backend). PostgreSQL tells inserts by ``xmax = 0`` (an updated row version carries the
    updating transaction in ``xmax``); SQLite serialises writers (``transaction_mode=IMMEDIATE``),
    so there the rows existing beforehand are read first inside the same transaction.
    """
    pks = [pk for pk, _ in rows]
    existing: set[int] = set()
    if connection.vendor == "postgresql":
        inserted = "(xmax = 0)"
    else:
        inserted = "NULL"
        existing = set(
            Rating.objects.filter(user=user, painting_id__in=pks).values_list("painting_id", flat=True)
        )
    params: list[object] = []
    for painting_id, value in rows:
        params += [user.pk, painting_id, value, now, now]
    sql = _UPSERT_SQL.format(
        table=Rating._meta.db_table,
        rows=", ".join(["(%s, %s, %s, %s, %s)"] * len(rows)),
        inserted=inserted,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    if connection.vendor == "postgresql":
        return {painting_id: bool(flag) for painting_id, flag in returned}
    return {painting_id: painting_id not in existing for painting_id, _ in returned}


def ratings_write(*, user: User, ratings: Mapping[str, int]) -> list[RatingWrite]:
    """Create or replace the user's ratings of paintings given by external id, all or nothing;
    returns what this call wrote, in painting order, each marked created or replaced.

    One ``INSERT ... ON CONFLICT (user, painting) DO UPDATE ... RETURNING`` statement: concurrent
    writers never create duplicates and the last write wins. The written rows are read back in
    the same transaction, while this transaction still holds their row locks (PostgreSQL) or
    the database's write lock (SQLite): each caller gets back the values it wrote itself, never
    a concurrent writer's (which waits for the commit), and a concurrent DELETE cannot remove
    them in between. Rows go in painting order, so two writers overlapping on several paintings
    lock them in the same order and cannot deadlock.
    """
    values = {
        external_id: validate_rating_value(v, field=f"ratings.{external_id}")
        for external_id, v in ratings.items()
    }
    pks = resolve_paintings(list(values), field="ratings")
    rows = sorted((pks[external_id], value) for external_id, value in values.items())
    with transaction.atomic():
        inserted = _upsert_rows(user=user, rows=rows, now=timezone.now())
        written = list(
            Rating.objects.filter(user=user, painting_id__in=inserted)
            .select_related("painting")
            .order_by("painting_id")
        )
    for rating in written:
        rating.user = user
    return [RatingWrite(rating=rating, created=inserted[rating.painting_id]) for rating in written]


def ratings_upsert(*, user: User, ratings: Mapping[str, int]) -> list[Rating]:
    """``ratings_write`` without the created flags: the ratings as written, in painting order."""
    return [write.rating for write in ratings_write(user=user, ratings=ratings)]


def rating_upsert(*, user: User, painting_external_id: str, value: int) -> Rating:
    """Rate one painting (a second rating replaces the first); the rating as written."""
    return rating_write(user=user, painting_external_id=painting_external_id, value=value).rating


def rating_write(*, user: User, painting_external_id: str, value: int) -> RatingWrite:
    """Rate one painting; ``created`` says whether this call inserted the row (201) or replaced one."""
    return ratings_write(user=user, ratings={painting_external_id: value})[0]


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


def api_token_create(*, user: User) -> tuple[ApiToken, str]:
    """A new API token of ``user`` expiring after ``TOKEN_TTL`` seconds (0: never); returns the
    row and the key, which is stored only as its SHA-256 and cannot be shown again."""
    key = secrets.token_urlsafe(32)
    ttl = settings.TOKEN_TTL
    token = ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        prefix=key[: ApiToken.PREFIX_LENGTH],
        expires_at=timezone.now() + timedelta(seconds=ttl) if ttl > 0 else None,
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke ``token`` (it stops authenticating at once); revoking twice keeps the first time."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every live token of ``user`` (a password change or reset, "sign out everywhere");
    returns how many were revoked."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_revoke_own(*, user: User, token_id: int) -> ApiToken:
    """Revoke ``user``'s token ``token_id``; ``NotFound`` when the user has no such token (another
    account's token answers exactly like one that does not exist)."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound("You have no API token with this id.", field="id")
    api_token_revoke(token=token)
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record use of ``token``, at most once per minute (not a write per request)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def rating_delete(*, user: User, painting_external_id: str) -> None:
    """Delete the user's rating of a painting; unknown painting or no rating -> ``UnknownPainting``.

    An id no painting can have (a NUL byte, too long: the web URL takes any text) is never
    looked up: PostgreSQL refuses NUL bytes in a query, which would be a server error.
    """
    deleted = 0
    if EXTERNAL_ID_PATTERN.fullmatch(painting_external_id):
        deleted, _ = Rating.objects.filter(user=user, painting__external_id=painting_external_id).delete()
    if not deleted:
        raise UnknownPainting(f"You have not rated painting {painting_external_id}.", field="painting")
