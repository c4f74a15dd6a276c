"""Artefacts: one row per computed (or computing) engine representation.

A row is also the job record of the run that builds it (status, progress, timings, log), so a
second run for the same engine cannot be queued while one is pending or running (constraint
``artefact_one_open_run_per_engine``), and at most one artefact per engine is active. An open
run whose ``heartbeat_at`` is too old was abandoned (its worker died) and is failed by the
reaper (``recsys.build.runs.reap_stale_runs``).
The files live under ``RECSYS_ARTEFACT_ROOT/<engine>/<version>/`` (see ``recsys.artefacts``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Artefact(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        PRUNED = "pruned", "Pruned (files deleted)"

    OPEN_STATUSES = (Status.PENDING, Status.RUNNING)

    engine = models.CharField(max_length=50, db_index=True)
    version = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    is_active = models.BooleanField(default=False)
    model_id = models.CharField(max_length=500, blank=True)
    params = models.JSONField(default=dict, blank=True)
    catalogue_hash = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=500, blank=True, help_text="Relative to RECSYS_ARTEFACT_ROOT.")
    manifest = models.JSONField(default=dict, blank=True)
    n_items = models.PositiveIntegerField(default=0)
    n_skipped = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    # The step an open build is in and how far it is (recsys.build.progress): "snapshot", "fit",
    # "encode", "pairs", "finalize"; done/total in the step's own unit (LDA passes, paintings, ...)
    step = models.CharField(max_length=32, blank=True)
    step_done = models.PositiveIntegerField(default=0)
    step_total = models.PositiveIntegerField(default=0)
    step_unit = models.CharField(max_length=64, blank=True)
    step_started_at = models.DateTimeField(null=True, blank=True)
    celery_task_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    log = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last sign of life of an open run (created, each step, each finished batch, and "
        "every RECSYS_HEARTBEAT_S while a step works); older than RECSYS_STALE_RUN_S: abandoned.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engine"], condition=Q(is_active=True), name="artefact_one_active_per_engine"
            ),
            models.UniqueConstraint(
                fields=["engine"],
                condition=Q(status__in=["pending", "running"]),
                name="artefact_one_open_run_per_engine",
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status="ready"), name="artefact_active_is_ready"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engine} {self.version} ({self.status})"

    @property
    def progress(self) -> float:
        return self.processed / self.total if self.total else 0.0

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class RefreshRequest(models.Model):
    """A catalogue change an engine's artefact has not caught up with yet (a dirty flag).

    Written in the same transaction as the change (``recsys.build.services.schedule_refresh``), so it
    survives a broker that is down when the refresh is queued; cleared when a build of the engine
    is queued or finishes after it. ``recsys.refresh_requested`` (a periodic task) queues a refresh
    for flags older than the debounce window, e.g. once the broker is back.
    """

    engine = models.CharField(max_length=50, unique=True)
    requested_at = models.DateTimeField(help_text="The latest change not yet picked up.")

    def __str__(self) -> str:
        return f"{self.engine} dirty since {self.requested_at:%Y-%m-%d %H:%M:%S}"


class TunedSpace(models.Model):
    """One trained version of the tuned spaces (``recsys.algorithms.tuning``): a linear map per
    engine learned from every visitor's feedback, and the job record of the training run.

    Its files (``tuned/<version>/``: ``manifest.json`` and one ``<engine>.npy`` map each) live in
    the artefacts storage like the engines'. At most one version is active: recommenders marked
    ``TUNED`` score in it (``recsys.serving.tuned``); with none active they use the untuned space
    and say so. Rolling back activates the previous ready version (``recsys.build.tuned``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        PRUNED = "pruned", "Pruned (files deleted)"

    OPEN_STATUSES = (Status.PENDING, Status.RUNNING)

    version = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    is_active = models.BooleanField(default=False)
    engines = models.JSONField(default=dict, blank=True, help_text="Engine -> base artefact version.")
    path = models.CharField(max_length=500, blank=True, help_text="Relative to RECSYS_ARTEFACT_ROOT.")
    manifest = models.JSONField(default=dict, blank=True)
    n_visitors = models.PositiveIntegerField(default=0, help_text="Visitors whose feedback trained it.")
    n_ratings = models.PositiveIntegerField(default=0, help_text="Ratings and clicks it was trained on.")
    n_triplets = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=32, blank=True, help_text="feedback (beat check), admin or api.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="tuned_one_active"
            ),
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(status__in=["pending", "running"]),
                name="tuned_one_open_run",
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status="ready"), name="tuned_active_is_ready"
            ),
        ]

    def __str__(self) -> str:
        return f"tuned {self.version} ({self.status})"
