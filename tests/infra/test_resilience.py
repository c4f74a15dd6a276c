"""Rate limits and Redis faults against real Redis servers.

Throttle counters use the shared test Redis (``TEST_REDIS_URL``); the fault tests start a Redis of
their own on a free port and kill it or freeze it (SIGSTOP), so no other test is disturbed.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import kombu.pools
import pytest
import redis
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.signals import notify_catalogue_changed
from config import ratelimit
from config.celery import app as celery_app
from recsys.build import services
from recsys.models import RefreshRequest
from tests.factories import PaintingFactory

pytestmark = pytest.mark.redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server child process on a free port: ``stop()`` kills it, ``freeze()`` SIGSTOPs it."""

    def __init__(self, tmp_dir: str) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tmp_dir
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def freeze(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    server = OwnRedis(str(tmp_path))
    server.start()
    yield server
    server.stop()


def _redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.25},
        }
    }


@pytest.fixture(autouse=True)
def _no_backoff(settings, monkeypatch):
    """Each test starts with the cache trusted again (no back-off left by another test)."""
    monkeypatch.setattr(ratelimit, "_backoff_until", 0.0)
    settings.RATELIMIT_FAILURE_BACKOFF_S = 5.0


@pytest.fixture
def shared_redis_cache(settings):
    settings.CACHES = _redis_cache(settings.TEST_REDIS_URL)
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


def _rates(settings, **rates: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


# -- atomic counters ----------------------------------------------------------------------------
def test_twenty_threads_hitting_one_counter_never_exceed_the_limit(shared_redis_cache):
    allowed: list[bool] = []
    barrier = threading.Barrier(20)
    lock = threading.Lock()

    def client() -> None:
        barrier.wait(timeout=10)
        for _ in range(15):
            outcome = ratelimit.hit("test:atomic", limit=100, window_s=3600)
            with lock:
                allowed.append(outcome.allowed)

    threads = [threading.Thread(target=client) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(allowed) == 300
    assert sum(allowed) == 100
    assert ratelimit.peek("test:atomic", window_s=3600) == 300


@pytest.mark.django_db
def test_rotating_x_forwarded_for_does_not_bypass_the_throttle(shared_redis_cache, settings):
    _rates(settings, anon="5/min")
    client = APIClient()
    statuses = [
        client.get("/api/v1/paintings/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(8)
    ]
    assert statuses == [200] * 5 + [429] * 3


@pytest.mark.django_db
def test_behind_one_trusted_proxy_the_address_it_appended_is_the_client(shared_redis_cache, settings):
    _rates(settings, anon="2/min")
    settings.NUM_PROXIES = 1
    client = APIClient()

    def get(forwarded: str) -> int:
        return client.get("/api/v1/paintings/", HTTP_X_FORWARDED_FOR=forwarded).status_code

    # The client forges a first entry; the proxy appends the real address (the last entry).
    assert [get(f"198.51.100.{n}, 203.0.113.9") for n in range(3)] == [200, 200, 429]
    assert get("203.0.113.10") == 200  # another real client has its own counter


# -- Redis down or frozen -----------------------------------------------------------------------
@pytest.mark.django_db
def test_with_redis_down_the_api_answers_and_logs_a_warning(own_redis, settings, caplog):
    settings.CACHES = _redis_cache(own_redis.url)
    own_redis.stop()
    client = APIClient()
    with caplog.at_level(logging.WARNING, logger="config.ratelimit"):
        responses = [client.get("/api/v1/paintings/") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0]["Content-Type"] == "application/json"
    assert "rate limit cache unavailable" in caplog.text


@pytest.mark.django_db
def test_with_redis_frozen_a_request_waits_one_short_timeout_not_five_seconds(own_redis, settings):
    settings.CACHES = _redis_cache(own_redis.url)
    client = APIClient()
    assert client.get("/api/v1/paintings/").status_code == 200  # connection made while alive
    own_redis.freeze()
    started = time.monotonic()
    statuses = [client.get("/api/v1/paintings/").status_code for _ in range(5)]
    elapsed = time.monotonic() - started
    assert statuses == [200] * 5
    # One socket timeout (0.5 s), then the back-off skips the cache: far from 5 x 5 s.
    assert elapsed < 3


# -- broker down: catalogue changes are not lost ---------------------------------------------------
def _reset_connections() -> None:
    """Forget Celery's connection and producer pools so the next publish uses the new broker URL."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_on(own_redis, settings):
    """Celery publishing to ``own_redis`` (not eager), restored afterwards."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=own_redis.url, task_always_eager=False)
    _reset_connections()
    settings.RECSYS_AUTO_REFRESH = True
    settings.RECSYS_ENABLED_ENGINES = ["lda"]
    settings.RECSYS_PRECOMPUTE_DEBOUNCE_S = 0
    yield own_redis
    _reset_connections()
    celery_app.conf.update(saved)


@pytest.mark.django_db(transaction=True)
def test_a_catalogue_change_while_the_broker_is_down_is_queued_once_it_is_back(broker_on, caplog):
    painting = PaintingFactory()
    broker_on.stop()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="recsys.build.services"), transaction.atomic():
        notify_catalogue_changed([painting.pk])
    assert time.monotonic() - started < 5  # the failed publish does not hang the save
    assert "not queued; it stays requested" in caplog.text
    assert list(RefreshRequest.objects.values_list("engine", flat=True)) == ["lda"]

    assert services.refresh_requested_dispatch() == []  # too recent: its own refresh may still come
    RefreshRequest.objects.update(requested_at=timezone.now() - timedelta(minutes=5))
    broker_on.start()  # the broker is back, on the same address
    assert services.refresh_requested_dispatch() == ["lda"]
    queued = redis.Redis(port=broker_on.port).llen("celery")
    assert queued == 1  # the refresh task waits for a worker
