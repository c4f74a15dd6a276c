"""Honest progress of a build, written by the pipeline's steps: each records on its ``Artefact``
row which step it is in and how much of it is done (what the steps are, and how progress and the
time left are read, is ``recsys.serving.progress``)."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from recsys.models import Artefact
from recsys.serving.progress import ENCODE, FINALIZE, FIT, PAIRS, QUEUED, SNAPSHOT

__all__ = [
    "ENCODE",
    "FINALIZE",
    "FIT",
    "PAIRS",
    "QUEUED",
    "SNAPSHOT",
    "add_to_step",
    "advance_step",
    "begin_step",
]


# -- writes (by the pipeline's steps) -------------------------------------------------------------
def begin_step(artefact_id: int, step: str, *, total: int = 0, unit: str = "") -> None:
    """The build enters ``step`` (nothing done yet); also a heartbeat."""
    now = timezone.now()
    Artefact.objects.filter(pk=artefact_id).update(
        step=step, step_done=0, step_total=total, step_unit=unit[:64], step_started_at=now, heartbeat_at=now
    )


def advance_step(artefact_id: int, *, done: int, total: int, unit: str) -> None:
    """``done`` of ``total`` units of the current step are finished; also a heartbeat."""
    Artefact.objects.filter(pk=artefact_id).update(
        step_done=done, step_total=total, step_unit=unit[:64], heartbeat_at=timezone.now()
    )


def add_to_step(artefact_id: int, count: int) -> None:
    """``count`` more units of the current step are finished (concurrent batches)."""
    Artefact.objects.filter(pk=artefact_id).update(step_done=F("step_done") + count)
