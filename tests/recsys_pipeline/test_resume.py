"""Builds survive a dead worker: the reaper re-queues a silent build (its finished batches are
kept and not encoded again), leaves a build whose task waits in the queue alone, gives up after
RECSYS_RESUME_MAX resumes; a full disk fails a build at once instead of being retried."""

from __future__ import annotations

import errno
from datetime import timedelta

import pytest
from django.utils import timezone

from recsys import tasks
from recsys.artefacts import store as artefact_store
from recsys.build import pipeline, queue_probe, runs, services
from recsys.engines.registry import get_engine
from recsys.models import Artefact
from tests.recsys_pipeline.fakes import FakeEngine

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_a_broker(monkeypatch):
    """As with a real broker: the reaper may re-queue; the re-queued prepare runs here."""
    conf = tasks.prepare_artefact.app.conf
    sent = []

    def apply_async(*, args, kwargs):
        sent.append(args)
        conf.task_always_eager = True
        try:
            tasks.prepare_artefact.apply(args=args, kwargs=kwargs)  # what a worker would run
        finally:
            conf.task_always_eager = False

    monkeypatch.setattr(tasks.prepare_artefact, "apply_async", apply_async)
    monkeypatch.setattr(queue_probe, "queued_artefact_ids", lambda: set())
    conf.task_always_eager = False
    yield sent
    conf.task_always_eager = True


def _half_built(settings) -> Artefact:
    """A run whose worker died after its first batch: plan and batch 0 on disk, then silence."""
    row = runs.create_run(engine=get_engine("fake"))
    n_batches = pipeline.prepare(row.pk)
    assert n_batches >= 3
    pipeline.encode_batch(row.pk, 0)
    settings.RECSYS_STALE_RUN_S = 60
    Artefact.objects.filter(pk=row.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    return Artefact.objects.get(pk=row.pk)


def test_a_silent_build_is_resumed_and_its_finished_batches_are_reused(catalogue, settings, with_a_broker):
    row = _half_built(settings)
    first_batch = FakeEngine.calls[0]
    FakeEngine.calls.clear()

    assert services.precompute_reap_stale() == []  # resumed, not closed
    row.refresh_from_db()
    assert (row.status, row.is_active, row.n_items) == ("ready", True, len(catalogue))
    assert "resumed by the reaper (1/3)" in row.log
    encoded_again = [pk for call in FakeEngine.calls for pk in call]
    assert not set(first_batch) & set(encoded_again)  # batch 0 was kept, not encoded twice
    assert sorted(first_batch + encoded_again) == sorted(p.pk for p in catalogue)


def test_a_build_resumed_too_often_is_failed(catalogue, settings, with_a_broker, monkeypatch):
    row = _half_built(settings)
    settings.RECSYS_RESUME_MAX = 2
    Artefact.objects.filter(pk=row.pk).update(log=row.log + f"{runs.RESUMED} (1/2)\n{runs.RESUMED} (2/2)\n")
    services.precompute_reap_stale()
    row.refresh_from_db()
    assert row.status == "failed" and row.error.startswith("abandoned: running with no sign of life")
    assert with_a_broker == []


def test_a_build_waiting_in_the_queue_is_not_reaped(catalogue, settings, monkeypatch):
    settings.RECSYS_STALE_RUN_S = 60
    row = runs.create_run(engine=get_engine("fake"))  # its prepare task still in the queue
    Artefact.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(minutes=14), heartbeat_at=timezone.now() - timedelta(minutes=14)
    )
    monkeypatch.setattr(queue_probe, "queued_artefact_ids", lambda: {row.pk})
    assert services.precompute_reap_stale() == []
    row.refresh_from_db()
    assert row.status == "pending" and runs.seconds_silent(row) < 5  # the queue was its heartbeat


def test_without_a_broker_a_silent_build_is_failed_as_before(catalogue, settings):
    row = _half_built(settings)  # eager mode: no worker would take a re-queued task
    assert services.precompute_reap_stale() == [row.pk]
    assert Artefact.objects.get(pk=row.pk).status == "failed"


def test_a_full_disk_fails_the_build_at_once_without_retries(catalogue, monkeypatch):
    row = runs.create_run(engine=get_engine("fake"))
    pipeline.prepare(row.pk)
    retried = []
    monkeypatch.setattr(tasks.encode_batch, "retry", lambda **kw: retried.append(kw))

    def full(path, array):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artefact_store, "save_array", full)
    with pytest.raises(OSError):
        tasks.encode_batch(row.pk, 0)  # called as a worker calls it (not eager)
    row.refresh_from_db()
    assert retried == [] and row.status == "failed" and "No space left on device" in row.error


def test_a_queued_task_message_names_its_artefact():
    import base64
    import json

    body = base64.b64encode(json.dumps([[42, 3], {}, {}]).encode()).decode()
    message = {
        "body": body,
        "headers": {"task": "recsys.encode_batch"},
        "properties": {"body_encoding": "base64"},
    }
    assert queue_probe.artefact_id_of(message) == 42
    assert queue_probe.artefact_id_of({**message, "headers": {"task": "experiments.other"}}) is None
