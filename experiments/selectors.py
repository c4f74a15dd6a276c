"""Reads of the experiments app: the running experiment, participants, exposures for analysis."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from experiments.models import Arm, Experiment, Exposure, Participant


def running_experiments(*, now: datetime | None = None) -> QuerySet[Experiment]:
    """Experiments running now: status running and inside their time window."""
    now = now or timezone.now()
    return Experiment.objects.filter(
        Q(status=Experiment.Status.RUNNING),
        Q(starts_at__isnull=True) | Q(starts_at__lte=now),
        Q(ends_at__isnull=True) | Q(ends_at__gt=now),
    )


def active_experiment(*, now: datetime | None = None) -> Experiment | None:
    """The experiment visitors take part in now (the most recently created running one)."""
    return running_experiments(now=now).order_by("-created_at", "-id").first()


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
