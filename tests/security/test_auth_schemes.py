"""Authentication refuses what it cannot verify: a wrong scheme is a 401 naming the accepted
forms (with ``WWW-Authenticate``), never silently anonymous; the docs' schemes work as typed."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from clients.services import api_key_create
from config.api.authentication import ACCEPTED_CREDENTIALS
from tests.factories import PaintingFactory
from users.services import api_token_create

PAINTINGS = "/api/v1/paintings/"
MY_RATINGS = "/api/v1/me/ratings/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        "ApiKey {key}",
        "Basic dXNlcjpwYXNz",
        "{key}",  # the bare key, as typed into an authorise box that sends Authorization as is
        "Api-Key",  # no credential
        "Token a b",  # spaces
    ],
)
def test_a_credential_in_an_unaccepted_form_is_401_naming_the_accepted_ones(header):
    PaintingFactory()
    _, raw = api_key_create(name="Museum guide")
    response = APIClient().get(PAINTINGS, HTTP_AUTHORIZATION=header.format(key=raw))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api", Bearer realm="api", Api-Key realm="api"'
    error = response.json()["error"]
    assert error["detail"] == {"accepted": ACCEPTED_CREDENTIALS}
    assert "Authorization: Api-Key <key>" in error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["Api-Key {key}", "api-key {key}", "Bearer {key}", "x-api-key"])
def test_an_app_key_is_accepted_in_each_documented_form(form):
    PaintingFactory()
    _, raw = api_key_create(name="Museum guide", rate="2/min")
    client = APIClient()
    if form == "x-api-key":
        client.credentials(HTTP_X_API_KEY=raw)
    else:
        client.credentials(HTTP_AUTHORIZATION=form.format(key=raw))
    assert [client.get(PAINTINGS).status_code for _ in range(3)] == [200, 200, 429]  # the key's rate


@pytest.mark.django_db
def test_a_wrong_key_in_x_api_key_is_401():
    response = APIClient().get(PAINTINGS, HTTP_X_API_KEY="pk_guessed")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid API key."


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_an_account_token_is_accepted_as_token_or_bearer(user, scheme):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {api_token_create(user=user)[1]}")
    assert client.get(MY_RATINGS).status_code == 200


@pytest.mark.django_db
def test_an_app_key_on_an_account_endpoint_is_403_saying_a_token_is_needed():
    _, raw = api_key_create(name="Museum guide")
    response = APIClient().get(MY_RATINGS, HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "account_required" and "Authorization: Token <token>" in error["message"]


@pytest.mark.django_db
def test_the_docs_schemes_send_what_the_authorise_box_is_given(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    schemes = yaml.safe_load(target.read_text())["components"]["securitySchemes"]
    # Swagger UI sends an apiKey scheme's value as typed, and an http bearer one as "Bearer <value>"
    assert {k: v for k, v in schemes["apiKeyAuth"].items() if k != "description"} == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert {k: v for k, v in schemes["tokenAuth"].items() if k != "description"} == {
        "type": "http",
        "scheme": "bearer",
    }
