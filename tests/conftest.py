"""Project-wide fixtures."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    """``TEST_DATABASE_URL=sqlite://`` runs the suite on SQLite, skipping what needs PostgreSQL.

    By default (and in CI) the database is PostgreSQL and nothing is skipped; tests marked
    ``redis`` always run against the real server and fail if it is down.
    """
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            "CI runs the whole suite on PostgreSQL: do not set TEST_DATABASE_URL=sqlite://."
        )
    skip = pytest.mark.skip(reason="needs PostgreSQL (TEST_DATABASE_URL is not a postgres:// URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_experiment_runs_yet():
    """Each test starts with no experiment in the database (saving one drops the memo), so the
    process's memo of the running experiment (``experiments.selectors``) starts there too."""
    from experiments.selectors import forget_active_experiment

    forget_active_experiment(nothing_runs=True)


@pytest.fixture(autouse=True)
def _fresh_process_memos():
    """Per-process memos (the status cache's, the admin-defined recommenders') start empty: a
    rolled-back test's rows sent no signal to drop them."""
    from recsys.serving.recommenders import forget_provided_recommenders
    from recsys.serving.status_cache import forget_local

    forget_local()
    forget_provided_recommenders()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def auth_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client
