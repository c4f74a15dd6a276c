"""Celery tasks that build artefacts:
prepare -> chord(encode_batch x n) -> plan_pairs -> chord(score_pair_batch x k) -> finalize
(the pair step is BLIP's ITM re-scoring; for every other engine plan_pairs queues finalize at
once). An engine of ``RECSYS_ONE_TASK_ENGINES`` (LDA: its encoding is cheaper than queueing)
runs every step in its prepare task, so it never waits behind other engines' batches.

Each task takes ids and calls one pipeline step (``recsys.build.pipeline``), which reads the Artefact
row first and returns quietly if the run is gone or closed. Batches land in separate files, so a
retried or redelivered batch is skipped; ``acks_late`` means a worker that dies mid-task leaves
the message to another one. Transient errors (file system, lost database connection) are
retried with exponential backoff; any other error, or the last retry, marks the run failed,
which leaves the previously active artefact in place. A worker killed outright (``kill -9``)
runs no handler at all: the periodic ``reap_stale_runs`` closes its run once the heartbeat stops.
"""

from __future__ import annotations

import errno
import logging
import traceback
from typing import Any

from celery import Task, chord, group, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import InterfaceError, OperationalError

from recsys.build import pipeline, runs, services
from recsys.models import Artefact

logger = logging.getLogger(__name__)
TRANSIENT_ERRORS = (OSError, OperationalError, InterfaceError)
#: OSErrors that no retry can cure: a full disk or quota, a read-only file system. Retrying
#: would re-encode every batch again for nothing; the run fails at once.
PERMANENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the task may help (a full disk is an ``OSError`` that never does)."""
    if isinstance(exc, OSError) and exc.errno in PERMANENT_ERRNOS:
        return False
    return isinstance(exc, TRANSIENT_ERRORS)


class ArtefactTask(Task):
    """Base of the build steps; the first argument is always the Artefact id.

    Failure handling lives in ``__call__`` rather than in ``autoretry_for``/``on_failure``
    because eager mode (no broker) with ``task_eager_propagates`` skips both: the error would
    leave the row running forever. Here a transient error is retried with exponential backoff
    and jitter by a worker; in eager mode, or once retries are spent, and for any other error,
    the run is marked failed before the error propagates."""

    acks_late = True
    max_retries = 3
    retry_backoff = 5  # seconds, doubled per retry
    retry_backoff_max = 300

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except TRANSIENT_ERRORS as exc:
            if is_transient(exc) and not self.request.is_eager and self.request.retries < self.max_retries:
                countdown = get_exponential_backoff_interval(
                    self.retry_backoff, self.request.retries, self.retry_backoff_max, full_jitter=True
                )
                raise self.retry(exc=exc, countdown=countdown) from exc
            self._fail(args, kwargs, exc)
            raise
        except Exception as exc:
            self._fail(args, kwargs, exc)
            raise

    def _fail(self, args: Any, kwargs: Any, exc: BaseException) -> None:
        artefact_id = args[0] if args else kwargs.get("artefact_id")
        if artefact_id is not None:
            details = f"task {self.name}[{self.request.id}]\n{traceback.format_exc()}"
            runs.mark_failed(int(artefact_id), exc, details)

    def report_progress(self, artefact_id: int, stage: str) -> None:
        """Progress in the task state (for Flower / AsyncResult) besides the Artefact row."""
        if not self.request.id or self.request.called_directly:
            return
        row = Artefact.objects.filter(pk=artefact_id).only("engine", "processed", "total").first()
        if row is not None:
            self.update_state(
                state="PROGRESS",
                meta={
                    "artefact": artefact_id,
                    "engine": row.engine,
                    "stage": stage,
                    "processed": row.processed,
                    "total": row.total,
                },
            )


@shared_task(bind=True, base=ArtefactTask, name="recsys.prepare_artefact")
def prepare_artefact(self: ArtefactTask, artefact_id: int, full: bool = False) -> int | None:
    """Snapshot and fit, then fan the encoding out over the workers; an engine of
    ``RECSYS_ONE_TASK_ENGINES`` is encoded and finished here instead (``_build_here``)."""
    n_batches = pipeline.prepare(artefact_id, full=full)
    if n_batches is None:
        return None
    self.report_progress(artefact_id, "planned")
    if _one_task(artefact_id):
        _build_here(self, artefact_id, n_batches)
        return n_batches
    finish = plan_pairs.si(artefact_id)
    if n_batches == 0:
        finish.apply_async()
    else:
        chord(group(encode_batch.si(artefact_id, n) for n in range(n_batches)), finish).apply_async()
    return n_batches


def _one_task(artefact_id: int) -> bool:
    engine = Artefact.objects.filter(pk=artefact_id).values_list("engine", flat=True).first()
    return engine in settings.RECSYS_ONE_TASK_ENGINES


def _build_here(task: ArtefactTask, artefact_id: int, n_batches: int) -> None:
    """The rest of the build in this task: every encode batch, the pair plan, then finalize (or
    the pair batches' chord, for an engine that re-scores pairs). Each step is idempotent, so a
    retry of this task resumes where the failed attempt stopped."""
    for batch_no in range(n_batches):
        pipeline.encode_batch(artefact_id, batch_no)
    task.report_progress(artefact_id, "encoded")
    _plan_pairs(task, artefact_id, finalize_here=True)


@shared_task(bind=True, base=ArtefactTask, name="recsys.encode_batch")
def encode_batch(self: ArtefactTask, artefact_id: int, batch_no: int) -> int | None:
    done = pipeline.encode_batch(artefact_id, batch_no)
    if done:
        self.report_progress(artefact_id, f"batch {batch_no}")
    return done


@shared_task(bind=True, base=ArtefactTask, name="recsys.plan_pairs")
def plan_pairs(self: ArtefactTask, artefact_id: int) -> int | None:
    """Plan the pair scoring (BLIP's ITM), then fan its batches out over the workers."""
    return _plan_pairs(self, artefact_id, finalize_here=False)


def _plan_pairs(task: ArtefactTask, artefact_id: int, *, finalize_here: bool) -> int | None:
    """Plan the pairs; none to score: finalize (here, or queued), else a chord of pair batches."""
    n_batches = pipeline.plan_pairs(artefact_id)
    if n_batches is None:
        return None
    if n_batches == 0 and finalize_here:
        pipeline.finalize(artefact_id)
    elif n_batches == 0:
        finalize_artefact.si(artefact_id).apply_async()
    else:
        task.report_progress(artefact_id, "pairs planned")
        pairs = group(score_pair_batch.si(artefact_id, n) for n in range(n_batches))
        chord(pairs, finalize_artefact.si(artefact_id)).apply_async()
    return n_batches


@shared_task(bind=True, base=ArtefactTask, name="recsys.score_pair_batch")
def score_pair_batch(self: ArtefactTask, artefact_id: int, batch_no: int) -> int | None:
    done = pipeline.score_pair_batch(artefact_id, batch_no)
    if done:
        self.report_progress(artefact_id, f"pair batch {batch_no}")
    return done


@shared_task(bind=True, base=ArtefactTask, name="recsys.finalize_artefact")
def finalize_artefact(self: ArtefactTask, artefact_id: int) -> str | None:
    row = pipeline.finalize(artefact_id)
    return row.version if row is not None and row.status == Artefact.Status.READY else None


@shared_task(
    bind=True,
    name="recsys.refresh_artefacts",
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=3,
    retry_backoff=5,
)
def refresh_artefacts(self: Task, engines: list[str]) -> list[str]:
    """The debounced refresh after catalogue changes; engines busy with a build that started
    before the change are tried again later (in eager mode builds never overlap)."""
    busy = services.refresh_engines(engines=engines)
    if busy and not self.request.is_eager:
        refresh_artefacts.apply_async(
            kwargs={"engines": busy}, countdown=max(settings.RECSYS_PRECOMPUTE_DEBOUNCE_S, 30)
        )
    return busy


@shared_task(name="recsys.refresh_requested")
def refresh_requested() -> list[str]:
    """Periodic (``CELERY_BEAT_SCHEDULE``): queue the refreshes owed by catalogue changes whose
    automatic refresh was never queued (``recsys.build.services.refresh_requested_dispatch``)."""
    return services.refresh_requested_dispatch()


@shared_task(name="recsys.reap_stale_runs", ignore_result=True)
def reap_stale_runs() -> list[int]:
    """Periodic (``config.celery`` beat schedule): close builds whose heartbeat stopped."""
    return services.precompute_reap_stale()


@shared_task(name="recsys.train_tuned", acks_late=True, ignore_result=True)
def train_tuned(tuned_id: int) -> str | None:
    """Train a queued version of the tuned spaces (``recsys.build.tuned.tuned_train``); quietly
    nothing when the row is gone or no longer queued."""
    from recsys.build.tuned import tuned_train  # torch is imported by the training only

    row = tuned_train(tuned_id=tuned_id)
    return row.status if row is not None else None


@shared_task(name="recsys.tuned_check", ignore_result=True)
def tuned_check() -> int | None:
    """Periodic (``CELERY_BEAT_SCHEDULE``): queue a training of the tuned spaces when enough new
    feedback came in (``recsys.build.tuned.tuned_check``)."""
    from recsys.build.tuned import tuned_check as check

    row = check()
    return row.pk if row is not None else None
