"""API tokens: revoked when the password changes or is reset; listed and revocable by their owner
(API) and by staff (admin); their lifetime is the TOKEN_TTL setting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UserFactory
from users.models import ApiToken
from users.services import api_token_create

PASSWORD = "pass-word-123"
NEW_PASSWORD = "another-long-passphrase-42"
MINE = "/api/v1/me/ratings/"


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
def test_changing_the_password_on_the_web_revokes_every_token(user):
    keys = [api_token_create(user=user)[1] for _ in range(2)]
    web = Client()
    web.force_login(user)
    response = web.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert [with_token(key).get(MINE).status_code for key in keys] == [401, 401]
    assert web.get(reverse("password_change")).status_code == 200  # the session itself stays signed in


@pytest.mark.django_db
def test_resetting_the_password_by_mail_revokes_every_token(user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _, key = api_token_create(user=user)
    web = Client()
    web.post(reverse("password_reset"), {"email": user.email})
    link = re.search(r"/accounts/reset/\S+/\S+/", mail.outbox[0].body).group(0)
    form = web.get(link, follow=True)
    web.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert with_token(key).get(MINE).status_code == 401


@pytest.mark.django_db
def test_saving_a_user_without_a_new_password_keeps_the_tokens(user):
    _, key = api_token_create(user=user)
    user.first_name = "Ada"
    user.save()
    assert with_token(key).get(MINE).status_code == 200


@pytest.mark.django_db
def test_the_owner_lists_their_tokens_and_sees_which_one_is_in_use(user):
    first, first_key = api_token_create(user=user)
    second, _ = api_token_create(user=user)
    api_token_create(user=UserFactory())  # another account's: never listed
    body = with_token(first_key).get("/api/v1/auth/tokens/").json()
    assert [(t["id"], t["prefix"], t["current"]) for t in body] == [
        (second.pk, second.prefix, False),
        (first.pk, first.prefix, True),
    ]
    assert all(t["revoked_at"] is None for t in body)


@pytest.mark.django_db
def test_the_owner_revokes_one_token_and_another_accounts_token_is_404(user):
    _, kept_key = api_token_create(user=user)
    lost, lost_key = api_token_create(user=user)
    theirs, theirs_key = api_token_create(user=UserFactory())
    client = with_token(kept_key)
    response = client.delete(f"/api/v1/auth/tokens/{lost.pk}/")
    assert response.status_code == 200 and response.json()["revoked_at"] is not None
    assert with_token(lost_key).get(MINE).status_code == 401
    other = client.delete(f"/api/v1/auth/tokens/{theirs.pk}/")
    missing = client.delete("/api/v1/auth/tokens/999999/")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert with_token(theirs_key).get(MINE).status_code == 200


@pytest.mark.django_db
def test_revoking_all_signs_every_app_out(user):
    keys = [api_token_create(user=user)[1] for _ in range(3)]
    assert with_token(keys[0]).delete("/api/v1/auth/tokens/").status_code == 204
    assert [with_token(key).get(MINE).status_code for key in keys] == [401, 401, 401]


@pytest.mark.django_db
def test_staff_list_and_revoke_tokens_in_the_admin(user):
    token, key = api_token_create(user=user)
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = admin.get(reverse("admin:users_apitoken_changelist")).content.decode()
    assert token.prefix in page and user.username in page
    admin.post(
        reverse("admin:users_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert with_token(key).get(MINE).status_code == 401


@pytest.mark.django_db
def test_the_lifetime_is_the_token_ttl_setting(user, settings):
    settings.TOKEN_TTL = 3600
    token, _ = api_token_create(user=user)
    assert abs(token.expires_at - (timezone.now() + timedelta(hours=1))) < timedelta(seconds=5)
    assert ApiToken.objects.get().expires_at == token.expires_at
