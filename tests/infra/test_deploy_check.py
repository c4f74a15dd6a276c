"""`manage.py check --deploy` with the production settings reports only what README.md explains."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from tests.infra.subproc import manage

pytestmark = pytest.mark.slow  # manage.py in child processes

CHECK_ID = re.compile(r"\b([a-z_]+\.[WE]\d{3})\b")


def _readme_deploy_section() -> str:
    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## `check --deploy`\n(.*?)(?=^## )", readme, flags=re.M | re.S)
    assert match, "README.md has no '## `check --deploy`' section"
    return match.group(1)


@pytest.mark.parametrize(
    ("extra_env", "expected"),
    [
        ({}, ["security.W021"]),
        # docker-compose.yml serves plain HTTP on localhost, without the redirect.
        ({"DJANGO_SECURE_SSL_REDIRECT": "0"}, ["security.W008", "security.W021"]),
    ],
)
def test_check_deploy_reports_only_the_warnings_the_readme_explains(var_dir, extra_env, expected):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "ERROR",
        env={
            "VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-0123456789",
            "DJANGO_ALLOWED_HOSTS": "paintings.example.org",
            **extra_env,
        },
    )
    reported = sorted(set(CHECK_ID.findall(result.stdout + result.stderr)))
    assert reported == expected
    explained = set(CHECK_ID.findall(_readme_deploy_section()))
    assert set(reported) <= explained
