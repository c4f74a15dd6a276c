"""Heartbeats, the stale-run reaper, and a build that dies between its last batch and its
manifest (no worker process here: the deaths are simulated where they would happen)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from recsys.artefacts.files import MANIFEST, staging_dir
from recsys.build import finalizing, pipeline, runs
from recsys.build.services import precompute_engine, precompute_reap_stale
from recsys.engines.registry import get_engine
from recsys.models import Artefact
from recsys.serving.selectors import active_artefact
from tests.recsys_pipeline.conftest import loaded, make_painting
from tests.recsys_pipeline.fakes import FakeEngine


class Death(BaseException):
    """kill -9 at this line: nothing after it runs, no handler marks the run failed."""


def _die(*args, **kwargs):
    raise Death


def _encoded_run() -> Artefact:
    """A second run of ``fake`` whose every batch is encoded (the first one is active)."""
    row = runs.create_run(engine=get_engine("fake"))
    for batch_no in range(pipeline.prepare(row.pk)):
        pipeline.encode_batch(row.pk, batch_no)
    return Artefact.objects.get(pk=row.pk)


def _make_stale(row: Artefact, settings) -> None:
    settings.RECSYS_STALE_RUN_S = 60
    Artefact.objects.filter(pk=row.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))


@pytest.fixture
def rebuilt(catalogue):
    """The first build is active, then one more painting arrives."""
    first = precompute_engine(engine="fake")
    make_painting("sea", 7)
    return first


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["postprocess", "drop_scratch"])
def test_a_death_between_the_last_batch_and_the_manifest_loses_nothing(rebuilt, monkeypatch, where):
    row = _encoded_run()
    with monkeypatch.context() as patch:
        if where == "postprocess":  # after the last batch, before the manifest is written
            patch.setattr(FakeEngine, "postprocess", _die)
        else:  # the manifest is written, the scratch not yet deleted
            patch.setattr(finalizing, "drop_scratch", _die)
        with pytest.raises(Death):
            pipeline.finalize(row.pk)
    assert active_artefact(engine="fake").version == rebuilt.version  # the previous one still serves
    assert Artefact.objects.get(pk=row.pk).status == "running"
    finished = pipeline.finalize(row.pk)  # the redelivered task
    assert (finished.status, finished.is_active, loaded(finished).size) == ("ready", True, 13)


@pytest.mark.django_db
def test_the_reaper_activates_a_stale_run_that_was_completely_built(rebuilt, monkeypatch, settings):
    row = _encoded_run()
    monkeypatch.setattr(finalizing, "drop_scratch", _die)
    with pytest.raises(Death):
        pipeline.finalize(row.pk)
    monkeypatch.undo()
    assert (staging_dir("fake", row.version) / MANIFEST).exists()
    _make_stale(row, settings)
    assert precompute_reap_stale() == [row.pk]
    row.refresh_from_db()
    assert (row.status, row.is_active, row.n_items) == ("ready", True, 13)
    assert "recovered by the reaper" in row.log


@pytest.mark.django_db
def test_a_stale_unfinished_run_is_failed_and_the_next_build_starts(rebuilt, settings):
    row = _encoded_run()
    _make_stale(row, settings)
    new = precompute_engine(engine="fake")  # the check at every start
    row.refresh_from_db()
    assert row.status == "failed" and row.error.startswith("abandoned: running with no sign of life since")
    assert not staging_dir("fake", row.version).exists()
    assert (new.status, new.is_active, new.n_items) == ("ready", True, 13)


@pytest.mark.django_db
def test_a_run_with_a_recent_heartbeat_is_left_alone_whatever_its_age(catalogue, settings):
    settings.RECSYS_STALE_RUN_S = 60
    row = runs.create_run(engine=get_engine("fake"))
    Artefact.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert precompute_reap_stale() == []
    assert Artefact.objects.get(pk=row.pk).status == "pending"


@pytest.mark.django_db
def test_each_finished_batch_is_a_heartbeat(catalogue):
    row = runs.create_run(engine=get_engine("fake"))
    pipeline.prepare(row.pk)
    old = timezone.now() - timedelta(hours=1)
    Artefact.objects.filter(pk=row.pk).update(heartbeat_at=old)
    pipeline.encode_batch(row.pk, 0)
    assert Artefact.objects.get(pk=row.pk).heartbeat_at > old + timedelta(minutes=59)


@pytest.mark.django_db(transaction=True)  # the beating thread has its own connection
def test_a_long_step_keeps_beating_while_it_works(catalogue, settings):
    settings.RECSYS_HEARTBEAT_S = 0.05
    row = runs.create_run(engine=get_engine("fake"))
    old = timezone.now() - timedelta(hours=1)
    with runs.keep_alive(row.pk):
        Artefact.objects.filter(pk=row.pk).update(heartbeat_at=old)
        time.sleep(0.5)
        assert Artefact.objects.get(pk=row.pk).heartbeat_at > old + timedelta(minutes=59)
