"""RateLimit-Limit/-Remaining/-Reset (and Retry-After on 429) on throttled endpoints, per key."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from clients.services import api_key_create


@pytest.fixture
def anon_rate_3(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/min"},
    }


def test_each_answer_says_the_limit_what_is_left_and_when_it_resets(api_client, paintings, anon_rate_3):
    answers = [api_client.get("/api/v1/paintings/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a["RateLimit-Limit"] for a in answers} == {"3"}
    assert {a["RateLimit-Policy"] for a in answers} == {"3;w=60"}
    assert all(1 <= int(a["RateLimit-Reset"]) <= 60 for a in answers)
    assert answers[3]["Retry-After"] == answers[3]["RateLimit-Reset"]


def test_a_key_sees_its_own_rate_not_the_addresss(paintings, anon_rate_3):
    _, raw = api_key_create(name="Museum guide", rate="100/hour")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = client.get("/api/v1/paintings/")
    assert (response["RateLimit-Limit"], response["RateLimit-Remaining"]) == ("100", "99")
    assert response["RateLimit-Policy"] == "100;w=3600"


def test_the_tightest_of_several_limits_is_reported(api_client, paintings, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "100/min",
            "search_image": "2/min",
        },
    }
    response = api_client.post("/api/v1/search/image/", {}, format="multipart")
    assert (response["RateLimit-Limit"], response["RateLimit-Remaining"]) == ("2", "1")


def test_a_page_without_a_throttle_has_no_ratelimit_headers(client, db):
    assert "RateLimit-Limit" not in client.get("/")
