"""The recommenders' statuses and the active artefacts from the cache: no query while cached, a
new state at once after an activation (version key), and served from the database when the cache
is down."""

from __future__ import annotations

import logging
import socket

import pytest
from django.core.cache import caches

from recsys.build.services import precompute_engine
from recsys.serving import status_cache
from recsys.serving.selectors import active_artefact, engine_statuses
from tests.recsys_pipeline.conftest import THEMES, make_painting

pytestmark = pytest.mark.django_db


@pytest.fixture
def status_cache_on(settings, monkeypatch):
    settings.RECSYS_STATUS_CACHE_S = 60
    monkeypatch.setattr(status_cache, "_backoff_until", 0.0)
    caches["default"].clear()
    yield
    caches["default"].clear()


def test_statuses_and_the_active_artefact_are_served_without_a_query_while_cached(
    status_cache_on, django_assert_num_queries, django_capture_on_commit_callbacks
):
    for theme in THEMES:
        make_painting(theme, 0)
    with django_capture_on_commit_callbacks(execute=True):
        row = precompute_engine(engine="fake")
    first = engine_statuses(["fake"])
    assert active_artefact(engine="fake").version == row.version
    with django_assert_num_queries(0):
        assert engine_statuses(["fake"]) == first
        assert active_artefact(engine="fake").version == row.version


def test_an_activation_replaces_the_cached_state_at_once(status_cache_on, django_capture_on_commit_callbacks):
    for theme in THEMES:
        make_painting(theme, 0)
    assert engine_statuses(["fake"])[0].status == "unavailable"  # cached for 60 s ...
    with django_capture_on_commit_callbacks(execute=True):
        first = precompute_engine(engine="fake")
    (state,) = engine_statuses(["fake"])  # ... but the activation wrote a new version
    assert (state.status, state.version) == ("ready", first.version)
    assert active_artefact(engine="fake").version == first.version
    make_painting("sea", 1)
    with django_capture_on_commit_callbacks(execute=True):
        second = precompute_engine(engine="fake", full=True)
    assert engine_statuses(["fake"])[0].version == second.version
    assert active_artefact(engine="fake").version == second.version


def test_with_the_cache_down_statuses_come_from_the_database(settings, monkeypatch, caplog):
    settings.RECSYS_STATUS_CACHE_S = 60
    monkeypatch.setattr(status_cache, "_backoff_until", 0.0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        }
    }
    make_painting("sea", 0)
    with caplog.at_level(logging.WARNING, logger="recsys.serving.status_cache"):
        (state,) = engine_statuses(["fake"])
        status_cache.invalidate()
    assert state.status == "unavailable"
    assert "status cache unavailable" in caplog.text and "not invalidated" in caplog.text
