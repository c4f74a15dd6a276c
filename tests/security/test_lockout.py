"""The login lockout cannot be aimed: wrong passwords from many addresses never lock an account's
owner out of the clients they use, and failures behind one address (a museum app's server) never
lock out everyone behind it; guessing itself stays throttled."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import UserFactory

TOKEN = "/api/v1/auth/token/"
PASSWORD = "pass-word-123"


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT_CLIENT = 5
    settings.LOGIN_FAILURES_PER_ACCOUNT = 10
    settings.LOGIN_FAILURES_PER_CLIENT = 30
    settings.LOGIN_FAILURES_PER_SUCCESS = 3


def token(user, password: str, address: str) -> int:
    body = {"username": user.username, "password": password}
    return APIClient().post(TOKEN, body, format="json", REMOTE_ADDR=address).status_code


def web_login(user, password: str, address: str, url: str = "login") -> bool:
    client = Client(REMOTE_ADDR=address)
    client.post(reverse(url), {"username": user.username, "password": password})
    return "_auth_user_id" in client.session


def attack_from_many_addresses(user, count: int = 40) -> None:
    for n in range(count):
        token(user, "wrong", f"203.0.113.{n}")


@pytest.mark.django_db
def test_an_attack_from_many_addresses_does_not_lock_the_owner_out_of_their_usual_clients(limits):
    owner = UserFactory(is_staff=True, is_superuser=True)
    assert web_login(owner, PASSWORD, "192.0.2.10")  # the owner's usual place
    attack_from_many_addresses(owner)
    assert token(owner, PASSWORD, "192.0.2.10") == 201
    assert web_login(owner, PASSWORD, "192.0.2.10")
    assert web_login(owner, PASSWORD, "192.0.2.10", url="admin:login")


@pytest.mark.django_db
def test_during_such_an_attack_new_addresses_are_refused_before_the_password_is_checked(limits):
    owner = UserFactory()
    attack_from_many_addresses(owner)
    assert token(owner, PASSWORD, "198.51.100.1") == 429  # guessing stays throttled


@pytest.mark.django_db
def test_one_address_guessing_one_account_locks_only_that_pair(limits):
    owner, other = UserFactory(), UserFactory()
    for _ in range(5):
        token(owner, "wrong", "203.0.113.5")
    assert token(owner, PASSWORD, "203.0.113.5") == 429
    assert token(owner, PASSWORD, "192.0.2.10") == 201  # elsewhere the owner signs in
    assert token(other, PASSWORD, "203.0.113.5") == 201  # and that address reaches other accounts


@pytest.mark.django_db
def test_a_museum_servers_many_failed_visitors_do_not_lock_out_the_others(limits):
    server = "192.0.2.80"
    visitors = UserFactory.create_batch(12)
    regular = visitors[0]
    assert token(regular, PASSWORD, server) == 201
    for visitor in visitors[1:]:  # 11 visitors sign in; a few mistype on the way
        for _ in range(3):
            assert token(visitor, "typo", server) == 400
        assert token(visitor, PASSWORD, server) == 201
    # 33 failures behind the address, more than LOGIN_FAILURES_PER_CLIENT: nobody is locked out
    assert token(regular, PASSWORD, server) == 201
    assert token(UserFactory(), PASSWORD, server) == 201  # a new visitor too


@pytest.mark.django_db
def test_an_address_spraying_passwords_over_accounts_is_stopped(limits):
    sprayer = "203.0.113.66"
    for victim in UserFactory.create_batch(30):
        assert token(victim, "Summer2026!", sprayer) == 400
    assert token(UserFactory(), PASSWORD, sprayer) == 429
