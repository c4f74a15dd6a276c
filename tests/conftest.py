"""Project-wide fixtures, and the rules that sort the suite into layers and database passes.

Layers (markers, pyproject.toml):

* ``unit``: pure code (maths, parsing, validation). Given here to every test that reaches no
  database (no ``django_db`` mark, no fixture built on ``db``), no shared
  Redis and no child process; ``make test-fast`` runs this layer alone (``-m unit``). A module
  may also say ``pytest.mark.unit`` itself; such a test that asks for the database is refused.
* ``slow``: tests that start a worker, a browser, another process, or fuzz the API schema;
  set by their modules.
* ``redis``: uses the shared ``TEST_REDIS_URL`` database (some clear it). Under pytest-xdist they
  all run in one worker (``xdist_group``, ``--dist loadgroup``), so they never clear each other's
  keys; each xdist worker has its own test database (pytest-django) and temporary folders
  (config/settings/test.py), and servers take free ports.
* ``postgres``: needs the real PostgreSQL server.

Databases: PostgreSQL by default; ``make test`` then runs the database layers a second time on
SQLite (the embedded default's database), with ``TEST_DATABASE_URL=sqlite:// --db-vendor=sqlite``.
Tests marked ``postgres`` are skipped in that pass only, each reported with its reason; in CI a
run on SQLite without ``--db-vendor=sqlite`` is refused, so nothing falls back to SQLite silently.
"""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

#: Fixtures that give a test the database (directly or through a fixture built on them).
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}
)
#: Markers of tests that are never ``unit``.
NOT_UNIT = ("slow", "redis", "postgres")
VENDORS = {"django.db.backends.postgresql": "postgresql", "django.db.backends.sqlite3": "sqlite"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db-vendor",
        choices=sorted(set(VENDORS.values())),
        default=None,
        help="the database this run must be on (make test passes it to each pass); a mismatch with "
        "TEST_DATABASE_URL is an error",
    )


def database_vendor() -> str:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    return VENDORS.get(engine, engine)


def pytest_report_header(config: pytest.Config) -> str:
    vendor = database_vendor()
    if vendor == "postgresql":
        return "database: PostgreSQL (tests marked postgres run)"
    return f"database: {vendor} (a second pass: tests marked postgres are skipped, each listed below)"


def uses_database(item: pytest.Item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects: it sees the markers given here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    vendor = database_vendor()
    wanted = config.getoption("--db-vendor")
    if wanted and wanted != vendor:
        raise pytest.UsageError(f"--db-vendor={wanted}, but TEST_DATABASE_URL gives a {vendor} database.")
    if vendor != "postgresql" and os.environ.get("CI") and wanted != vendor:
        raise pytest.UsageError(
            f"CI runs on PostgreSQL; a {vendor} pass must say so (--db-vendor={vendor}, as make test does)."
        )
    skip_postgres = pytest.mark.skip(
        reason=f"PostgreSQL only (runs in the PostgreSQL pass, not the {vendor} one)"
    )
    shared_redis = pytest.mark.xdist_group(name="shared-redis")
    for item in items:
        if item.get_closest_marker("unit") is not None and (
            uses_database(item) or any(item.get_closest_marker(name) for name in NOT_UNIT)
        ):
            raise pytest.UsageError(f"{item.nodeid} is marked unit but uses the database or a service.")
        if not uses_database(item) and not any(item.get_closest_marker(name) for name in NOT_UNIT):
            item.add_marker(pytest.mark.unit)
        if "redis" in item.keywords:
            item.add_marker(shared_redis)
        if vendor != "postgresql" and "postgres" in item.keywords:
            item.add_marker(skip_postgres)


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
