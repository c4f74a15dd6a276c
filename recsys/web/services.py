"""The web visitor's ratings: stored for signed-in users, kept in the session for anonymous ones.

Anonymous visitors can rate and get recommendations without an account; their ratings live only
in their session (``{external_id: value}`` under ``SESSION_RATINGS_KEY``) and never become
``Rating`` rows. Signing in (or signing up) merges them into the account: the session's ratings
win over stored ratings of the same paintings, because they are what the visitor said just now,
after which the session copy is dropped (see ``session_ratings_merge``).

Every function here validates exactly as ``users.services`` does (one rule for 1-5 values and
unknown paintings), so the web UI and the API reject the same input with the same messages.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from catalog.models import Painting
from config.exceptions import UnknownPainting, ValidationFailed
from users.models import RATING_MAX, RATING_MIN, User
from users.selectors import user_rating_map
from users.services import rating_delete, ratings_upsert, resolve_paintings, validate_rating_value

SESSION_RATINGS_KEY = "web_ratings"
SESSION_SEED_KEY = "web_elicitation_seed"


def session_ratings(*, session: SessionBase) -> dict[str, int]:
    """The session's ratings, ``external_id -> value`` (oldest first); malformed entries are dropped."""
    raw = session.get(SESSION_RATINGS_KEY)
    if not isinstance(raw, dict):
        return {}
    return {
        str(external_id): value
        for external_id, value in raw.items()
        if isinstance(value, int) and not isinstance(value, bool) and RATING_MIN <= value <= RATING_MAX
    }


def _session_ratings_store(*, session: SessionBase, ratings: Mapping[str, int]) -> None:
    if ratings:
        session[SESSION_RATINGS_KEY] = dict(ratings)
    else:
        session.pop(SESSION_RATINGS_KEY, None)


def visitor_ratings(*, request: HttpRequest, only: Collection[str] | None = None) -> dict[str, int]:
    """The visitor's ratings by external id, oldest first (stored ones for a user, else the
    session's); ``only`` restricts them to those paintings."""
    if request.user.is_authenticated:
        rows = request.user.ratings.order_by("updated_at", "id")
        if only is not None:
            rows = rows.filter(painting__external_id__in=list(only))
        return dict(rows.values_list("painting__external_id", "value"))
    ratings = session_ratings(session=request.session)
    if only is None:
        return ratings
    wanted = set(only)
    return {external_id: value for external_id, value in ratings.items() if external_id in wanted}


def visitor_rating_of(*, request: HttpRequest, painting: Painting) -> int | None:
    """The visitor's rating of one painting, or None."""
    if request.user.is_authenticated:
        return request.user.ratings.filter(painting=painting).values_list("value", flat=True).first()
    return session_ratings(session=request.session).get(painting.external_id)


def visitor_rating_map(*, request: HttpRequest) -> dict[int, int]:
    """``painting pk -> value``, the input of ``recsys.recommend.recommend``.

    Session ratings of paintings that have since left the catalogue are dropped here (and from
    the session), so they neither fail the request nor linger.
    """
    if request.user.is_authenticated:
        # the most recent ones when there are more than one request may carry
        return user_rating_map(user=request.user, limit=settings.RECSYS_MAX_RATINGS)
    ratings = session_ratings(session=request.session)
    if not ratings:
        return {}
    pks = dict(Painting.objects.filter(external_id__in=list(ratings)).values_list("external_id", "pk"))
    if len(pks) != len(ratings):
        _session_ratings_store(
            session=request.session, ratings={k: v for k, v in ratings.items() if k in pks}
        )
    return {pks[external_id]: value for external_id, value in ratings.items() if external_id in pks}


def visitor_ratings_save(*, request: HttpRequest, ratings: Mapping[str, int]) -> None:
    """Save ratings given by external id, all or nothing.

    Raises ``InvalidRating`` / ``UnknownPainting`` before anything is written, and
    ``ValidationFailed`` when an anonymous session would hold more than ``RECSYS_MAX_RATINGS``.
    """
    if request.user.is_authenticated:
        ratings_upsert(user=request.user, ratings=ratings)
        return
    values = {
        external_id: validate_rating_value(value, field=f"ratings.{external_id}")
        for external_id, value in ratings.items()
    }
    resolve_paintings(list(values), field="ratings")
    merged = session_ratings(session=request.session)
    for external_id, value in values.items():
        merged.pop(external_id, None)  # re-insert so the dict stays ordered oldest -> newest
        merged[external_id] = value
    if len(merged) > settings.RECSYS_MAX_RATINGS:
        raise ValidationFailed(
            f"Without an account you can rate at most {settings.RECSYS_MAX_RATINGS} paintings; "
            "sign up to keep more.",
            field="ratings",
        )
    _session_ratings_store(session=request.session, ratings=merged)


def visitor_rating_delete(*, request: HttpRequest, external_id: str) -> None:
    """Remove the visitor's rating of one painting; ``UnknownPainting`` if there is none."""
    if request.user.is_authenticated:
        rating_delete(user=request.user, painting_external_id=external_id)
        return
    ratings = session_ratings(session=request.session)
    if ratings.pop(external_id, None) is None:
        raise UnknownPainting(f"You have not rated painting {external_id}.", field="painting")
    _session_ratings_store(session=request.session, ratings=ratings)


def session_ratings_merge(*, user: User, session: SessionBase) -> int:
    """Move the session's ratings into ``user``'s stored ratings; returns how many were saved.

    Session ratings win over stored ones of the same painting (they are the newer opinion).
    Paintings removed from the catalogue since they were rated are skipped rather than failing
    the login. The session copy is removed afterwards either way.
    """
    ratings = session_ratings(session=session)
    if not ratings:
        session.pop(SESSION_RATINGS_KEY, None)
        return 0
    known = set(Painting.objects.filter(external_id__in=list(ratings)).values_list("external_id", flat=True))
    kept = {external_id: value for external_id, value in ratings.items() if external_id in known}
    if kept:
        ratings_upsert(user=user, ratings=kept)
    session.pop(SESSION_RATINGS_KEY, None)
    return len(kept)
