"""Per-address limits on the web UI's expensive pages and on password reset (requests per address,
mails per recipient)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory


@pytest.fixture
def low_limits(settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "web_search": "2/min",
        "web_image_search": "1/min",
        "web_recommendations": "2/min",
        "password_reset": "3/hour",
        "password_reset_mail": "2/hour",
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["web:search", "web:recommendations"])
def test_a_web_page_that_runs_a_model_is_limited_per_address(low_limits, page):
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [client.get(reverse(page), {"q": "sunflowers"}).status_code for _ in range(3)]
    assert 429 not in statuses[:2] and statuses[2] == 429
    refused = client.get(reverse(page), {"q": "sunflowers"})
    assert int(refused["Retry-After"]) > 0
    assert Client(REMOTE_ADDR="203.0.113.10").get(reverse(page), {"q": "x"}).status_code != 429


@pytest.mark.django_db
def test_image_search_uploads_are_limited_per_address(low_limits):
    client = Client(REMOTE_ADDR="203.0.113.9")
    first = client.post(reverse("web:image_search"), {})
    second = client.post(reverse("web:image_search"), {})
    assert first.status_code != 429 and second.status_code == 429


@pytest.mark.django_db
def test_reset_mails_to_one_address_stop_at_the_limit_and_the_page_still_says_sent(low_limits):
    user = UserFactory()
    answers = [
        Client(REMOTE_ADDR=f"203.0.113.{n}").post(reverse("password_reset"), {"email": user.email})
        for n in range(5)  # a new address each time: the per-recipient limit is what holds
    ]
    assert [a.status_code for a in answers] == [302] * 5  # never tells whether a mail left
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_reset_requests_are_limited_per_address(low_limits):
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [
        client.post(reverse("password_reset"), {"email": f"x{n}@example.org"}).status_code for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert client.get(reverse("password_reset")).status_code == 200  # the form stays reachable
