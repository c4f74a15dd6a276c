"""/api/v1/me/ratings/: the signed-in user's ratings (list, upsert, bulk upsert, delete)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import PaintingFactory, RatingFactory, UserFactory
from users.models import Rating
from users.services import api_token_create

URL = "/api/v1/me/ratings/"
BULK = "/api/v1/me/ratings/bulk/"


def stored(user) -> dict[str, int]:
    return dict(Rating.objects.filter(user=user).values_list("painting__external_id", "value"))


# -- auth -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "url"),
    [("get", URL), ("post", URL), ("post", BULK), ("put", BULK), ("delete", f"{URL}p-a/")],
)
def test_anonymous_is_401(api_client, paintings, method, url):
    response = getattr(api_client, method)(url, {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert response.json()["error"]["code"] == "not_authenticated"


def test_token_authentication(paintings, user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
    response = client.post(URL, {"painting": "p-a", "value": 4}, format="json")
    assert response.status_code == 201
    assert stored(user) == {"p-a": 4}


def test_bad_token_is_401(api_client, paintings):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_session_authentication_needs_the_csrf_token(paintings, user):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=user.username, password="pass-word-123")
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"painting": "p-a", "value": 4}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    assert stored(user) == {}


# -- list -----------------------------------------------------------------------------------------
def test_list_shows_only_my_ratings_most_recent_first(auth_client, user, paintings):
    RatingFactory(user=user, painting=paintings["a"], value=5)
    RatingFactory(user=user, painting=paintings["b"], value=2)
    RatingFactory(user=UserFactory(), painting=paintings["c"], value=1)
    body = auth_client.get(URL).json()
    assert body["count"] == 2
    assert [(r["painting"]["id"], r["value"]) for r in body["results"]] == [("p-b", 2), ("p-a", 5)]
    assert body["results"][1]["painting"]["title"] == "Water Lilies"
    assert body["results"][1]["created_at"]


def test_list_takes_two_queries_for_a_page(auth_client, user, db, django_assert_max_num_queries):
    for _ in range(30):
        RatingFactory(user=user)
    with django_assert_max_num_queries(2):
        response = auth_client.get(URL)
    assert len(response.json()["results"]) == 24


# -- upsert ---------------------------------------------------------------------------------------
def test_first_rating_is_201_and_a_second_replaces_it_with_200(auth_client, user, paintings):
    first = auth_client.post(URL, {"painting": "p-a", "value": 2}, format="json")
    second = auth_client.post(URL, {"painting": "p-a", "value": 5}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["painting"]["id"] == "p-a"
    assert (first.json()["value"], second.json()["value"]) == (2, 5)
    assert stored(user) == {"p-a": 5}


@pytest.mark.parametrize("value", [0, 6, "5", 4.5, True, None, [5]])
def test_rating_must_be_a_whole_number_1_to_5(auth_client, user, paintings, value):
    response = auth_client.post(URL, {"painting": "p-a", "value": value}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "value"
    assert stored(user) == {}


def test_unknown_painting_in_the_body_is_400_naming_the_field(auth_client, user, paintings):
    response = auth_client.post(URL, {"painting": "p-zzz", "value": 3}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_painting"
    assert response.json()["error"]["field"] == "painting"


def test_missing_painting_is_400(auth_client, paintings):
    response = auth_client.post(URL, {"value": 3}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "This field is required.",
        "field": "painting",
        "detail": {"painting": ["This field is required."]},
    }


# -- bulk -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["post", "put"])
def test_bulk_upsert_stores_every_rating(auth_client, user, paintings, method):
    RatingFactory(user=user, painting=paintings["a"], value=1)
    response = getattr(auth_client, method)(BULK, {"ratings": {"p-a": 5, "p-b": 3}}, format="json")
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert sorted((r["painting"]["id"], r["value"]) for r in response.json()["results"]) == [
        ("p-a", 5),
        ("p-b", 3),
    ]
    assert stored(user) == {"p-a": 5, "p-b": 3}


def test_bulk_with_one_unknown_painting_stores_nothing(auth_client, user, paintings):
    response = auth_client.post(BULK, {"ratings": {"p-a": 5, "p-zzz": 3}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ratings"
    assert response.json()["error"]["detail"] == {"unknown_ids": ["p-zzz"]}
    assert stored(user) == {}


def test_bulk_with_one_bad_value_names_it_and_stores_nothing(auth_client, user, paintings):
    response = auth_client.post(BULK, {"ratings": {"p-a": 5, "p-b": 9}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_rating"
    assert response.json()["error"]["field"] == "ratings.p-b"
    assert stored(user) == {}


@pytest.mark.parametrize(
    "ratings", [{}, [["p-a", 5]], {"bad id!": 3}, "p-a=5"], ids=["empty", "list", "bad-id", "string"]
)
def test_bulk_rejects_malformed_maps(auth_client, user, paintings, ratings):
    response = auth_client.post(BULK, {"ratings": ratings}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ratings"


def test_bulk_over_the_limit_is_400(auth_client, paintings, settings):
    settings.RECSYS_MAX_RATINGS = 1
    response = auth_client.post(BULK, {"ratings": {"p-a": 5, "p-b": 3}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "At most 1 ratings per request, got 2."


# -- delete ---------------------------------------------------------------------------------------
def test_delete_my_rating(auth_client, user, paintings):
    RatingFactory(user=user, painting=paintings["a"])
    response = auth_client.delete(f"{URL}p-a/")
    assert response.status_code == 204
    assert response.content == b""
    assert stored(user) == {}


def test_delete_a_painting_i_have_not_rated_is_404(auth_client, paintings):
    response = auth_client.delete(f"{URL}p-a/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_painting"


def test_i_cannot_delete_someone_elses_rating(auth_client, paintings):
    other = UserFactory()
    RatingFactory(user=other, painting=paintings["a"], value=4)
    assert auth_client.delete(f"{URL}p-a/").status_code == 404
    assert stored(other) == {"p-a": 4}


def test_my_ratings_do_not_touch_other_users_ratings(auth_client, user, paintings):
    other = UserFactory()
    RatingFactory(user=other, painting=paintings["a"], value=1)
    auth_client.post(URL, {"painting": "p-a", "value": 5}, format="json")
    assert stored(other) == {"p-a": 1}
    assert stored(user) == {"p-a": 5}


def test_get_on_a_rating_is_405(auth_client, paintings):
    PaintingFactory(external_id="x")
    response = auth_client.get(f"{URL}x/")
    assert response.status_code == 405
