"""The elicitation page: one painting per story group, rated 1-5, saved for the visitor."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PaintingFactory, StoryGroupFactory, UserFactory
from tests.web.conftest import png_upload, viewable
from users.models import Rating
from web.selectors import SESSION_RATINGS_KEY, SESSION_SEED_KEY, SESSION_SET_KEY

pytestmark = pytest.mark.django_db

HOME = reverse("web:home")


def shown(response) -> list[str]:
    return [painting.external_id for painting, _field, _thumb in response.context["rows"]]


def post_ratings(client, response, ratings: dict[str, str]):
    """Submit the set shown in ``response`` with ``ratings`` (external id -> raw value)."""
    form = response.context["form"]
    data = {"seed": form["seed"].value(), "set": form["set"].value()}
    data |= {f"rating-{external_id}": value for external_id, value in ratings.items()}
    return client.post(HOME, data)


def test_home_shows_one_painting_per_story_group_with_star_inputs(client, catalogue):
    response = client.get(HOME)

    assert response.status_code == 200
    ids = shown(response)
    assert sorted(external_id.rsplit("-", 1)[0] for external_id in ids) == [
        "baroque",
        "impressionism",
        "modern",
    ]
    html = response.content.decode()
    for external_id in ids:
        for value in range(1, 6):
            assert f'name="rating-{external_id}" value="{value}"' in html
    assert "in this browser session only" in html


def test_home_keeps_the_same_set_until_another_is_asked_for(client, db):
    for g in range(12):
        PaintingFactory(
            external_id=f"g{g:02d}", story_group=StoryGroupFactory(slug=f"g{g:02d}"), **viewable()
        )
    first = shown(client.get(HOME))
    assert shown(client.get(HOME)) == first
    seed = client.session[SESSION_SEED_KEY]

    response = client.post(reverse("web:another_set"))

    assert response.status_code == 302
    assert (client.session[SESSION_SEED_KEY], client.session[SESSION_SET_KEY]) == (seed, 1)
    second = shown(client.get(HOME))
    assert len(first) == len(second) == 9
    assert {"g09", "g10", "g11"} <= set(second)  # the groups the first set had no room for


def test_ratings_posted_apply_to_the_set_that_was_on_screen(client, db):
    for g in range(12):
        PaintingFactory(
            external_id=f"g{g:02d}", story_group=StoryGroupFactory(slug=f"g{g:02d}"), **viewable()
        )
    client.post(reverse("web:another_set"))
    response = client.get(HOME)
    assert response.context["form"]["set"].value() == 1

    response = post_ratings(client, response, {"g10": "5"})

    assert response.status_code == 302
    assert client.session[SESSION_RATINGS_KEY] == {"g10": 5}


def test_home_shows_images_and_leaves_out_paintings_without_one(client, db):
    group_a, group_b = StoryGroupFactory(name="A group"), StoryGroupFactory(name="B group")
    PaintingFactory(
        external_id="with-img",
        title="Water Lilies",
        story_group=group_a,
        image=png_upload(),
        image_status="ok",
    )
    PaintingFactory(external_id="no-img", title="Lost Canvas", story_group=group_b)

    html = client.get(HOME).content.decode()

    assert 'alt="Water Lilies by ' in html
    assert "/media/thumbnails/with-img-" in html
    assert "Lost Canvas" not in html


def test_anonymous_ratings_are_kept_in_the_session_only(client, catalogue):
    response = client.get(HOME)
    first, second, third = shown(response)

    response = post_ratings(client, response, {first: "5", second: "2", third: ""})

    assert response.status_code == 302
    assert response["Location"] == reverse("web:recommendations")
    assert client.session[SESSION_RATINGS_KEY] == {first: 5, second: 2}
    assert not Rating.objects.exists()


def test_signed_in_ratings_are_stored(client, catalogue):
    user = UserFactory()
    client.force_login(user)
    response = client.get(HOME)
    first, second, _ = shown(response)

    post_ratings(client, response, {first: "4", second: "1"})

    assert dict(user.ratings.values_list("painting__external_id", "value")) == {first: 4, second: 1}
    assert SESSION_RATINGS_KEY not in client.session


def test_home_prefills_the_visitors_current_ratings(client, catalogue):
    user = UserFactory()
    client.force_login(user)
    first = shown(client.get(HOME))[0]
    Rating.objects.create(user=user, painting=catalogue[first], value=3)

    html = client.get(HOME).content.decode()

    assert re.search(rf'name="rating-{first}" value="3"[^>]* checked', html)
    assert not re.search(rf'name="rating-{first}" value="[1245]"[^>]* checked', html)


@pytest.mark.parametrize("value", ["0", "6", "three", "2.5"])
def test_invalid_rating_shows_an_error_and_writes_nothing(client, catalogue, value):
    user = UserFactory()
    client.force_login(user)
    response = client.get(HOME)
    first, second, _ = shown(response)

    response = post_ratings(client, response, {first: "5", second: value})

    assert response.status_code == 400
    assert "A rating must be" in response.context["form"][f"rating-{second}"].errors[0]
    assert "A rating must be" in response.content.decode()
    assert not Rating.objects.exists()


def test_invalid_anonymous_rating_leaves_the_session_untouched(client, catalogue):
    response = client.get(HOME)
    first, second, _ = shown(response)

    response = post_ratings(client, response, {first: "5", second: "9"})

    assert response.status_code == 400
    assert SESSION_RATINGS_KEY not in client.session


def test_submitting_no_rating_at_all_asks_for_one(client, catalogue):
    response = post_ratings(client, client.get(HOME), {})

    assert response.status_code == 400
    assert "Rate at least one painting" in response.content.decode()


def test_home_query_count_does_not_grow_with_the_number_of_groups(client, db):
    def count_queries() -> int:
        client.get(HOME)  # the first visit creates the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HOME).status_code == 200
        return len(queries)

    user = UserFactory()
    client.force_login(user)
    for i in range(2):
        PaintingFactory(story_group=StoryGroupFactory(slug=f"g{i}"), image=png_upload(), image_status="ok")
    small = count_queries()
    for i in range(2, 8):
        PaintingFactory(story_group=StoryGroupFactory(slug=f"g{i}"), image=png_upload(), image_status="ok")

    assert count_queries() == small <= 6
