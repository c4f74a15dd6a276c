"""`manage.py ensure_demo_admin`: idempotent, prints the credentials, refused where not allowed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from users.models import User

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("ensure_demo_admin", *args, stdout=out)
    return out.getvalue()


def test_creates_the_demo_superuser_and_prints_its_credentials(settings):
    settings.DEMO_ADMIN_USERNAME, settings.DEMO_ADMIN_PASSWORD = "demo", "demo-pass-1"
    output = _run("--url", "http://127.0.0.1:8001/admin/")
    user = User.objects.get(username="demo")
    assert user.is_superuser and user.check_password("demo-pass-1")
    assert "created" in output
    assert "http://127.0.0.1:8001/admin/" in output
    assert "username: demo" in output
    assert "password: demo-pass-1" in output


def test_running_again_resets_the_same_account(settings):
    settings.DEMO_ADMIN_USERNAME, settings.DEMO_ADMIN_PASSWORD = "demo", "first-pass"
    _run()
    settings.DEMO_ADMIN_PASSWORD = "second-pass"
    output = _run()
    assert "reset" in output
    assert list(User.objects.values_list("username", flat=True)) == ["demo"]
    assert User.objects.get().check_password("second-pass")


def test_refuses_where_demo_admin_is_not_allowed(settings):
    settings.DEMO_ADMIN_ALLOWED = False
    with pytest.raises(CommandError, match="Refusing"):
        _run()
    assert not User.objects.exists()


@pytest.mark.parametrize("url", ["http://0.0.0.0:8000/admin/", "http://192.168.1.5:8000/admin/"])
def test_a_non_loopback_host_gets_no_demo_admin(settings, url):
    output = _run("--url", url)
    assert "Not creating the demo admin" in output
    assert "DEMO_ADMIN_ON_PUBLIC_HOST=1" in output
    assert not User.objects.exists()


def test_a_non_loopback_host_deactivates_a_demo_admin_left_with_the_demo_password(settings):
    settings.DEMO_ADMIN_USERNAME, settings.DEMO_ADMIN_PASSWORD = "demo", "demo-pass-1"
    _run()  # an earlier local run
    output = _run("--url", "http://0.0.0.0:8000/admin/")
    assert "Deactivated the demo admin" in output
    assert User.objects.get(username="demo").is_active is False


def test_the_explicit_flag_allows_the_demo_admin_on_a_public_host(settings):
    settings.DEMO_ADMIN_ON_PUBLIC_HOST = True
    settings.DEMO_ADMIN_USERNAME = "demo"
    output = _run("--url", "http://0.0.0.0:8000/admin/")
    assert "created" in output
    assert User.objects.get(username="demo").is_superuser


@pytest.mark.parametrize("url", ["http://localhost:8000/admin/", "http://[::1]:8000/admin/"])
def test_loopback_names_and_addresses_count_as_local(settings, url):
    settings.DEMO_ADMIN_USERNAME = "demo"
    assert "created" in _run("--url", url)
