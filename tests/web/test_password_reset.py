"""Password reset in the site's own pages: the mail goes out with a working link, and a mail the
backend could not send is reported as such instead of "sent"."""

from __future__ import annotations

import logging
import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from tests.factories import UserFactory
from tests.infra.subproc import shell_json

pytestmark = pytest.mark.django_db

RESET = reverse("password_reset")
LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message, as a wrong password or a dead relay does."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid")


def test_login_page_links_to_the_password_reset(client):
    html = client.get(reverse("login")).content.decode()

    assert f'<a href="{RESET}">Forgot password?</a>' in html


def test_reset_page_is_drawn_in_the_sites_look_not_the_admins(client):
    response = client.get(RESET)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Painting <span>recommender</span>" in html and 'name="email"' in html
    assert "Django administration" not in html
    assert [t.name for t in response.templates][:2] == ["registration/password_reset_form.html", "base.html"]


def test_reset_mails_a_link_to_the_accounts_address_and_says_so(client):
    UserFactory(username="ada", email="ada@example.org")

    response = client.post(RESET, {"email": "ada@example.org"}, follow=True)

    assert response.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.org"]
    assert message.subject == "Reset your password on testserver"
    assert "Hello ada," in message.body and LINK.search(message.body)


def test_the_mailed_link_sets_a_new_password(client):
    user = UserFactory(username="ada", email="ada@example.org")
    client.post(RESET, {"email": "ada@example.org"})
    link = LINK.search(mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)  # Django swaps the token for a session and redirects
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-secret-7", "new_password2": "a-brand-new-secret-7"},
        follow=True,
    )

    assert done.redirect_chain[-1][0] == reverse("password_reset_complete")
    assert "Your new password is set" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password("a-brand-new-secret-7")


def test_a_used_link_says_it_no_longer_works(client):
    UserFactory(username="ada", email="ada@example.org")
    client.post(RESET, {"email": "ada@example.org"})
    link = LINK.search(mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    pair = {"new_password1": "a-brand-new-secret-7", "new_password2": "a-brand-new-secret-7"}
    client.post(form_page.redirect_chain[-1][0], pair)

    again = client.get(link, follow=True)

    assert "This link no longer works" in again.content.decode()
    assert 'name="new_password1"' not in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    response = client.post(RESET, {"email": "nobody@example.org"})

    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_mail_the_backend_refused_is_logged_and_shown_not_called_sent(client, settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    user = UserFactory(username="ada", email="ada@example.org")

    with caplog.at_level(logging.ERROR, logger="users.forms"):
        response = client.post(RESET, {"email": "ada@example.org"})

    html = response.content.decode()
    assert response.status_code == 503
    assert "We could not send the password reset email just now" in html
    assert "Check your email" not in html and "we have sent" not in html
    assert 'name="email"' in html  # the form again, to try once more
    failures = [r for r in caplog.records if r.name == "users.forms"]
    assert [r.getMessage() for r in failures] == [f"Failed to send password reset email to user {user.pk}"]
    assert isinstance(failures[0].exc_info[1], smtplib.SMTPAuthenticationError)


EMAIL_SNAPSHOT = """
import json
from django.conf import settings
print(json.dumps({
    "backend": settings.EMAIL_BACKEND,
    "host": settings.EMAIL_HOST,
    "port": settings.EMAIL_PORT,
    "tls": settings.EMAIL_USE_TLS,
    "from": settings.DEFAULT_FROM_EMAIL,
}))
"""


@pytest.mark.slow  # settings read by a child process
def test_embedded_default_prints_mails_on_the_console(tmp_path):
    snapshot = shell_json(EMAIL_SNAPSHOT, env={"VAR_DIR": str(tmp_path)})

    assert snapshot["backend"] == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.slow
def test_email_host_in_the_environment_sends_over_smtp(tmp_path):
    env = {
        "VAR_DIR": str(tmp_path),
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": "2525",
        "DEFAULT_FROM_EMAIL": "paintings@example.org",
    }

    snapshot = shell_json(EMAIL_SNAPSHOT, env=env)

    assert snapshot == {
        "backend": "django.core.mail.backends.smtp.EmailBackend",
        "host": "smtp.example.org",
        "port": 2525,
        "tls": True,
        "from": "paintings@example.org",
    }


def test_a_signed_in_user_changes_the_password_on_the_sites_pages(client):
    user = UserFactory(username="ada")
    client.force_login(user)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": "pass-word-123",
            "new_password1": "a-brand-new-secret-7",
            "new_password2": "a-brand-new-secret-7",
        },
        follow=True,
    )

    assert response.redirect_chain == [(reverse("password_change_done"), 302)]
    assert "Painting <span>recommender</span>" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("a-brand-new-secret-7")
