"""/api/v1/auth/token/: POST username + password -> a new expiring token (shown once, stored
hashed); DELETE revokes the token the request carries. Throttled and locked before hashing."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.utils import timezone

from tests.factories import UserFactory
from users.models import ApiToken

URL = "/api/v1/auth/token/"
PASSWORD = "pass-word-123"


def obtain(client, user, password: str = PASSWORD, **kwargs):
    return client.post(URL, {"username": user.username, "password": password}, format="json", **kwargs)


def test_credentials_create_a_token_stored_only_as_its_hash(api_client, user, settings):
    settings.TOKEN_TTL = 3600
    response = obtain(api_client, user)
    assert response.status_code == 201
    body = response.json()
    row = ApiToken.objects.get(user=user)
    assert row.key_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["prefix"] == body["token"][:8] == row.prefix
    assert body["token"] not in {row.key_hash, row.prefix}
    lifetime = row.expires_at - row.created_at
    assert timedelta(seconds=3599) < lifetime <= timedelta(seconds=3600)


def test_each_request_creates_a_separate_token(api_client, user):
    first, second = obtain(api_client, user).json(), obtain(api_client, user).json()
    assert first["token"] != second["token"]
    assert ApiToken.objects.filter(user=user).count() == 2


def test_form_encoded_credentials_are_accepted(api_client, user):
    response = api_client.post(URL, {"username": user.username, "password": PASSWORD})  # multipart
    assert response.status_code == 415  # only JSON and x-www-form-urlencoded bodies
    response = api_client.post(
        URL,
        f"username={user.username}&password={PASSWORD}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert ApiToken.objects.filter(user=user).count() == 1


def test_wrong_password_is_400(api_client, user):
    response = obtain(api_client, user, password="nope")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()


def test_inactive_account_gets_no_token(api_client, db):
    inactive = UserFactory(is_active=False)
    response = obtain(api_client, inactive)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_missing_password_names_the_field(api_client, user):
    response = api_client.post(URL, {"username": user.username}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "password"


def test_the_token_authenticates_api_requests_and_records_its_use(api_client, user):
    key = obtain(api_client, user).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/me/ratings/").status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_an_expired_token_is_refused(api_client, user):
    key = obtain(api_client, user).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api_client.get("/api/v1/me/ratings/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Token expired; request a new one."


def test_ttl_zero_means_the_token_never_expires(api_client, user, settings):
    settings.TOKEN_TTL = 0
    assert obtain(api_client, user).json()["expires_at"] is None


def test_delete_revokes_the_token_it_carries_and_only_that_one(api_client, user):
    revoked, kept = obtain(api_client, user).json()["token"], obtain(api_client, user).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {revoked}")
    assert api_client.delete(URL).status_code == 204
    assert api_client.get("/api/v1/me/ratings/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {kept}")
    assert api_client.get("/api/v1/me/ratings/").status_code == 200


def test_delete_without_a_token_is_401(api_client, db):
    response = api_client.delete(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_token_requests_are_throttled_per_client_before_checking_the_password(api_client, user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/min"},
    }
    statuses = [obtain(api_client, user, password="wrong").status_code for _ in range(3)]
    blocked = obtain(api_client, user)  # the right password, but over the limit
    assert statuses == [400, 400, 400]
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert not ApiToken.objects.exists()


def test_repeated_failures_from_one_client_lock_that_client_out_of_that_account(api_client, user, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT_CLIENT = 3
    for _ in range(3):
        assert obtain(api_client, user, password="wrong", REMOTE_ADDR="10.0.0.1").status_code == 400
    response = obtain(api_client, user, REMOTE_ADDR="10.0.0.1")  # the right password, refused
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert not ApiToken.objects.exists()
    assert obtain(api_client, user, REMOTE_ADDR="10.0.0.2").status_code == 201  # nobody else is


def test_a_successful_sign_in_clears_the_clients_failures(api_client, user, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT_CLIENT = 3
    for _ in range(2):
        obtain(api_client, user, password="wrong")
    assert obtain(api_client, user).status_code == 201
    for _ in range(2):
        obtain(api_client, user, password="wrong")
    assert obtain(api_client, user).status_code == 201
