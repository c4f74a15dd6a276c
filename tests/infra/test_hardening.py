"""JSON errors everywhere under /api/, the Content-Security-Policy, signup and login limits."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from catalog import apis as catalog_apis
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    """Rate-limit counters live in the cache."""
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.mark.parametrize("debug", [False, True])
def test_a_path_with_a_newline_answers_the_json_404(client, settings, debug):
    settings.DEBUG = debug  # in DEBUG Django would list the URL patterns on its technical 404
    response = client.get("/api/v1/paintings/a%0A/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_an_unhandled_error_in_an_api_view_is_a_logged_json_500(client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(catalog_apis.PaintingListApi, "get", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/paintings/")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "server_error", "message": "An unexpected error occurred; it has been logged."}
    }
    assert "boom" in caplog.text


def test_django_error_handlers_answer_json_under_api_and_html_elsewhere(rf):
    from config.exceptions import handler404, handler500

    assert handler404(rf.get("/api/v1/nowhere"), None)["Content-Type"] == "application/json"
    assert handler500(rf.get("/api/v1/x")).status_code == 500
    assert handler404(rf.get("/nowhere"), None)["Content-Type"].startswith("text/html")


def test_html_pages_carry_a_strict_content_security_policy(client, settings):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert policy == settings.CSP
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_swagger_ui_page_may_run_its_inline_start_up_script(client, settings):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == settings.CSP_DOCS
    assert "<script>" in response.content.decode()  # the inline script the policy allows


def test_signup_is_rate_limited_per_client_address(settings):
    settings.RATE_LIMITS = {"signup": "2/hour"}
    client = Client()
    url = reverse("signup")
    statuses = [
        client.post(url, {"username": f"new{n}", "password1": "x", "password2": "y"}).status_code
        for n in range(3)
    ]
    assert statuses == [400, 400, 429]
    assert client.get(url).status_code == 200  # the form itself stays reachable
    assert Client(REMOTE_ADDR="10.1.1.1").post(url, {"username": "z"}).status_code == 400


def test_web_login_locks_a_client_out_of_an_account_after_repeated_failures(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT_CLIENT = 3
    user = UserFactory()
    client = Client()
    for _ in range(3):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    client.post(reverse("login"), {"username": user.username, "password": "pass-word-123"})
    assert "_auth_user_id" not in client.session  # the right password, refused while locked
