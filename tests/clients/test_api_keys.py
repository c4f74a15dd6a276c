"""Museum-app API keys: authentication, hashing at rest, per-key rate limits on real Redis, and
the admin showing a new key once."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.cache import caches
from django.urls import reverse
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from clients.authentication import ApiKeyAuthentication
from clients.models import ApiKey
from clients.services import api_key_create, api_key_revoke
from config import ratelimit
from tests.factories import PaintingFactory, UserFactory

PAINTINGS = "/api/v1/paintings/"
RECOMMENDATIONS = "/api/v1/recommendations/"


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.mark.django_db
def test_a_key_authenticates_its_app_as_request_auth_without_an_account():
    PaintingFactory(source="rijks")
    key, raw = api_key_create(name="Museum guide", collection="rijks")
    request = APIView().initialize_request(
        APIRequestFactory().get(PAINTINGS, HTTP_AUTHORIZATION=f"Api-Key {raw}")
    )
    request.authenticators = [ApiKeyAuthentication()]
    assert request.auth == key and request.auth.collection == "rijks"
    assert request.user.is_authenticated is False  # an app, not a person: no account's data
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.django_db
def test_a_key_lists_paintings_and_unknown_or_revoked_keys_are_401():
    PaintingFactory()
    key, raw = api_key_create(name="Museum guide")
    assert _client(raw).get(PAINTINGS).status_code == 200
    assert _client(raw + "x").get(PAINTINGS).status_code == 401
    assert api_key_revoke(key=key) is True
    response = _client(raw).get(PAINTINGS)
    assert response.status_code == 401 and response.json()["error"]["message"] == "Invalid API key."
    # the account-less recommendation endpoint refuses a bad key too, instead of ignoring it
    assert _client(raw).post(RECOMMENDATIONS, {"ratings": {}}, format="json").status_code == 401


@pytest.mark.django_db
def test_the_key_is_stored_only_as_its_sha256():
    key, raw = api_key_create(name="Museum guide")
    key.refresh_from_db()
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.prefix == raw[:8] and raw.startswith("pk_") and len(raw) > 40
    stored = [str(value) for value in ApiKey.objects.values().get().values()]
    assert not any(raw in value for value in stored)


@pytest.fixture
def shared_redis_cache(settings, monkeypatch):
    monkeypatch.setattr(ratelimit, "_backoff_until", 0.0)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.TEST_REDIS_URL,
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.25},
        }
    }
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


@pytest.mark.redis
@pytest.mark.django_db
def test_each_key_has_its_own_rate_counted_on_redis(shared_redis_cache, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "2/min"},
    }
    _, busy = api_key_create(name="Busy museum", rate="3/min")
    _, quiet = api_key_create(name="Quiet museum", rate="3/min")
    codes = [_client(busy).get(PAINTINGS).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert _client(quiet).get(PAINTINGS).status_code == 200  # another app's key is not affected
    # a key's requests do not use up the per-address anonymous rate (2/min) of that address
    assert [APIClient().get(PAINTINGS).status_code for _ in range(3)] == [200, 200, 429]
    keys = shared_redis_cache._cache.get_client().keys("*throttle:api_key:*")
    assert len(keys) == 2  # one atomic counter per key, in Redis


@pytest.mark.redis
@pytest.mark.django_db
def test_the_recommendation_endpoint_counts_a_key_at_its_rate_not_per_address(shared_redis_cache, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "recommend_anon": "1/min",
        },
    }
    _, raw = api_key_create(name="Museum guide", rate="2/min")
    body = {"ratings": {"no-such-painting": 5}}
    codes = [_client(raw).post(RECOMMENDATIONS, body, format="json").status_code for _ in range(3)]
    assert codes == [400, 400, 429]  # reached the view twice (unknown id), then the key's limit


@pytest.mark.django_db
def test_the_admin_shows_a_new_key_once_and_stores_its_hash(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:clients_apikey_add"),
        {"name": "Museum guide", "rate": "100/s", "collection": ""},
        follow=True,
    )
    assert response.status_code == 200
    shown = re.findall(r"pk_[A-Za-z0-9_-]{40,}", response.content.decode())  # the full key
    key = ApiKey.objects.get(name="Museum guide")
    assert len(shown) == 1 and ApiKey.hash_key(shown[0]) == key.key_hash
    assert key.rate == "100/s"
    page = client.get(reverse("admin:clients_apikey_change", args=[key.pk])).content.decode()
    assert shown[0] not in page and key.prefix in page


@pytest.mark.django_db
def test_the_admin_refuses_a_rate_it_cannot_read(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(reverse("admin:clients_apikey_add"), {"name": "Museum", "rate": "lots"})
    assert response.status_code == 200 and "Not a rate" in response.content.decode()
    assert not ApiKey.objects.exists()
