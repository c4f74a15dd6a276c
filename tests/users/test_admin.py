"""The user and rating admin pages render for staff, with a query count that does not grow per row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PaintingFactory, RatingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="staff", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def ratings():
    painting = PaintingFactory(external_id="aic-1", title="Water Lilies")
    rows = [RatingFactory(painting=painting, value=v) for v in (1, 3, 5)]
    rows += RatingFactory.create_batch(5, value=2)
    return rows


def test_rating_changelist_lists_every_rating_in_bounded_queries(
    staff_client, ratings, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = staff_client.get(reverse("admin:users_rating_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == len(ratings)


def test_rating_changelist_filters_by_value(staff_client, ratings):
    response = staff_client.get(reverse("admin:users_rating_changelist"), {"value__exact": 5})
    assert [r.pk for r in response.context["cl"].result_list] == [ratings[2].pk]


@pytest.mark.parametrize("query", ["aic-1", "Water Lil"])
def test_rating_search_finds_ratings_by_painting_id_or_title(staff_client, ratings, query):
    response = staff_client.get(reverse("admin:users_rating_changelist"), {"q": query})
    assert {r.pk for r in response.context["cl"].result_list} == {r.pk for r in ratings[:3]}


def test_rating_search_finds_ratings_by_username(staff_client, ratings):
    response = staff_client.get(reverse("admin:users_rating_changelist"), {"q": ratings[4].user.username})
    assert [r.pk for r in response.context["cl"].result_list] == [ratings[4].pk]


def test_rating_change_page_renders(staff_client, ratings):
    response = staff_client.get(reverse("admin:users_rating_change", args=[ratings[0].pk]))
    assert response.status_code == 200
    assert b"Water Lilies" in response.content


def test_user_changelist_shows_rating_counts_in_bounded_queries(
    staff_client, ratings, django_assert_max_num_queries
):
    rater = ratings[0].user
    RatingFactory.create_batch(2, user=rater)
    with django_assert_max_num_queries(8):
        response = staff_client.get(reverse("admin:users_user_changelist"), {"o": "-5"})
    assert response.status_code == 200
    first = response.context["cl"].result_list[0]
    assert (first.pk, first._rating_count) == (rater.pk, 3)


def test_user_search_and_change_page_render(staff_client, ratings):
    username = ratings[0].user.username
    found = staff_client.get(reverse("admin:users_user_changelist"), {"q": username})
    assert [u.username for u in found.context["cl"].result_list] == [username]
    page = staff_client.get(reverse("admin:users_user_change", args=[ratings[0].user.pk]))
    assert page.status_code == 200


def test_admin_is_closed_to_non_staff(client, ratings):
    client.force_login(UserFactory(is_staff=False))
    response = client.get(reverse("admin:users_rating_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
