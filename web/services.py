"""Writes of the web UI: the visitor's ratings and the elicitation seed.

Signed-in users' ratings are stored; anonymous visitors can rate and get recommendations without
an account, their ratings living only in their session (``{external_id: value}`` under
``web.selectors.SESSION_RATINGS_KEY``) and never becoming ``Rating`` rows. Signing in (or signing
up) merges them into the account: the session's ratings win over stored ratings of the same
paintings, because they are what the visitor said just now, after which the session copy is
dropped (see ``session_ratings_merge``).

Every function takes the visitor (a user, possibly anonymous) and their session, never the
request, and validates exactly as ``users.services`` does (one rule for 1-5 values and unknown
paintings), so the web UI and the API reject the same input with the same messages.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from catalog.models import Painting
from catalog.selectors import paintings_by_pk
from config.exceptions import UnknownPainting, ValidationFailed
from experiments.hooks import ratings_from_web
from recsys.serving.elicitation import elicitation_paintings
from users.models import User
from users.services import rating_delete, ratings_upsert, resolve_paintings, validate_rating_value
from web.selectors import (
    SEED_LIMIT,
    SESSION_RATINGS_KEY,
    SESSION_SEED_KEY,
    SESSION_SET_KEY,
    SET_LIMIT,
    Visitor,
    session_ratings,
)


def _session_ratings_store(*, session: SessionBase, ratings: Mapping[str, int]) -> None:
    if ratings:
        session[SESSION_RATINGS_KEY] = dict(ratings)
    else:
        session.pop(SESSION_RATINGS_KEY, None)


def _catalogued(external_ids: list[str]) -> set[str]:
    return set(Painting.objects.filter(external_id__in=external_ids).values_list("external_id", flat=True))


def visitor_ratings_save(*, user: Visitor, session: SessionBase, ratings: Mapping[str, int]) -> None:
    """Save ratings given by external id, all or nothing.

    Raises ``InvalidRating`` / ``UnknownPainting`` before anything is written, and
    ``ValidationFailed`` when an anonymous session would hold more than ``RECSYS_MAX_RATINGS``.
    Session ratings of paintings removed from the catalogue since are dropped on the way, so
    they neither count towards that limit nor linger.
    """
    if user.is_authenticated:
        written = ratings_upsert(user=user, ratings=ratings)
        ratings_from_web(user=user, session=session, ratings={r.painting_id: r.value for r in written})
        return
    values = {
        external_id: validate_rating_value(value, field=f"ratings.{external_id}")
        for external_id, value in ratings.items()
    }
    pks = resolve_paintings(list(values), field="ratings")
    merged = session_ratings(session=session)
    known = _catalogued(list(merged)) if merged else set()
    merged = {external_id: value for external_id, value in merged.items() if external_id in known}
    for external_id, value in values.items():
        merged.pop(external_id, None)  # re-insert so the dict stays ordered oldest -> newest
        merged[external_id] = value
    if len(merged) > settings.RECSYS_MAX_RATINGS:
        raise ValidationFailed(
            f"Without an account you can rate at most {settings.RECSYS_MAX_RATINGS} paintings; "
            "sign up to keep more.",
            field="ratings",
        )
    _session_ratings_store(session=session, ratings=merged)
    # ratings of paintings recommended in an experiment are linked to the list that showed them
    ratings_from_web(user=user, session=session, ratings={pks[e]: v for e, v in values.items()})


def visitor_rating_delete(*, user: Visitor, session: SessionBase, external_id: str) -> None:
    """Remove the visitor's rating of one painting; ``UnknownPainting`` if there is none."""
    if user.is_authenticated:
        rating_delete(user=user, painting_external_id=external_id)
        return
    ratings = session_ratings(session=session)
    if ratings.pop(external_id, None) is None:
        raise UnknownPainting(f"You have not rated painting {external_id}.", field="painting")
    _session_ratings_store(session=session, ratings=ratings)


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
    known = _catalogued(list(ratings))
    kept = {external_id: value for external_id, value in ratings.items() if external_id in known}
    if kept:
        ratings_upsert(user=user, ratings=kept)
    session.pop(SESSION_RATINGS_KEY, None)
    return len(kept)


def elicitation_seed(*, session: SessionBase) -> int:
    """The seed of the elicitation set on screen, kept in the session so the set stays the same
    while the visitor rates (a new one is drawn the first time, or when the stored one is bad)."""
    seed = session.get(SESSION_SEED_KEY)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < SEED_LIMIT:
        seed = elicitation_seed_renew(session=session)
    return seed


def elicitation_seed_renew(*, session: SessionBase) -> int:
    """Draw a different elicitation set: a new random seed (from its first set), stored in the
    session."""
    seed = secrets.randbelow(SEED_LIMIT)
    session[SESSION_SEED_KEY] = seed
    session.pop(SESSION_SET_KEY, None)
    return seed


def elicitation_set_number(*, session: SessionBase) -> int:
    """Which set of the session's seed is on screen (0 until "show another set")."""
    number = session.get(SESSION_SET_KEY, 0)
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < SET_LIMIT:
        return 0
    return number


def elicitation_set_next(*, session: SessionBase) -> int:
    """ "Show another set": the next set of the same seed, which continues with the next story
    groups and each group's next paintings (``catalog.selectors.elicitation_set``), so no
    painting comes back until a group has shown them all; wraps to 0 at ``SET_LIMIT``."""
    elicitation_seed(session=session)  # make sure there is a seed to continue
    number = (elicitation_set_number(session=session) + 1) % SET_LIMIT
    session[SESSION_SET_KEY] = number
    return number


SESSION_SHOWN_KEY = "web_elicitation_shown"


def elicitation_paintings_shown(
    *, session: SessionBase, seed: int, number: int, ratings: dict[str, int]
) -> list[Painting]:
    """The elicitation set ``number`` of ``seed`` (``recsys.serving.elicitation``). The set's
    paintings are kept in the session, so an adaptive set, chosen from the ratings given when it
    was first shown, stays the same while the visitor rates it (each star saves at once)."""
    shown = session.get(SESSION_SHOWN_KEY)
    if isinstance(shown, dict) and shown.get("seed") == seed and shown.get("set") == number:
        pks = [pk for pk in shown.get("pks", []) if isinstance(pk, int)]
        by_pk = paintings_by_pk(pks=pks)
        if pks and all(pk in by_pk for pk in pks):
            return [by_pk[pk] for pk in pks]
    rated = dict(Painting.objects.filter(external_id__in=list(ratings)).values_list("pk", "external_id"))
    _, paintings = elicitation_paintings(
        seed=seed, set_number=number, ratings={pk: ratings[ext] for pk, ext in rated.items()}
    )
    session[SESSION_SHOWN_KEY] = {"seed": seed, "set": number, "pks": [p.pk for p in paintings]}
    return paintings
