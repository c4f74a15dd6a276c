"""The web services and selectors work from a user and a session alone (no request)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore

from config.exceptions import ValidationFailed
from tests.factories import PaintingFactory, UserFactory
from web.selectors import SESSION_RATINGS_KEY, visitor_rating_map, visitor_ratings
from web.services import visitor_ratings_save

pytestmark = pytest.mark.django_db


def test_anonymous_save_keeps_ratings_in_the_session_and_drops_removed_paintings():
    kept, new = PaintingFactory(), PaintingFactory()
    session = SessionStore()
    session[SESSION_RATINGS_KEY] = {"gone-from-catalogue": 4, kept.external_id: 2}

    visitor_ratings_save(user=AnonymousUser(), session=session, ratings={new.external_id: 5})

    assert session[SESSION_RATINGS_KEY] == {kept.external_id: 2, new.external_id: 5}
    assert visitor_rating_map(user=AnonymousUser(), session=session) == {kept.pk: 2, new.pk: 5}


def test_removed_paintings_do_not_count_towards_the_anonymous_limit(settings):
    settings.RECSYS_MAX_RATINGS = 2
    first, second = PaintingFactory(), PaintingFactory()
    session = SessionStore()
    session[SESSION_RATINGS_KEY] = {"gone-1": 3, "gone-2": 3, first.external_id: 1}

    visitor_ratings_save(user=AnonymousUser(), session=session, ratings={second.external_id: 4})

    assert session[SESSION_RATINGS_KEY] == {first.external_id: 1, second.external_id: 4}
    with pytest.raises(ValidationFailed, match="at most 2 paintings"):
        visitor_ratings_save(
            user=AnonymousUser(), session=session, ratings={PaintingFactory().external_id: 5}
        )


def test_a_users_save_is_stored_and_leaves_the_session_alone():
    user, painting = UserFactory(), PaintingFactory()
    session = SessionStore()

    visitor_ratings_save(user=user, session=session, ratings={painting.external_id: 3})

    assert visitor_ratings(user=user, session=session) == {painting.external_id: 3}
    assert SESSION_RATINGS_KEY not in session


def test_plain_labels_name_every_configured_recommender_and_tidy_others(settings):
    from web.selectors import PLAIN_LABELS, plain_label

    assert set(settings.RECSYS_RECOMMENDERS) | set(settings.RECSYS_ENGINES) <= set(PLAIN_LABELS)
    assert plain_label("late-total") == "Text + image, fused"
    assert plain_label("my_arm-b") == "My arm b"
