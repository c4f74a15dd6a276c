import pytest

from tests.factories import PaintingFactory, UserFactory
from users.services import rating_upsert


@pytest.mark.django_db
def test_rating_again_replaces_value():
    user = UserFactory()
    painting = PaintingFactory()
    rating_upsert(user=user, painting_external_id=painting.external_id, value=2)
    rating = rating_upsert(user=user, painting_external_id=painting.external_id, value=5)
    assert rating.value == 5
    assert user.ratings.count() == 1
