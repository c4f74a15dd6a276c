"""Reads of the experiments app: the running experiment, participants, exposures for analysis.

Every recommendation asks for the running experiment, so ``active_experiment()`` (for "now")
answers from a per-process memo: which experiment is active and until when that answer holds
(the next window start or end of a running experiment, at most ``ACTIVE_TTL`` seconds). Saving or
deleting an experiment drops the memo at once in the process that saved it
(``experiments.signals``); other processes follow within ``ACTIVE_TTL``. While nothing runs the
memo costs no query, and one query per ``ACTIVE_TTL`` per process refreshes it.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from experiments.exceptions import NO_SUCH_LIST, NotYourExposure
from experiments.models import Arm, Experiment, Exposure, Participant


def running_experiments(*, now: datetime | None = None) -> QuerySet[Experiment]:
    """Experiments running now: status running and inside their time window."""
    now = now or timezone.now()
    return Experiment.objects.filter(
        Q(status=Experiment.Status.RUNNING),
        Q(starts_at__isnull=True) | Q(starts_at__lte=now),
        Q(ends_at__isnull=True) | Q(ends_at__gt=now),
    )


#: the longest a process trusts its memo of the active experiment (seconds)
ACTIVE_TTL = 10.0
#: (active experiment pk or None, valid until as a UNIX time) or None (unknown)
_active_memo: tuple[int | None, float] | None = None


def forget_active_experiment(*, nothing_runs: bool = False) -> None:
    """Drop this process's memo of the active experiment (an experiment was saved or deleted).

    ``nothing_runs``: remember instead that no experiment runs (for ``ACTIVE_TTL``), for a caller
    that knows the table is empty, such as the test suite at the start of each test.
    """
    global _active_memo
    _active_memo = (None, time.time() + ACTIVE_TTL) if nothing_runs else None


def _active_now(now: datetime | None) -> Experiment | None:
    return running_experiments(now=now).order_by("-created_at", "-id").first()


def _refresh(now: datetime) -> Experiment | None:
    """Ask the database (one query) and remember the answer until it may change."""
    global _active_memo
    running = list(
        Experiment.objects.filter(
            Q(status=Experiment.Status.RUNNING), Q(ends_at__isnull=True) | Q(ends_at__gt=now)
        )
    )
    active = max(
        (e for e in running if e.starts_at is None or e.starts_at <= now),
        key=lambda e: (e.created_at, e.pk),
        default=None,
    )
    changes = [e.starts_at for e in running if e.starts_at is not None and e.starts_at > now]
    changes += [active.ends_at] if active is not None and active.ends_at is not None else []
    until = min([now + timedelta(seconds=ACTIVE_TTL), *changes])
    _active_memo = (active.pk if active else None, until.timestamp())
    return active


def active_experiment(*, now: datetime | None = None) -> Experiment | None:
    """The experiment visitors take part in now (the most recently created running one).

    Without ``now``: from the memo while it holds (no query while nothing runs, one while an
    experiment does); with ``now``: from the database.
    """
    if now is not None:
        return _active_now(now)
    now = timezone.now()
    memo = _active_memo
    if memo is not None and now.timestamp() < memo[1]:
        if memo[0] is None:
            return None
        experiment = running_experiments(now=now).filter(pk=memo[0]).first()
        if experiment is not None:
            return experiment
    return _refresh(now)


def overlapping_running(*, experiment: Experiment) -> list[Experiment]:
    """Other running experiments whose time window (open ends: unbounded) meets ``experiment``'s."""
    others = Experiment.objects.filter(status=Experiment.Status.RUNNING).exclude(pk=experiment.pk)
    if experiment.ends_at is not None:
        others = others.filter(Q(starts_at__isnull=True) | Q(starts_at__lt=experiment.ends_at))
    if experiment.starts_at is not None:
        others = others.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=experiment.starts_at))
    return list(others.order_by("created_at", "id"))


def is_running(experiment: Experiment, *, now: datetime | None = None) -> bool:
    return running_experiments(now=now).filter(pk=experiment.pk).exists()


def experiment_arms(*, experiment: Experiment) -> list[Arm]:
    return list(Arm.objects.filter(experiment=experiment).order_by("id"))


def participant_get(*, experiment: Experiment, visitor_key: str) -> Participant | None:
    return Participant.objects.filter(experiment=experiment, visitor_key=visitor_key).first()


def answered_steps(*, participant: Participant) -> int:
    """How many of the participant's lists have feedback (the next within-subjects step)."""
    return Exposure.objects.filter(participant=participant, feedback__isnull=False).count()


def exposures_for_analysis(*, experiment: Experiment) -> QuerySet[Exposure]:
    """Every exposure of ``experiment`` with its arm, participant, feedback, clicks and ratings
    (four queries however many rows)."""
    return (
        Exposure.objects.filter(experiment=experiment)
        .select_related("arm", "participant", "feedback")
        .prefetch_related("clicks", "ratings")
        .order_by("created_at", "id")
    )


def exposure_get(*, exposure_id: uuid.UUID | str) -> Exposure | None:
    """One exposure by its public id with its experiment and participant (one query), or None."""
    return (
        Exposure.objects.select_related("experiment", "participant", "arm")
        .filter(public_id=exposure_id)
        .first()
    )


def visitor_exposure(*, exposure_id: uuid.UUID | str, visitor_key: str | None) -> Exposure:
    """The visitor's exposure by public id; ``NotYourExposure`` (404, the same answer as for an
    id that does not exist) when there is none or it was shown to someone else."""
    exposure = exposure_get(exposure_id=exposure_id) if visitor_key else None
    if exposure is None or exposure.visitor_key != visitor_key:
        raise NotYourExposure(NO_SUCH_LIST, field="exposure")
    return exposure


def reusable_exposure(
    *, participant: Participant, step: int, arm: Arm, painting_ids: list[int]
) -> Exposure | None:
    """The participant's latest list if showing ``painting_ids`` again at ``step`` from ``arm`` is
    a reload of it (same step, arm and paintings in the same order): one query."""
    latest = Exposure.objects.filter(participant=participant).order_by("-created_at", "-id").first()
    if (
        latest is not None
        and latest.step == step
        and latest.arm_id == arm.pk
        and latest.painting_ids == painting_ids
    ):
        return latest
    return None
