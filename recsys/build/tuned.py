"""Writes of the tuned spaces: queue a training, train, activate, roll back, prune.

A training (``tuned_train``) reads every visitor's feedback (``recsys.build.feedback``), the
active artefacts of ``RECSYS_TUNED_ENGINES``, and runs ``recsys.algorithms.tuning.tune_embeddings``
(seed ``RECSYS_TUNED_SEED``) on the union of their paintings. The version is published like an
engine's artefact, under ``tuned/<version>/`` in the artefacts storage (a staging folder renamed
into place, or uploaded with the manifest last):

    manifest.json    version, created, engines {engine: {"base_version", "model_id", "dims"}},
                     feedback {"visitors", "usable_visitors", "ratings", "sources"},
                     training (tune_embeddings' report: triplets, loss curve, losses before/after)
    <engine>.npy     float32 (d, d'), the map W of that engine

then activated in one transaction (the previous version stays ready: ``tuned_rollback`` goes back
to it). Versions beyond ``RECSYS_ARTEFACT_KEEP`` are pruned (never the active one or the one
before it). With fewer than ``RECSYS_TUNED_MIN_VISITORS`` visitors who liked two paintings and
rated one 1-3, nothing is trained (``NotEnoughFeedback``): recommenders keep the untuned space.

When to train (``tuned_due``): no version yet and enough feedback, or at least
``RECSYS_TUNED_RETRAIN_RATINGS`` ratings and clicks added since the last training started. The
beat task ``recsys.tuned_check`` asks it every ``RECSYS_TUNED_CHECK_S``; the admin and the API
queue a training on demand (``tuned_request``).
"""

from __future__ import annotations

import secrets
import traceback
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.exceptions import EngineUnavailable, NoPreviousVersion, NotEnoughFeedback, RunInProgress
from recsys.algorithms.learned import painting_union
from recsys.algorithms.tuning import LIKED_MIN, NEGATIVE_MAX, TuningParams, tune_embeddings
from recsys.artefacts import files, store
from recsys.build.feedback import feedback_changed_since, feedback_histories
from recsys.build.services import task_named
from recsys.models import TunedSpace
from recsys.serving.selectors import active_artefact
from recsys.serving.status_cache import invalidate

TUNED_DIR = "tuned"
#: the Celery task that trains a version (``recsys.tasks``; looked up by name: the tasks import this module)
TRAIN_TUNED_TASK = "recsys.train_tuned"


def training_params() -> TuningParams:
    """``tune_embeddings``' hyper-parameters from the settings (``RECSYS_TUNED_*``)."""
    return TuningParams(
        identity_weight=settings.RECSYS_TUNED_IDENTITY_WEIGHT,
        steps=settings.RECSYS_TUNED_STEPS,
        learning_rate=settings.RECSYS_TUNED_LEARNING_RATE,
    )


def usable_visitors(histories: Mapping[str, Mapping[int, int]]) -> int:
    """Visitors whose history gives at least one triplet: two liked (4-5) and one rated 1-3."""
    return sum(
        1
        for history in histories.values()
        if sum(v >= LIKED_MIN for v in history.values()) >= 2
        and any(v <= NEGATIVE_MAX for v in history.values())
    )


def feedback_summary() -> dict[str, Any]:
    """Visitors, usable visitors and ratings of the feedback there is now (admin, API)."""
    histories, sources = feedback_histories()
    return {
        "visitors": len(histories),
        "usable_visitors": usable_visitors(histories),
        "ratings": sum(len(h) for h in histories.values()),
        "sources": sources,
        "min_visitors": settings.RECSYS_TUNED_MIN_VISITORS,
    }


def _check_enough(usable: int) -> None:
    if usable < settings.RECSYS_TUNED_MIN_VISITORS:
        raise NotEnoughFeedback(
            f"Not enough feedback to tune: {usable} visitors liked two paintings and rated one 1-3; "
            f"RECSYS_TUNED_MIN_VISITORS is {settings.RECSYS_TUNED_MIN_VISITORS}.",
            detail={"usable_visitors": usable, "min_visitors": settings.RECSYS_TUNED_MIN_VISITORS},
        )


def tuned_request(*, trigger: str) -> TunedSpace:
    """Queue a training (the row now, the task after commit). ``NotEnoughFeedback`` (409) with
    too little feedback, ``RunInProgress`` (409) while one is queued or training."""
    histories, _ = feedback_histories()
    _check_enough(usable_visitors(histories))
    version = timezone.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    try:
        with transaction.atomic():
            row = TunedSpace.objects.create(version=version, trigger=trigger)
    except IntegrityError:
        open_row = TunedSpace.objects.filter(status__in=TunedSpace.OPEN_STATUSES).first()
        raise RunInProgress(
            f"A training of the tuned spaces is already {open_row.status if open_row else 'open'}.",
            detail={"version": open_row.version if open_row else None},
        ) from None
    transaction.on_commit(lambda: task_named(TRAIN_TUNED_TASK).delay(row.pk))
    return row


def tuned_due() -> str | None:
    """Why a training is due now, or None."""
    if TunedSpace.objects.filter(status__in=TunedSpace.OPEN_STATUSES).exists():
        return None
    last = TunedSpace.objects.filter(status=TunedSpace.Status.READY).order_by("-created_at").first()
    if last is None:
        histories, _ = feedback_histories()
        usable = usable_visitors(histories)
        return (
            f"first training: {usable} usable visitors"
            if usable >= settings.RECSYS_TUNED_MIN_VISITORS
            else None
        )
    new = feedback_changed_since(last.started_at or last.created_at)
    return f"{new} new ratings and clicks" if new >= settings.RECSYS_TUNED_RETRAIN_RATINGS else None


def tuned_check() -> TunedSpace | None:
    """The beat task's service: queue a training when one is due (quietly none otherwise)."""
    reason = tuned_due()
    if reason is None:
        return None
    try:
        return tuned_request(trigger="feedback")
    except (NotEnoughFeedback, RunInProgress):
        return None


def _fail(row: TunedSpace, error: str) -> None:
    TunedSpace.objects.filter(pk=row.pk).update(
        status=TunedSpace.Status.FAILED, error=error[-10_000:], finished_at=timezone.now()
    )


def tuned_train(*, tuned_id: int) -> TunedSpace | None:
    """Train the queued version ``tuned_id`` (None when the row is gone or not queued)."""
    claimed = TunedSpace.objects.filter(pk=tuned_id, status=TunedSpace.Status.PENDING).update(
        status=TunedSpace.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    row = TunedSpace.objects.get(pk=tuned_id)
    try:
        return _train(row)
    except (NotEnoughFeedback, EngineUnavailable) as exc:
        _fail(row, str(exc))
        return TunedSpace.objects.get(pk=tuned_id)
    except Exception:
        _fail(row, traceback.format_exc())
        raise


def _train(row: TunedSpace) -> TunedSpace:
    artefacts = {engine: active_artefact(engine=engine) for engine in settings.RECSYS_TUNED_ENGINES}
    histories, sources = feedback_histories()
    usable = usable_visitors(histories)
    _check_enough(usable)
    union = painting_union(artefacts)
    rows = {int(pk): i for i, pk in enumerate(union.painting_ids.tolist())}
    keyed = sorted(histories)
    by_row = [{rows[pk]: v for pk, v in histories[key].items() if pk in rows} for key in keyed]
    embeddings = {}
    for engine, art in artefacts.items():
        block = np.zeros((union.painting_ids.shape[0], art.embeddings.shape[1]), dtype=np.float32)
        present = union.rows[engine] >= 0
        block[present] = art.embeddings[union.rows[engine][present]]
        embeddings[engine] = block
    _, report = tune_embeddings(embeddings, by_row, seed=settings.RECSYS_TUNED_SEED, params=training_params())
    if not report.trained:
        raise NotEnoughFeedback(f"Nothing to tune: {report.reason}.")
    engines = {
        engine: {
            "base_version": art.version,
            "model_id": art.manifest.get("model_id", ""),
            "dims": list(report.projections[engine].shape),
        }
        for engine, art in artefacts.items()
    }
    manifest = {
        "kind": "tuned",
        "version": row.version,
        "created": timezone.now().isoformat(),
        "engines": engines,
        "feedback": {
            "visitors": len(histories),
            "usable_visitors": usable,
            "ratings": sum(len(h) for h in by_row),
            "sources": sources,
        },
        "training": report.as_dict(),
    }
    final = files.engine_dir(TUNED_DIR) / row.version
    staging = files.engine_dir(TUNED_DIR) / f".staging-{row.version}"
    files.remove_local_tree(staging)
    for engine, projection in report.projections.items():
        files.save_local_array(staging / f"{engine}.npy", projection)
    files.save_local_json(staging / files.MANIFEST, manifest)
    store.publish(staging, final)
    with transaction.atomic():
        TunedSpace.objects.filter(pk=row.pk).update(
            status=TunedSpace.Status.READY,
            path=f"{TUNED_DIR}/{row.version}",
            engines={engine: info["base_version"] for engine, info in engines.items()},
            manifest=manifest,
            n_visitors=report.visitors_used,
            n_ratings=manifest["feedback"]["ratings"],
            n_triplets=report.triplets,
            finished_at=timezone.now(),
        )
        _activate(TunedSpace.objects.select_for_update().get(pk=row.pk))
    tuned_prune()
    return TunedSpace.objects.get(pk=row.pk)


def _activate(row: TunedSpace) -> None:
    TunedSpace.objects.filter(is_active=True).exclude(pk=row.pk).update(is_active=False)
    TunedSpace.objects.filter(pk=row.pk).update(is_active=True, activated_at=timezone.now())
    transaction.on_commit(invalidate)


def tuned_activate(*, version: str) -> TunedSpace:
    """Make a ready version the active one."""
    with transaction.atomic():
        row = (
            TunedSpace.objects.select_for_update()
            .filter(version=version, status=TunedSpace.Status.READY)
            .first()
        )
        if row is None:
            raise NoPreviousVersion(f"No ready tuned version {version!r}.", field="version")
        _activate(row)
    return TunedSpace.objects.get(pk=row.pk)


def tuned_rollback() -> TunedSpace:
    """Activate the ready version trained before the active one (``NoPreviousVersion`` when there
    is none); with none active, the latest ready version."""
    with transaction.atomic():
        active = TunedSpace.objects.select_for_update().filter(is_active=True).first()
        ready = TunedSpace.objects.filter(status=TunedSpace.Status.READY).order_by("-created_at", "-id")
        target = (
            ready.exclude(pk=active.pk).filter(created_at__lte=active.created_at).first()
            if active
            else ready.first()
        )
        if target is None:
            raise NoPreviousVersion("There is no earlier ready tuned version to roll back to.")
        _activate(target)
    return TunedSpace.objects.get(pk=target.pk)


def tuned_deactivate() -> None:
    """Serve the untuned space again (no tuned version active)."""
    with transaction.atomic():
        TunedSpace.objects.filter(is_active=True).update(is_active=False)
        transaction.on_commit(invalidate)


def tuned_prune() -> list[str]:
    """Delete the files of ready versions beyond ``RECSYS_ARTEFACT_KEEP`` (at least two kept: the
    active one and the one a roll-back goes to)."""
    keep = max(2, settings.RECSYS_ARTEFACT_KEEP)
    ready = list(
        TunedSpace.objects.filter(status=TunedSpace.Status.READY).order_by("-is_active", "-created_at")
    )
    pruned = []
    for row in ready[keep:]:
        store.remove_tree(files.engine_dir(TUNED_DIR) / row.version)
        TunedSpace.objects.filter(pk=row.pk, is_active=False).update(status=TunedSpace.Status.PRUNED)
        pruned.append(row.version)
    return pruned
