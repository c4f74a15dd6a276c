"""The embedded default's background worker: kombu's filesystem transport and file results (no
Redis), a real worker process started here, and admin actions that return at once while the
worker builds the artefact (prepare -> chord of encode batches -> finalize)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import kombu.pools
import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from config.celery import app as celery_app
from recsys.models import Artefact
from tests.factories import UserFactory
from tests.recsys_pipeline.conftest import THEMES, make_painting

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _reset_connections() -> None:
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def embedded_broker(tmp_path, settings):
    """This process publishes to a filesystem broker under ``tmp_path`` (as the embedded default
    does under var/celery/); a worker process with the same folders consumes it."""
    folder = tmp_path / "celery"
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
    }
    for name in ("queue", "control", "results"):
        (folder / name).mkdir(parents=True)
    saved = {k: celery_app.conf[k] for k in ("broker_url", "broker_transport_options", "task_always_eager")}
    celery_app.conf.update(
        broker_url="filesystem://", broker_transport_options=options, task_always_eager=False
    )
    _reset_connections()
    settings.RECSYS_ENABLED_ENGINES = ["lda"]
    settings.RECSYS_AUTO_REFRESH = True
    settings.RECSYS_PRECOMPUTE_DEBOUNCE_S = 0
    yield folder
    _reset_connections()
    celery_app.conf.update(saved)


@pytest.fixture
def worker(embedded_broker, tmp_path):
    """``celery worker`` as `make run` starts it (prefork, 2 processes), on the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": _database_url(),
        "TEST_CELERY_TASK_ALWAYS_EAGER": "0",
        "TEST_CELERY_BROKER_URL": "filesystem://",
        "TEST_CELERY_RESULT_BACKEND": f"file://{embedded_broker / 'results'}",
        "CELERY_DIR": str(embedded_broker),
        "TEST_RECSYS_ARTEFACT_ROOT": str(settings.RECSYS_ARTEFACT_ROOT),
        "RECSYS_LDA_TOPICS": "3",
        "RECSYS_LDA_PASSES": "5",
        "RECSYS_BATCH_SIZE": "3",
    }
    log = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"e{time.time_ns()}@%h"]
    with log.open("w") as out:
        proc = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    yield log
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait_ready(log: Path, timeout: float = 180) -> Artefact:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = Artefact.objects.filter(engine="lda").first()
        if row is not None and row.status in (Artefact.Status.READY, Artefact.Status.FAILED):
            return row
        time.sleep(0.3)
    raise AssertionError(f"no artefact built in {timeout} s: {log.read_text()[-3000:]}")


def test_the_admin_compute_button_returns_at_once_and_the_worker_builds(worker, client):
    paintings = [make_painting(theme, n) for theme in THEMES for n in range(2)]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(reverse("admin:recsys_artefact_precompute"), {"engine": "lda", "full": "1"})
    assert response.status_code == 302
    queued = Artefact.objects.get(engine="lda")
    assert queued.status == Artefact.Status.PENDING  # the request only queued it
    row = _wait_ready(worker)
    assert (row.pk, row.status, row.is_active, row.n_items) == (queued.pk, "ready", True, len(paintings)), (
        row.error + worker.read_text()[-3000:]
    )
    log = worker.read_text()
    # LDA (RECSYS_ONE_TASK_ENGINES) is built start to finish in its prepare task: nothing of it
    # waits in the queue behind other engines' encode batches. ("[": a task received, not the
    # worker's list of tasks; not "succeeded": the row is ready before the task logs that.)
    assert "recsys.prepare_artefact[" in log
    assert "recsys.encode_batch[" not in log and "recsys.finalize_artefact[" not in log


def test_saving_a_painting_in_the_admin_queues_the_refresh_for_the_worker(worker, client):
    for theme in THEMES:
        make_painting(theme, 0)
    painting = make_painting("sea", 1)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:catalog_painting_change", args=[painting.pk])
    form = {
        "external_id": painting.external_id,
        "title": "Stormy sea, retitled",
        "description": painting.description,
        "artist": painting.artist_id,
        "story_group": painting.story_group_id,
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Artefact.objects.filter(status=Artefact.Status.READY).exists()  # nothing built in the request
    row = _wait_ready(worker)
    assert (row.status, row.is_active, row.n_items + row.n_skipped) == ("ready", True, 5), (
        row.error + worker.read_text()[-3000:]
    )


@pytest.mark.django_db
def test_the_artefacts_page_refreshes_itself_while_a_build_is_open(client, embedded_broker):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = reverse("admin:recsys_artefact_changelist")
    assert 'http-equiv="refresh"' not in client.get(changelist).content.decode()
    make_painting("sea", 0)
    client.post(reverse("admin:recsys_artefact_precompute"), {"engine": "lda"})  # queued, no worker
    page = client.get(changelist).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in page and "pending" in page
