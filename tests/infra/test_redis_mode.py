"""With REDIS_URL set, the cache and the Celery broker are the real Redis server, and tasks run in
a separate worker process (started here exactly as `make worker` starts it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings

from tests.infra.subproc import shell_json

pytestmark = [pytest.mark.redis, pytest.mark.slow]  # Django and a worker in child processes

# What `make worker` runs, minus the cluster chatter a single throwaway worker does not need.
WORKER_COMMAND = [sys.executable, "-m", "celery", "-A", "config", "worker"]
WORKER_COMMAND += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
#: how long a worker may take to boot (import Django and the tasks) on a loaded machine
BOOT_TIMEOUT_S = 300


def test_cache_round_trips_through_redis(var_dir):
    key = f"infra-test-{uuid.uuid4().hex}"
    code = (
        "import json; from django.core.cache import cache; "
        f"cache.set({key!r}, {{'n': 3}}, 30); print(json.dumps([cache.get({key!r}), cache.delete({key!r})]))"
    )
    assert shell_json(code, env={"VAR_DIR": str(var_dir), "REDIS_URL": settings.TEST_REDIS_URL}) == [
        {"n": 3},
        True,
    ]


@pytest.mark.slow
def test_task_sent_to_the_broker_runs_in_a_separate_worker_process(var_dir, tmp_path):
    queue = f"infra-test-{uuid.uuid4().hex}"  # private queue: no other worker can take the task
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "VAR_DIR": str(var_dir),
        "REDIS_URL": settings.TEST_REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",  # as `make worker` sets (config.celery: prod)
        # no reaper thread: this worker's database (VAR_DIR) has no tables, and the test is about
        # the broker round trip (the reaper has its own tests, tests/recsys_pipeline/test_worker.py)
        "RECSYS_REAP_EVERY_S": "0",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [*WORKER_COMMAND, "--pool", "solo", "--queues", queue, "--loglevel", "INFO"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    client = Celery(broker=settings.TEST_REDIS_URL, backend=settings.TEST_REDIS_URL, set_as_current=False)
    try:
        # Booting (Django, the tasks' modules) takes seconds idle but minutes on the 2-core CI box
        # while the smoke test's `make run` encodes the sample: wait for "ready" apart, so that
        # the round trip's own deadline measures the broker, not the machine's load.
        _wait_for_ready(worker, log_path, timeout=BOOT_TIMEOUT_S)
        result = client.send_task("celery.accumulate", args=[7, 8], queue=queue)
        deadline = time.monotonic() + 60
        while not result.ready():
            assert worker.poll() is None, f"the worker exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"no worker ran the task:\n{log_path.read_text()}"
            time.sleep(0.2)
        assert (result.get(timeout=5), result.state) == ([7, 8], "SUCCESS")
        result.forget()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        client.close()
        _forget_queue(queue)
    assert "Traceback" not in log_path.read_text()


def _wait_for_ready(worker: subprocess.Popen, log_path: Path, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while " ready." not in log_path.read_text():
        assert worker.poll() is None, f"the worker exited:\n{log_path.read_text()}"
        assert time.monotonic() < deadline, (
            f"the worker was not ready in {timeout:.0f} s:\n{log_path.read_text()}"
        )
        time.sleep(0.2)


def _forget_queue(queue: str) -> None:
    """Remove the private queue's list and bindings that kombu leaves in the test database."""
    server = redis.Redis.from_url(settings.TEST_REDIS_URL)
    for key in server.scan_iter(f"*{queue}*"):
        server.delete(key)
    server.close()
