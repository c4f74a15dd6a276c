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
