"""The database itself enforces the rating rules, whatever code writes the row."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.factories import PaintingFactory, RatingFactory, UserFactory
from users.models import Rating

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", [0, 6])
def test_out_of_range_value_is_rejected_by_the_check_constraint(value):
    with pytest.raises(IntegrityError, match="rating_value_1_to_5"), transaction.atomic():
        RatingFactory(value=value)
    assert Rating.objects.count() == 0


@pytest.mark.parametrize("value", [1, 5])
def test_boundary_values_are_stored(value):
    rating = RatingFactory(value=value)
    rating.refresh_from_db()
    assert rating.value == value


def test_second_row_for_same_user_and_painting_is_rejected():
    rating = RatingFactory(value=3)
    # PostgreSQL names the constraint; SQLite names the columns.
    duplicate = r"rating_unique_user_painting|UNIQUE constraint failed: users_rating\.user_id, users_rating\."
    with pytest.raises(IntegrityError, match=duplicate), transaction.atomic():
        Rating.objects.create(user=rating.user, painting=rating.painting, value=4)
    assert list(Rating.objects.values_list("value", flat=True)) == [3]


def test_different_users_may_rate_the_same_painting():
    painting = PaintingFactory()
    RatingFactory(user=UserFactory(), painting=painting, value=2)
    RatingFactory(user=UserFactory(), painting=painting, value=5)
    assert sorted(painting.ratings.values_list("value", flat=True)) == [2, 5]
