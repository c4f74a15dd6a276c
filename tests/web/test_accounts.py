"""Sign in, sign up, and what happens to ratings made before signing in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PaintingFactory, RatingFactory, UserFactory
from users.models import User
from web.selectors import SESSION_RATINGS_KEY

pytestmark = pytest.mark.django_db


def rate_in_session(client, ratings: dict[str, int]) -> None:
    session = client.session
    session[SESSION_RATINGS_KEY] = ratings
    session.save()


def test_session_ratings_are_merged_into_the_account_on_login_and_win(client, db):
    user = UserFactory(username="ada")
    old, new, kept = PaintingFactory(), PaintingFactory(), PaintingFactory()
    RatingFactory(user=user, painting=old, value=1)
    RatingFactory(user=user, painting=kept, value=4)
    rate_in_session(client, {old.external_id: 5, new.external_id: 2, "gone-from-catalogue": 3})

    response = client.post(reverse("login"), {"username": "ada", "password": "pass-word-123"})

    assert response.status_code == 302
    assert dict(user.ratings.values_list("painting__external_id", "value")) == {
        old.external_id: 5,
        new.external_id: 2,
        kept.external_id: 4,
    }
    assert SESSION_RATINGS_KEY not in client.session


def test_signup_creates_an_account_signs_in_and_keeps_session_ratings(client, db):
    painting = PaintingFactory()
    rate_in_session(client, {painting.external_id: 5})

    response = client.post(
        reverse("signup"),
        {
            "username": "grace",
            "email": "grace@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="grace")
    assert response.wsgi_request.user == user
    assert dict(user.ratings.values_list("painting__external_id", "value")) == {painting.external_id: 5}


@pytest.mark.parametrize("next_url", ["home", "x", "//evil.example/"])
def test_signup_with_a_next_that_is_no_path_of_this_site_goes_home(client, db, next_url):
    response = client.post(
        reverse("signup"),
        {
            "username": "grace",
            "email": "grace@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
            "next": next_url,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert User.objects.filter(username="grace").exists()


def test_signup_with_mismatched_passwords_shows_the_error(client, db):
    response = client.post(
        reverse("signup"),
        {"username": "grace", "password1": "a-long-passphrase-42", "password2": "something-else-42"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["password2"]
    assert not User.objects.filter(username="grace").exists()


def test_login_page_renders_with_the_merge_note(client, db):
    html = client.get(reverse("login")).content.decode()

    assert 'name="username"' in html and 'name="csrfmiddlewaretoken"' in html
    assert "added to your account" in html


def test_my_ratings_lists_session_ratings_newest_first(client, db):
    first, second = PaintingFactory(title="First"), PaintingFactory(title="Second")
    rate_in_session(client, {first.external_id: 2, second.external_id: 5})

    response = client.get(reverse("web:my_ratings"))

    assert [(p.title, v) for p, v, _ in response.context["rows"]] == [("Second", 5), ("First", 2)]
    assert "in this browser session only" in response.content.decode()
