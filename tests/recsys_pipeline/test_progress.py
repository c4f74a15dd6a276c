"""Honest build progress (recsys.build.progress): the time-left formula, the words, and every step
of a real build moving, LDA's training passes included (issue 21)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from recsys.build import progress as writes
from recsys.build.services import precompute_engine
from recsys.models import Artefact
from recsys.serving import progress


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "eta"),
    [
        (10, 40, 60.0, 180.0),  # 6 s a unit, 30 to go
        (40, 40, 60.0, 0.0),
        (0, 40, 60.0, None),  # no pace before the first unit
        (3, 0, 60.0, None),  # a step without a count
    ],
)
def test_time_left_is_extrapolated_from_the_pace_of_the_step(done, total, elapsed, eta):
    assert progress.eta_seconds(done=done, total=total, elapsed_s=elapsed) == eta


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "about 1 s"),
        (42, "about 42 s"),
        (89, "about 1 min"),
        (150, "about 2 min"),
        (4830, "about 1 h 20 min"),
    ],
)
def test_time_left_in_words(seconds, words):
    assert progress.describe_seconds(seconds) == words


def test_steps_depend_on_what_the_engine_does():
    assert progress.steps_of(needs_fit=True, scores_pairs=False) == ["snapshot", "fit", "encode", "finalize"]
    assert progress.steps_of(needs_fit=False, scores_pairs=True) == [
        "snapshot",
        "encode",
        "pairs",
        "finalize",
    ]


@pytest.mark.django_db
def test_a_queued_build_says_it_waits_for_a_worker():
    row = Artefact.objects.create(engine="lda", version="lda-q")

    state = progress.step_progress(row, steps=["snapshot", "fit", "encode", "finalize"])

    assert (state.step, state.index, state.fraction, state.eta_s) == ("queued", 0, None, None)
    assert state.describe() == "waiting for a worker"


@pytest.mark.django_db
def test_a_fitting_build_describes_its_step_count_and_time_left():
    now = timezone.now()
    row = Artefact(
        engine="lda",
        status=Artefact.Status.RUNNING,
        step="fit",
        step_done=12,
        step_total=48,
        step_unit="LDA training passes",
        step_started_at=now - timedelta(seconds=60),
    )

    state = progress.step_progress(row, steps=["snapshot", "fit", "encode", "finalize"], now=now)

    assert state.describe() == (
        "step 2 of 4, learning from the catalogue: 12/48 LDA training passes, about 3 min left"
    )
    assert state.fraction == 0.25 and state.eta_s == 180.0


@pytest.mark.django_db
def test_every_step_of_an_lda_build_moves_and_its_training_passes_are_counted(catalogue, monkeypatch):
    seen: list[tuple[str, int, int, str]] = []
    begin, advance = writes.begin_step, writes.advance_step

    def record_begin(artefact_id, step, *, total=0, unit=""):
        seen.append((step, 0, total, unit))
        begin(artefact_id, step, total=total, unit=unit)

    def record_advance(artefact_id, *, done, total, unit):
        seen.append(("fit", done, total, unit))
        advance(artefact_id, done=done, total=total, unit=unit)

    monkeypatch.setattr(writes, "begin_step", record_begin)
    monkeypatch.setattr(writes, "advance_step", record_advance)

    row = precompute_engine(engine="lda")

    assert [s for s, *_ in seen if s != "fit"] == ["snapshot", "encode", "finalize"]
    passes = [(done, total) for step, done, total, unit in seen if unit == "LDA training passes"]
    # topic range 2..4 (3 counts) x 3 seeds x 20 passes, one report per finished pass
    assert passes[0] == (0, 180) and passes[-1] == (180, 180)
    assert [done for done, _ in passes] == list(range(181))
    assert row.status == "ready" and row.manifest["fit"]["num_topics"] in (2, 3, 4)
