"""Deleting a painting or an account deletes its ratings (documented CASCADE): no orphaned rows."""

from __future__ import annotations

import pytest

from tests.factories import PaintingFactory, RatingFactory, UserFactory
from users.models import Rating

pytestmark = pytest.mark.django_db


def test_deleting_a_painting_deletes_its_ratings_and_nothing_else():
    painting, other = PaintingFactory(), PaintingFactory()
    RatingFactory(painting=painting, value=2)
    RatingFactory(painting=painting, value=4)
    kept = RatingFactory(painting=other, value=5)
    painting.delete()
    assert list(Rating.objects.values_list("pk", flat=True)) == [kept.pk]


def test_deleting_a_user_deletes_their_ratings_and_nothing_else():
    user, other = UserFactory(), UserFactory()
    RatingFactory.create_batch(3, user=user)
    kept = RatingFactory(user=other)
    user.delete()
    assert list(Rating.objects.values_list("pk", flat=True)) == [kept.pk]
