"""Celery tasks (eager here; test_worker.py runs a real worker) and the services that queue them."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from celery.exceptions import Retry

from catalog.signals import catalogue_changed
from recsys import tasks
from recsys.artefacts.files import staging_dir
from recsys.build import pipeline, runs, services
from recsys.engines.registry import get_engine
from recsys.models import Artefact
from tests.recsys_pipeline.conftest import loaded, make_painting
from tests.recsys_pipeline.fakes import FakeEngine

pytestmark = pytest.mark.django_db


def test_precompute_start_builds_through_the_chord(catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = services.precompute_start(engine="fake")
    row.refresh_from_db()
    assert (row.status, row.is_active, row.processed, row.total) == ("ready", True, 12, 12)
    assert len(FakeEngine.calls) == 4  # one encode task per batch of 3
    assert loaded(row).size == 12


def test_a_one_task_engine_is_encoded_and_finalized_in_its_prepare_task(
    catalogue, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.RECSYS_ONE_TASK_ENGINES = ["fake"]
    chords: list[object] = []
    monkeypatch.setattr(tasks, "chord", lambda *args, **kwargs: chords.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        row = services.precompute_start(engine="fake")
    row.refresh_from_db()
    assert (row.status, row.is_active, row.processed, row.total) == ("ready", True, 12, 12)
    assert len(FakeEngine.calls) == 4 and chords == []  # 4 batches of 3, no task queued for them
    assert loaded(row).size == 12


def test_a_run_is_never_queued_twice(catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = services.precompute_start(engine="fake")
        second = services.precompute_start(engine="fake")
    assert second.pk == first.pk and len(callbacks) == 1
    assert Artefact.objects.count() == 1


def test_duplicate_batch_delivery_is_skipped(catalogue):
    row = runs.create_run(engine=get_engine("fake"))
    assert pipeline.prepare(row.pk) == 4
    assert tasks.encode_batch.apply(args=(row.pk, 1)).get() == 3
    assert tasks.encode_batch.apply(args=(row.pk, 1)).get() == 0
    row.refresh_from_db()
    assert len(FakeEngine.calls) == 1 and row.processed == 3


def test_tasks_for_a_deleted_row_return_quietly(catalogue):
    row = runs.create_run(engine=get_engine("fake"))
    pipeline.prepare(row.pk)
    Artefact.objects.filter(pk=row.pk).delete()
    assert tasks.encode_batch.apply(args=(row.pk, 0)).get() is None
    assert tasks.finalize_artefact.apply(args=(row.pk,)).get() is None
    assert tasks.prepare_artefact.apply(args=(row.pk,)).get() is None
    assert FakeEngine.calls == []


def test_a_failing_batch_task_fails_the_run_and_keeps_the_previous_artefact(
    catalogue, django_capture_on_commit_callbacks
):
    previous = services.precompute_engine(engine="fake")
    make_painting("sea", 30, description="BOOM")
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        services.precompute_start(engine="fake", full=True)
    failed = Artefact.objects.exclude(pk=previous.pk).get()
    previous.refresh_from_db()
    assert failed.status == "failed" and "fake engine exploded" in failed.error
    assert "recsys.encode_batch" in failed.log
    assert previous.is_active and previous.status == "ready"
    assert not staging_dir("fake", failed.version).exists()


def test_a_worker_retries_transient_errors_with_backoff(catalogue, monkeypatch):
    make_painting("sea", 31, description="FLAKY")
    row = runs.create_run(engine=get_engine("fake"))
    batches = pipeline.prepare(row.pk)
    countdowns = []

    def retry(*, exc, countdown):
        countdowns.append(countdown)
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(tasks.encode_batch, "retry", retry)
    with pytest.raises(Retry):
        tasks.encode_batch(row.pk, batches - 1)  # called as a worker calls it (not eager)
    row.refresh_from_db()
    assert row.status == "running" and len(countdowns) == 1 and 0 <= countdowns[0] <= 5
    assert tasks.encode_batch(row.pk, batches - 1) == 1  # the retry succeeds


def test_without_a_broker_a_transient_error_fails_the_run_at_once(
    catalogue, django_capture_on_commit_callbacks
):
    make_painting("sea", 31, description="FLAKY")
    with pytest.raises(OSError), django_capture_on_commit_callbacks(execute=True):
        services.precompute_start(engine="fake")
    assert Artefact.objects.get().status == "failed"


def test_a_cancelled_run_stops_and_never_activates(catalogue):
    row = runs.create_run(engine=get_engine("fake"))
    pipeline.prepare(row.pk)
    assert services.precompute_cancel(artefact=row)
    assert pipeline.encode_batch(row.pk, 0) is None
    assert pipeline.finalize(row.pk) is None
    row.refresh_from_db()
    assert row.status == "failed" and row.error == "cancelled by an administrator"


def test_catalogue_changes_trigger_one_debounced_refresh(
    catalogue, settings, django_capture_on_commit_callbacks
):
    settings.RECSYS_AUTO_REFRESH = True
    settings.RECSYS_ENABLED_ENGINES = ["fake", "missing"]
    settings.RECSYS_PRECOMPUTE_DEBOUNCE_S = 60
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        catalogue_changed.send(sender=None, painting_ids=[catalogue[0].pk])
        catalogue_changed.send(sender=None, painting_ids=[catalogue[1].pk])
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()  # eager: the countdown is ignored and the refresh runs now
    rows = list(Artefact.objects.all())
    assert [(r.engine, r.status) for r in rows] == [("fake", "ready")]  # "missing" has no model: skipped


def test_refresh_is_off_unless_enabled(catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        catalogue_changed.send(sender=None, painting_ids=[catalogue[0].pk])
    assert callbacks == [] and not Artefact.objects.exists()


def test_refresh_embeds_new_paintings_incrementally(catalogue, settings, django_capture_on_commit_callbacks):
    services.precompute_engine(engine="fake")
    settings.RECSYS_AUTO_REFRESH = True
    settings.RECSYS_ENABLED_ENGINES = ["fake"]
    new = make_painting("winter", 40)
    FakeEngine.calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        catalogue_changed.send(sender=None, painting_ids=[new.pk])
    active = Artefact.objects.get(engine="fake", is_active=True)
    assert FakeEngine.calls == [[new.pk]] and new.pk in loaded(active).row_of


def test_refresh_postpones_engines_that_are_mid_build(catalogue):
    row = runs.create_run(engine=get_engine("fake"))
    Artefact.objects.filter(pk=row.pk).update(status="running")
    assert services.refresh_engines(engines=["fake"]) == ["fake"]
    assert Artefact.objects.count() == 1


def test_a_refresh_after_every_painting_was_deleted_starts_no_build_and_logs_no_error(db, caplog):
    caplog.set_level(logging.INFO, logger="recsys.build.services")

    assert services.refresh_engines(engines=["fake"]) == []

    assert not Artefact.objects.exists()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "refresh of fake skipped: the catalogue is empty")
    ]


def test_progress_is_published_in_the_task_state(catalogue, monkeypatch):
    states = []
    monkeypatch.setattr(tasks.encode_batch, "update_state", lambda **kw: states.append(kw))
    row = runs.create_run(engine=get_engine("fake"))
    pipeline.prepare(row.pk)
    tasks.encode_batch.apply(args=(row.pk, 0))
    assert states == [
        {
            "state": "PROGRESS",
            "meta": {"artefact": row.pk, "engine": "fake", "stage": "batch 0", "processed": 3, "total": 12},
        }
    ]


def test_lda_vectors_survive_the_task_path_unchanged(catalogue, django_capture_on_commit_callbacks):
    sync = loaded(services.precompute_engine(engine="lda"))
    with django_capture_on_commit_callbacks(execute=True):
        row = services.precompute_start(engine="lda", full=True)
    row.refresh_from_db()
    via_tasks = loaded(row)
    np.testing.assert_allclose(via_tasks.embeddings, sync.embeddings, atol=1e-6)
