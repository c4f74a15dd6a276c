"""Real Celery worker processes on a Redis of this test's own (a private port, so parallel test
runs never share a broker), on this test's PostgreSQL database: a build through the real broker
(prepare -> chord of encode batches -> finalize), a worker killed with ``kill -9`` mid-build and
the build resumed by the next worker's reaper, a queued build left alone while it waits, and
``precompute --async`` with the broker down."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from recsys.artefacts.files import final_dir
from recsys.artefacts.reader import open_artefact
from recsys.build import runs
from recsys.build.queue_probe import queued_artefact_ids
from recsys.engines.registry import get_engine
from recsys.models import Artefact
from tests.recsys_pipeline.conftest import THEMES, make_painting

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

#: LDA through the chord of encode tasks (by default it is built in its prepare task)
WORKER_ENV = {
    "RECSYS_LDA_TOPICS": "3",
    "RECSYS_LDA_PASSES": "5",
    "RECSYS_BATCH_SIZE": "3",
    "RECSYS_ONE_TASK_ENGINES": "",
}
#: the kill -9 scenario: 2 paintings a batch, 2 s a batch, beats every 0.5 s, stale after 3 s,
#: each worker's reaper every second
SLOW_ENV = {
    "DJANGO_SETTINGS_MODULE": "tests.recsys_pipeline.worker_settings",
    "SLOW_ENGINE_SLEEP_S": "2",
    "RECSYS_BATCH_SIZE": "2",
    "RECSYS_HEARTBEAT_S": "0.5",
    "RECSYS_STALE_RUN_S": "3",
    "RECSYS_REAP_EVERY_S": "1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A redis-server of this test alone, on a free port."""
    server = shutil.which("redis-server")
    assert server, "redis-server is needed for the worker tests (apt-get install redis-server)"
    port = _free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _env(broker: str, extra: dict[str, str]) -> dict[str, str]:
    assert connection.vendor == "postgresql", "the worker process shares the test's server database"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": _database_url(),
        "TEST_CELERY_TASK_ALWAYS_EAGER": "0",
        "TEST_CELERY_BROKER_URL": broker,
        "TEST_CELERY_RESULT_BACKEND": broker,
        "TEST_RECSYS_ARTEFACT_ROOT": str(settings.RECSYS_ARTEFACT_ROOT),
        **extra,
    }


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"w{time.time_ns()}@%h"]
    with log.open("a") as out:  # its own session: kill -9 reaches the worker and all its children
        return subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _precompute(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "precompute", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _wait(row: Artefact, done, timeout: float = 60) -> Artefact:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row.refresh_from_db()
        if done(row):
            return row
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting on {row} ({row.processed}/{row.total}): {row.log}")


def test_a_real_worker_builds_and_activates_an_artefact(redis_url, tmp_path):
    log = tmp_path / "worker.log"
    worker = _start_worker(_env(redis_url, WORKER_ENV), log)
    try:
        # no result backend: the row is the outcome (a pending AsyncResult would try to
        # unsubscribe from this test's redis-server after it is gone, at interpreter exit)
        client = Celery("pipeline-test-client", broker=redis_url, set_as_current=False)
        paintings = [make_painting(theme, n) for theme in THEMES for n in range(2)]
        row = runs.create_run(engine=get_engine("lda"), celery_task_id="h3-worker-test-prepare")
        client.send_task("recsys.prepare_artefact", args=[row.pk], task_id=row.celery_task_id)
        row = _wait(row, lambda r: r.status not in Artefact.OPEN_STATUSES, timeout=120)
        client.close()
    finally:
        _stop(worker)
    assert (row.status, row.is_active, row.processed, row.total) == ("ready", True, 8, 8), (
        row.error + log.read_text()[-3000:]
    )
    artefact = open_artefact(final_dir("lda", row.version))
    assert sorted(artefact.painting_ids.tolist()) == sorted(p.pk for p in paintings)
    assert artefact.manifest["fit"]["num_topics"] == 3 and artefact.manifest["params"]["passes"] == 5
    batches = [
        line
        for line in log.read_text().splitlines()
        if "recsys.encode_batch[" in line and "succeeded" in line
    ]
    assert len(batches) == 3  # 8 paintings in batches of 3: the chord's tasks ran in the worker


def _queued(app: Celery, *, unknown: set[int]) -> set[int]:
    """Artefact ids with a task waiting in ``app``'s broker queue (``unknown`` if unreadable)."""
    found = queued_artefact_ids(app)
    return unknown if found is None else found


def test_a_build_whose_worker_is_killed_is_resumed_and_reuses_its_finished_batches(redis_url, tmp_path):
    for theme in THEMES:
        make_painting(theme, 0)  # 4 paintings: 2 batches of 2, 2 s each
    env = _env(redis_url, SLOW_ENV)
    log = tmp_path / "worker.log"
    first_worker = _start_worker(env, log)
    try:
        started = _precompute(env, "--engine", "slow", "--async", "--full", "--start-timeout", "60")
        assert started.returncode == 0 and "started by a worker" in started.stdout, started.stderr
        # batch 1 done and batch 2 taken by the worker (acks late, prefetch 1: it leaves the queue
        # only after batch 1 is acknowledged, so "processed" alone can come while it still waits)
        probe = Celery("queue-probe", broker=redis_url, set_as_current=False)
        killed = _wait(
            Artefact.objects.get(),
            lambda r: r.processed >= 2 and r.pk not in _queued(probe, unknown={r.pk}),
        )
        os.killpg(first_worker.pid, signal.SIGKILL)  # the worker and its children, mid-batch
        first_worker.wait(timeout=10)
    finally:
        _stop(first_worker)
    killed.refresh_from_db()
    assert killed.status == "running"  # nothing inside the dead worker could say otherwise

    time.sleep(1.0)  # silent for more than 3 heartbeats
    # its reaper told to wait longer: the report of the dead build itself, before any resume
    dead = _precompute(
        {**env, "RECSYS_STALE_RUN_S": "600"}, "--engine", "slow", "--async", "--start-timeout", "1"
    )
    assert dead.returncode == 1 and "shows no sign of life" in dead.stderr, dead.stdout + dead.stderr
    assert "has no task queued (2/4 paintings): its worker probably died" in dead.stderr

    second_worker = _start_worker(env, log)  # its reaper resumes the build once it is stale
    try:
        resumed = _wait(killed, lambda r: r.status not in Artefact.OPEN_STATUSES, timeout=90)
    finally:
        _stop(second_worker)
    assert (resumed.status, resumed.is_active, resumed.n_items) == ("ready", True, 4), resumed.log
    assert (
        "resumed by the reaper (1/3)" in resumed.log
        and "2/4 paintings already encoded are kept" in resumed.log
    )
    assert resumed.log.count(" encoded, ") == 2  # each batch encoded once: the finished one was reused
    assert Artefact.objects.count() == 1  # the same build finished; no new one was needed


def test_a_queued_build_is_not_reaped_while_it_waits_and_says_so(redis_url, tmp_path):
    make_painting("sea", 0)
    env = _env(redis_url, SLOW_ENV)
    waiting = _precompute(env, "--engine", "slow", "--async", "--start-timeout", "1")
    assert waiting.returncode == 1 and "is waiting in the queue: no worker took it" in waiting.stderr
    time.sleep(3.5)  # longer than RECSYS_STALE_RUN_S, the prepare task still in the queue
    again = _precompute(env, "--engine", "slow", "--async", "--start-timeout", "1")
    assert "closed abandoned build" not in again.stderr
    assert "is waiting in the queue" in again.stderr
    row = Artefact.objects.get()
    assert row.status == "pending"
    worker = _start_worker(env, tmp_path / "worker.log")
    try:
        row = _wait(row, lambda r: r.status not in Artefact.OPEN_STATUSES, timeout=60)
    finally:
        _stop(worker)
    assert (row.status, row.is_active) == ("ready", True)


def test_precompute_async_with_the_broker_down_fails_and_leaves_nothing_pending(db):
    make_painting("sea", 0)
    broker = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there
    result = _precompute(_env(broker, SLOW_ENV), "--engine", "slow", "--async")
    assert result.returncode == 1 and "queued" not in result.stdout
    assert "slow: not queued, the broker is unreachable" in result.stderr
    row = Artefact.objects.get()
    assert row.status == "failed" and row.error.startswith("not queued, the broker is unreachable")


def test_precompute_async_without_a_worker_says_so_and_exits_non_zero(redis_url):
    make_painting("sea", 0)
    result = _precompute(_env(redis_url, SLOW_ENV), "--engine", "slow", "--async", "--start-timeout", "1")
    assert result.returncode == 1 and "is waiting in the queue: no worker took it within 1 s" in result.stderr
    assert Artefact.objects.get().status == "pending"
