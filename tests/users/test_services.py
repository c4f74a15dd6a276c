"""Rating writes: upsert (again replaces, never duplicates), all-or-nothing bulk writes, deletion."""

from __future__ import annotations

import pytest

from config.exceptions import InvalidRating, UnknownPainting
from tests.factories import PaintingFactory, RatingFactory, UserFactory
from users.models import Rating
from users.services import (
    rating_delete,
    rating_upsert,
    rating_write,
    ratings_upsert,
    ratings_write,
    superuser_ensure,
)

pytestmark = pytest.mark.django_db


def _stored(user) -> dict[str, int]:
    return dict(Rating.objects.filter(user=user).values_list("painting__external_id", "value"))


def test_rating_again_replaces_the_value_in_the_same_row():
    user, painting = UserFactory(), PaintingFactory()
    first = rating_upsert(user=user, painting_external_id=painting.external_id, value=2)
    second = rating_upsert(user=user, painting_external_id=painting.external_id, value=5)
    assert second.pk == first.pk
    assert _stored(user) == {painting.external_id: 5}


def test_rating_again_keeps_created_at_and_moves_updated_at():
    user, painting = UserFactory(), PaintingFactory()
    first = rating_upsert(user=user, painting_external_id=painting.external_id, value=2)
    second = rating_upsert(user=user, painting_external_id=painting.external_id, value=3)
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at


def test_rating_write_tells_the_insert_from_the_replacement():
    user, painting = UserFactory(), PaintingFactory()
    first = rating_write(user=user, painting_external_id=painting.external_id, value=2)
    second = rating_write(user=user, painting_external_id=painting.external_id, value=4)
    assert (first.created, second.created) == (True, False)
    assert (first.rating.value, second.rating.value) == (2, 4)


def test_written_rating_carries_the_stored_timestamps_as_aware_datetimes():
    """The rows come back converted the way the model field converts them, on either database
    (SQLite hands raw timestamps back as text)."""
    user, painting = UserFactory(), PaintingFactory()
    written = rating_write(user=user, painting_external_id=painting.external_id, value=3).rating
    stored = Rating.objects.get(user=user, painting=painting)
    assert (written.pk, written.created_at, written.updated_at) == (
        stored.pk,
        stored.created_at,
        stored.updated_at,
    )
    assert written.created_at.tzinfo is not None


def test_bulk_write_flags_each_row_in_painting_order():
    user = UserFactory()
    a, b, c = sorted(PaintingFactory.create_batch(3), key=lambda p: p.pk)
    RatingFactory(user=user, painting=b, value=1)
    writes = ratings_write(user=user, ratings={c.external_id: 5, a.external_id: 2, b.external_id: 4})
    assert [(w.rating.painting_id, w.rating.value, w.created) for w in writes] == [
        (a.pk, 2, True),
        (b.pk, 4, False),
        (c.pk, 5, True),
    ]


def test_bulk_upsert_creates_and_replaces_in_one_call():
    user = UserFactory()
    a, b, c = PaintingFactory.create_batch(3)
    RatingFactory(user=user, painting=a, value=1)
    returned = ratings_upsert(user=user, ratings={a.external_id: 4, b.external_id: 2, c.external_id: 5})
    assert {r.painting.external_id: r.value for r in returned} == {
        a.external_id: 4,
        b.external_id: 2,
        c.external_id: 5,
    }
    assert _stored(user) == {a.external_id: 4, b.external_id: 2, c.external_id: 5}


def test_bulk_upsert_leaves_other_users_ratings_alone():
    painting = PaintingFactory()
    other = RatingFactory(painting=painting, value=1)
    ratings_upsert(user=UserFactory(), ratings={painting.external_id: 5})
    other.refresh_from_db()
    assert other.value == 1


def test_one_unknown_id_writes_nothing_and_names_the_id():
    user = UserFactory()
    a, b = PaintingFactory.create_batch(2)
    RatingFactory(user=user, painting=a, value=1)
    with pytest.raises(UnknownPainting) as caught:
        ratings_upsert(user=user, ratings={a.external_id: 5, b.external_id: 4, "no-such-painting": 3})
    assert caught.value.detail == {"unknown_ids": ["no-such-painting"]}
    assert caught.value.field == "ratings"
    assert _stored(user) == {a.external_id: 1}


@pytest.mark.parametrize("bad", [0, 6, -1, "5", 4.5, True, None])
def test_one_invalid_value_writes_nothing_and_names_the_field(bad):
    user = UserFactory()
    a, b = PaintingFactory.create_batch(2)
    RatingFactory(user=user, painting=a, value=1)
    with pytest.raises(InvalidRating) as caught:
        ratings_upsert(user=user, ratings={a.external_id: 5, b.external_id: bad})
    assert caught.value.field == f"ratings.{b.external_id}"
    assert _stored(user) == {a.external_id: 1}


def test_rating_delete_removes_only_that_rating():
    user = UserFactory()
    kept, gone = RatingFactory(user=user, value=2), RatingFactory(user=user, value=3)
    rating_delete(user=user, painting_external_id=gone.painting.external_id)
    assert _stored(user) == {kept.painting.external_id: 2}


def test_rating_delete_of_an_unrated_painting_is_unknown_painting():
    user, painting = UserFactory(), PaintingFactory()
    RatingFactory(painting=painting)  # someone else's rating is not the user's
    with pytest.raises(UnknownPainting):
        rating_delete(user=user, painting_external_id=painting.external_id)
    assert painting.ratings.count() == 1


def test_superuser_ensure_creates_an_active_superuser():
    user, created = superuser_ensure(username="demo", password="s3cret-demo")
    assert created is True
    assert (user.is_active, user.is_staff, user.is_superuser) == (True, True, True)
    assert user.check_password("s3cret-demo")


def test_superuser_ensure_resets_an_existing_account_without_duplicating_it():
    UserFactory(username="demo", is_active=False)
    user, created = superuser_ensure(username="demo", password="new-password")
    assert created is False
    assert user.check_password("new-password")
    assert (user.is_active, user.is_superuser) == (True, True)
    assert type(user).objects.filter(username="demo").count() == 1
