"""Error paths shared by every endpoint: malformed or oversized bodies, wrong media types and
methods, unknown paths - always the ``{"error": {...}}`` body, never a 500."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests.factories import RatingFactory

RECOMMEND = "/api/v1/recommendations/"


def raw_post(client: APIClient, url: str, data: bytes | str, content_type: str = "application/json"):
    return client.generic("POST", url, data, content_type=content_type)


@pytest.mark.parametrize("data", ['{"ratings": {"p-a": 5}', "{'ratings': 1}", "NaN", b"\xff\xfe{}"])
def test_malformed_json_is_400(api_client, minilm, data):
    response = raw_post(api_client, RECOMMEND, data)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_deeply_nested_json_is_400_not_a_crash(api_client, minilm):
    response = raw_post(api_client, RECOMMEND, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_body_that_is_not_an_object_is_400(api_client, minilm):
    response = raw_post(api_client, RECOMMEND, "[1, 2]")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ('{"ratings": {"p-a": 5}, "ratings": {"p-b": 1}}', "ratings"),
        ('{"ratings": {"p-a": 5, "p-a": 4}}', "ratings.p-a"),
        ('{"ratings": {"p-a": 5}, "exclude": [{"x": 1, "x": 2}]}', "exclude.0.x"),
    ],
)
def test_duplicate_json_keys_are_400_naming_the_key(api_client, minilm, data, field):
    response = raw_post(api_client, RECOMMEND, data)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["field"] == field


def test_duplicate_json_keys_are_refused_by_every_endpoint(auth_client, user, paintings):
    raw = '{"painting": "p-a", "value": 5, "value": 1}'
    response = raw_post(auth_client, "/api/v1/me/ratings/", raw)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "value"
    assert not user.ratings.exists()


def test_oversized_body_is_413(api_client, minilm, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    ratings = {f"p-{i}": 3 for i in range(200)}
    response = raw_post(api_client, RECOMMEND, json.dumps({"ratings": ratings}))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_oversized_body_of_an_authenticated_write_is_413_and_stores_nothing(
    auth_client, user, minilm, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"ratings": {"p-a": 5, "p-b": 4, "p-c": 3, "p-d": 2, "p-e": 1, "pad": "x" * 100}})
    response = auth_client.generic("PUT", "/api/v1/me/ratings/bulk/", body, content_type="application/json")
    assert response.status_code == 413
    assert not user.ratings.exists()


def test_body_just_under_the_limit_is_accepted(api_client, minilm, settings):
    body = json.dumps({"ratings": {"p-a": 5, "p-b": 1}, "engine": "minilm"})
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)
    assert raw_post(api_client, RECOMMEND, body).status_code == 200


def test_form_encoded_body_is_415(api_client, minilm):
    response = raw_post(api_client, RECOMMEND, "ratings=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_wrong_method_is_405(api_client, minilm):
    response = api_client.delete("/api/v1/paintings/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/paintings/p-a/nothing/", "/api/v1/"])
def test_unknown_api_path_is_404_in_the_error_body(api_client, db, path):
    response = api_client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def _bad_requests() -> list[tuple[str, str, object]]:
    """(method, path, body) with bad input for every endpoint."""
    garbage: list[object] = [
        None,
        [],
        "text",
        12,
        {"ratings": None},
        {"ratings": {"p-a": {"nested": 1}}},
        {"ratings": {"": 5}},
        {"ratings": {"p-a\x00": 5}},
        {"painting": "p-a\x00", "value": 3},
        {"painting": ["p-a"], "value": 3},
        {"painting": "p-a", "value": 10**100},
        {"ratings": {"p-a": 5}, "n": 10**100, "artist": 10**100, "exclude": ["\x00"]},
        {"ratings": {"p-a": 5}, "n": "9", "engine": {"x": 1}, "story_group": 5},
        {"username": None, "password": ["x"]},
        {"username": "a\x00", "password": "b"},
    ]
    writes = [
        ("POST", "/api/v1/auth/token/"),
        ("POST", "/api/v1/me/ratings/"),
        ("POST", "/api/v1/me/ratings/bulk/"),
        ("PUT", "/api/v1/me/ratings/bulk/"),
        ("POST", RECOMMEND),
    ]
    queries = [
        "/api/v1/paintings/?artist=99999999999999999999999&year_from=-99999999999&q=%00",
        "/api/v1/paintings/?page=-1&page_size=100000&has_image=%00",
        "/api/v1/paintings/p-a/similar/?engine=%00&n=99999999999999999999",
        "/api/v1/paintings/p-a/similar/?engine=minilm&n=-1",
        "/api/v1/paintings/%00/",
        "/api/v1/paintings/" + "x" * 500 + "/",
        "/api/v1/elicitation/?seed=99999999999999999999999999&per_group=99999",
        "/api/v1/engines/%00/",
        "/api/v1/recommenders/%00/",
        RECOMMEND + "?recommender=%00&engine=x&artist=%00",
        RECOMMEND + "?n=abc&artist=-1&exclude=,,,&engine=%00",
        RECOMMEND + "?exclude=" + ",".join(["p-a"] * 1000),
        "/api/v1/me/ratings/?page=abc",
    ]
    return (
        [(method, path, body) for method, path in writes for body in garbage]
        + [("GET", path, None) for path in queries]
        + [("DELETE", "/api/v1/me/ratings/%00/", None), ("DELETE", "/api/v1/me/ratings/p-zzz/", None)]
    )


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_no_bad_input_anywhere_gives_a_500(paintings, minilm, user, signed_in):
    client = APIClient(raise_request_exception=False)
    if signed_in:
        client.force_authenticate(user=user)
        RatingFactory(user=user, painting=paintings["a"], value=5)
    failures = []
    for method, path, body in _bad_requests():
        data = json.dumps(body) if body is not None else ""
        response = client.generic(method, path, data, content_type="application/json")
        if response.status_code >= 500:
            failures.append((method, path, body, response.status_code))
        elif response.status_code >= 400:
            assert set(response.json()["error"]) >= {"code", "message"}, (method, path, body)
    assert failures == []
