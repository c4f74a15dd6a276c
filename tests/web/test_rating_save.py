"""Ratings saved as they are given: the JSON endpoint site.js posts a star click to."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import RatingFactory, UserFactory
from users.models import Rating
from web.selectors import SESSION_RATINGS_KEY

pytestmark = pytest.mark.django_db

SAVE = reverse("web:rating_save")
HOME = reverse("web:home")


def test_a_star_click_saves_one_rating_in_the_session(client, catalogue):
    response = client.post(SAVE, {"painting": "baroque-1", "value": "4"})

    assert response.status_code == 200
    assert response.json() == {"painting": "baroque-1", "value": 4, "rated": 1}
    assert client.session[SESSION_RATINGS_KEY] == {"baroque-1": 4}
    assert not Rating.objects.exists()


def test_a_signed_in_visitors_click_is_stored(client, catalogue):
    user = UserFactory()
    client.force_login(user)

    client.post(SAVE, {"painting": "modern-2", "value": "2"})
    response = client.post(SAVE, {"painting": "modern-2", "value": "5"})

    assert response.json()["rated"] == 1
    assert list(user.ratings.values_list("painting__external_id", "value")) == [("modern-2", 5)]


def test_an_empty_value_removes_the_rating_and_is_idempotent(client, catalogue):
    user = UserFactory()
    RatingFactory(user=user, painting=catalogue["baroque-2"], value=3)
    client.force_login(user)

    first = client.post(SAVE, {"painting": "baroque-2", "value": ""})
    again = client.post(SAVE, {"painting": "baroque-2", "value": ""})

    assert first.json() == again.json() == {"painting": "baroque-2", "value": None, "rated": 0}
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    ("data", "status", "code", "field"),
    [
        ({"painting": "baroque-1", "value": "6"}, 400, "invalid", "value"),
        ({"painting": "baroque-1", "value": "x"}, 400, "invalid", "value"),
        ({"value": "3"}, 400, "invalid", "painting"),
        ({"painting": "nope", "value": "3"}, 404, "unknown_painting", "ratings"),
        ({"painting": "nope", "value": ""}, 404, "unknown_painting", "painting"),
    ],
)
def test_bad_input_is_a_json_error_naming_the_field(client, catalogue, data, status, code, field):
    response = client.post(SAVE, data)

    assert response.status_code == status
    body = response.json()["error"]
    assert (body["code"], body["field"]) == (code, field)
    assert SESSION_RATINGS_KEY not in client.session


def test_the_endpoint_needs_the_csrf_token(catalogue):
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(SAVE, {"painting": "baroque-1", "value": "4"}).status_code == 403


def test_only_post(client, db):
    assert client.get(SAVE).status_code == 405


def test_home_counts_the_rated_paintings_of_the_set_and_wires_autosave(client, catalogue):
    client.post(SAVE, {"painting": "baroque-1", "value": "4"})
    client.post(SAVE, {"painting": "modern-1", "value": "2"})

    response = client.get(HOME)

    shown = {p.external_id for p, _f, _t in response.context["rows"]}
    assert response.context["rated_count"] == len(shown & {"baroque-1", "modern-1"})
    html = response.content.decode()
    assert f'data-autosave-url="{SAVE}"' in html
    assert f"of {len(shown)} rated" in html
    assert "Show my recommendations" in html and "Show another set" in html


def test_moving_on_with_ratings_already_saved_needs_no_rating_in_the_form(client, catalogue):
    client.post(SAVE, {"painting": "baroque-1", "value": "4"})
    response = client.get(HOME)

    response = client.post(HOME, {"seed": response.context["form"]["seed"].value()})

    assert response.status_code == 302
    assert response["Location"] == reverse("web:recommendations")
    assert client.session[SESSION_RATINGS_KEY] == {"baroque-1": 4}
