"""POST /api/v1/auth/token/: username + password -> the account's API token."""

from __future__ import annotations

from rest_framework.authtoken.models import Token

from tests.factories import UserFactory

URL = "/api/v1/auth/token/"


def test_credentials_give_the_accounts_token(api_client, user):
    response = api_client.post(URL, {"username": user.username, "password": "pass-word-123"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}


def test_the_token_is_stable(api_client, user):
    credentials = {"username": user.username, "password": "pass-word-123"}
    first = api_client.post(URL, credentials, format="json").json()["token"]
    assert api_client.post(URL, credentials, format="json").json()["token"] == first


def test_wrong_password_is_400(api_client, user):
    response = api_client.post(URL, {"username": user.username, "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not Token.objects.exists()


def test_inactive_account_gets_no_token(api_client, db):
    inactive = UserFactory(is_active=False)
    response = api_client.post(
        URL, {"username": inactive.username, "password": "pass-word-123"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_missing_password_names_the_field(api_client, user):
    response = api_client.post(URL, {"username": user.username}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "password"


def test_the_token_authenticates_api_requests(api_client, user):
    token = api_client.post(URL, {"username": user.username, "password": "pass-word-123"}, format="json")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api_client.get("/api/v1/me/ratings/").status_code == 200
