"""A real Celery worker process builds an artefact through the real Redis broker and result
backend (prepare -> chord of encode batches -> finalize), on this test's database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from recsys import pipeline
from recsys.artefacts import final_dir, open_artefact
from recsys.engines.registry import get_engine
from recsys.models import Artefact
from tests.recsys_pipeline.conftest import THEMES, make_painting

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.postgres]  # the worker shares the database

WORKER_ENV = {"RECSYS_LDA_TOPICS": "3", "RECSYS_LDA_PASSES": "5", "RECSYS_BATCH_SIZE": "3"}


@pytest.fixture
def redis_url():
    import redis

    url = settings.TEST_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not reachable at {url}: start it (`redis-server`) or set TEST_REDIS_URL.")
    client.flushdb()
    yield url
    client.flushdb()


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(redis_url, tmp_path):
    env = {
        **os.environ,
        **WORKER_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": _database_url(),
        "TEST_CELERY_TASK_ALWAYS_EAGER": "0",
        "TEST_CELERY_BROKER_URL": redis_url,
        "TEST_CELERY_RESULT_BACKEND": redis_url,
        "TEST_RECSYS_ARTEFACT_ROOT": str(settings.RECSYS_ARTEFACT_ROOT),
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"]
        command += [
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"h3-{os.getpid()}@%h",
        ]
        proc = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Celery("pipeline-test-client", broker=redis_url, backend=redis_url), log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_and_activates_an_artefact(worker):
    client, log = worker
    paintings = [make_painting(theme, n) for theme in THEMES for n in range(2)]
    row = pipeline.create_run(engine=get_engine("lda"), celery_task_id="h3-worker-test-prepare")

    result = client.send_task("recsys.prepare_artefact", args=[row.pk], task_id=row.celery_task_id)
    assert result.get(timeout=120) == 3, log.read_text()[-3000:]  # 8 paintings in batches of 3
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        row.refresh_from_db()
        if row.status not in Artefact.OPEN_STATUSES:
            break
        time.sleep(0.5)
    assert (row.status, row.is_active, row.processed, row.total) == ("ready", True, 8, 8), (
        row.error + log.read_text()[-3000:]
    )
    artefact = open_artefact(final_dir("lda", row.version))
    assert sorted(artefact.painting_ids.tolist()) == sorted(p.pk for p in paintings)
    assert artefact.manifest["fit"]["num_topics"] == 3 and artefact.manifest["params"]["passes"] == 5
    assert log.read_text().count("recsys.encode_batch") >= 3  # the chord's batches ran in the worker
