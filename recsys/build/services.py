"""Writes for the recommender: starting, running, cancelling and scheduling artefact builds.

A build is one Artefact row (its job record). At most one build per engine is open: starting
one while another is pending or running returns that one (the database constraint
``artefact_one_open_run_per_engine`` settles races between processes).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from uuid import uuid4

from celery import Task, current_app
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from catalog.models import Painting
from catalog.snapshot import current_catalogue_hash
from config.exceptions import EmptyCatalogue, RunInProgress
from recsys.build import pipeline, runs
from recsys.build.planning import FULL_REBUILD
from recsys.engines.registry import enabled_engine_names, engine_unavailable_reason, require_available
from recsys.models import Artefact, RefreshRequest

logger = logging.getLogger(__name__)

REFRESH_LOCK_KEY = "recsys:refresh-scheduled"
# The tasks this module queues, by their registered (queued, so stable) names: ``recsys.tasks``
# imports these services, so they are looked up in the Celery app rather than imported.
PREPARE_TASK = "recsys.prepare_artefact"
REFRESH_TASK = "recsys.refresh_artefacts"


def task_named(name: str) -> Task:
    """The registered Celery task called ``name`` (``recsys.tasks`` registers them at app start)."""
    return current_app.tasks[name]


def resume_run(row: Artefact) -> str | None:
    """Re-queue the remaining work of a stale run (the reaper's ``resume``): its prepare task
    again, which is idempotent: with its plan written it fans out every batch, and the finished
    ones are skipped (their files are kept), so only the missing ones are encoded. None (the
    reaper then fails the run) in eager mode, where no worker would take it, or when the broker
    refuses the task."""
    if current_app.conf.task_always_eager:
        return None
    full = FULL_REBUILD in row.log
    try:
        task_named(PREPARE_TASK).apply_async(args=(row.pk,), kwargs={"full": full})
    except Exception as exc:  # broker unreachable: nothing would run it
        logger.warning("artefact %s: not resumed, the broker refused: %s", row.pk, exc)
        return None
    return f"re-queued its build, {row.processed}/{row.total} paintings already encoded are kept"


def _open_run(engine: str) -> Artefact | None:
    return Artefact.objects.filter(engine=engine, status__in=Artefact.OPEN_STATUSES).first()


def precompute_reap_stale(*, engine: str | None = None) -> list[int]:
    """Deal with open builds (of ``engine``, or all) whose heartbeat is older than
    ``RECSYS_STALE_RUN_S``: their worker died, or their task waits in the queue. A build with a
    task in the queue is alive; one whose artefact was complete is published and activated; one
    a worker can resume is re-queued (its finished batches reused, at most ``RECSYS_RESUME_MAX``
    times); the others are failed, so the engine's next run may start. Runs in every worker
    (``recsys.build.worker_reaper``) and before every start; returns the ids of the runs closed."""
    from recsys.build.queue_probe import queued_artefact_ids

    return pipeline.reap_stale_runs(engine=engine, resume=resume_run, queued=queued_artefact_ids)


def require_paintings(*, engine: str) -> None:
    """``EmptyCatalogue`` while the catalogue has no painting (a build would fail on nothing)."""
    if not Painting.objects.exists():
        raise EmptyCatalogue(
            f"Nothing to compute: {EmptyCatalogue.reason}.", field="engine", detail={"engine": engine}
        )


def _create_run(engine: str) -> tuple[Artefact, bool]:
    """(row, created): a new pending row, or the engine's open run if there is one; no row while
    the catalogue is empty (``EmptyCatalogue``)."""
    instance = require_available(engine)
    precompute_reap_stale(engine=engine)
    existing = _open_run(engine)
    if existing is not None:
        return existing, False
    require_paintings(engine=engine)
    try:
        with transaction.atomic():
            return runs.create_run(engine=instance, celery_task_id=str(uuid4())), True
    except IntegrityError:  # another process opened one between our check and insert
        existing = _open_run(engine)
        if existing is None:
            raise
        return existing, False


def precompute_start(*, engine: str, full: bool = False) -> Artefact:
    """Queue a build of ``engine``'s artefact (after the current transaction commits).

    Returns the pending row, or the open run if one exists (never queued twice). If the broker
    refuses the task the row is failed at once and ``kombu.exceptions.OperationalError`` raised.
    ``full`` rebuilds every row and refits, instead of reusing the active artefact's rows.
    Raises ``UnknownEngine`` or ``ModelNotAvailable`` (naming the setting)."""
    prepare_artefact = task_named(PREPARE_TASK)
    row, created = _create_run(engine)
    if created:

        def send() -> None:
            task = {"args": (row.pk,), "kwargs": {"full": full}, "task_id": row.celery_task_id}
            if prepare_artefact.app.conf.task_always_eager:  # no broker: the build runs right here
                refresh_requests_clear(engines=[engine], before=row.created_at)
                prepare_artefact.apply_async(**task)
                return
            try:
                prepare_artefact.apply_async(**task)
            except Exception as exc:  # broker or result backend unreachable: nothing will run it
                reason = f"{type(exc).__name__}: {exc}".strip()
                runs.mark_failed(row.pk, f"not queued, the broker is unreachable: {reason}")
                raise OperationalError(reason) from exc
            refresh_requests_clear(engines=[engine], before=row.created_at)  # queued: it will snapshot

        transaction.on_commit(send)
    return row


def precompute_engine(
    *, engine: str, full: bool = False, progress: pipeline.Progress | None = None
) -> Artefact:
    """Build ``engine``'s artefact now, in this process, and return the finished (active) row.

    ``progress(processed, total)`` is called after planning and after every batch. Raises
    ``RunInProgress`` if a build of the engine is already open, and re-raises the error of a
    failed build (the row is then marked failed and the previous artefact stays active)."""
    if not full and (current := artefact_up_to_date(engine=engine)) is not None:
        return current
    row, created = _create_run(engine)
    if not created:
        raise RunInProgress(
            f"Engine {engine!r} is already being computed (artefact {row.version}, {row.status}); "
            "wait for it, or cancel it in the admin.",
            field="engine",
            detail={"engine": engine, "artefact": row.pk},
        )
    finished = pipeline.run(row.pk, full=full, progress=progress)
    refresh_requests_clear(engines=[engine], before=row.created_at)
    return finished


#: manifest entries every build now writes: an artefact without one predates that file and is rebuilt
#: (incrementally: its vectors are reused) by the next precompute, as is one whose 8-bit codes are
#: of an older kind (``recsys.algorithms.scan_codes.is_current``)
LAYOUT_ENTRIES = ("scan_codes",)


def artefact_up_to_date(*, engine: str) -> Artefact | None:
    """The engine's active artefact if it was built from exactly the current catalogue
    (same catalogue hash) with the same parameters and the current layout (``LAYOUT_ENTRIES``),
    so a new build would change nothing."""
    active = Artefact.objects.filter(engine=engine, is_active=True).first()
    if active is None:
        return None
    params = runs.jsonable(require_available(engine).params())
    if active.params != params or active.catalogue_hash != current_catalogue_hash():
        return None
    manifest = active.manifest or {}
    if any(entry not in manifest for entry in LAYOUT_ENTRIES):
        return None
    from recsys.algorithms import scan_codes  # faiss only in processes that build or scan

    if not scan_codes.is_current(manifest["scan_codes"]):
        return None
    return active


def precompute_cancel(*, artefact: Artefact) -> bool:
    """Fail an open run; its remaining tasks find it closed and stop. False if it was not open."""
    return runs.mark_failed(artefact.pk, "cancelled by an administrator")


def schedule_refresh(*, painting_ids: Collection[int]) -> bool:
    """Queue one incremental refresh of every enabled, available engine after a catalogue change.

    First a dirty flag per engine (``RefreshRequest``) is written in the caller's transaction, so
    the change is never lost, whatever happens to the queueing. Then, debounced: the first change
    of a burst takes a cache lock and queues the refresh ``RECSYS_PRECOMPUTE_DEBOUNCE_S`` later
    (after commit); later changes in the window find the lock and do nothing, since the refresh
    snapshots the catalogue when it runs. With the cache down the lock is skipped (a warning); with
    the broker down the queueing fails (logged) and the flags stay for ``refresh_requested_dispatch``.
    Returns whether a refresh was queued."""
    if not settings.RECSYS_AUTO_REFRESH or not painting_ids:
        return False
    engines = [name for name in enabled_engine_names() if engine_unavailable_reason(name) is None]
    if not engines:
        return False
    refresh_requests_mark(engines=engines)
    delay = max(0, settings.RECSYS_PRECOMPUTE_DEBOUNCE_S)
    if delay:
        try:
            first_of_burst = cache.add(REFRESH_LOCK_KEY, timezone.now().isoformat(), timeout=delay * 10)
        except Exception as exc:  # cache down: no debounce, the dirty flags keep the change
            logger.warning("refresh debounce lock unavailable (%s); queueing anyway", exc)
            first_of_burst = True
        if not first_of_burst:
            return False
    logger.info("catalogue changed (%d paintings): refresh of %s queued", len(painting_ids), engines)
    _queue_refresh(engines, countdown=delay)
    return True


def _queue_refresh(engines: list[str], *, countdown: int) -> None:
    refresh_artefacts = task_named(REFRESH_TASK)

    def publish() -> None:
        try:
            refresh_artefacts.apply_async(kwargs={"engines": engines}, countdown=countdown)
        except Exception:  # broker down (or, eager, the refresh itself failed): the flags remain
            logger.warning("refresh of %s not queued; it stays requested", engines, exc_info=True)

    transaction.on_commit(publish)


def refresh_requests_mark(*, engines: Collection[str]) -> None:
    """Flag ``engines`` as behind the catalogue as of now (one row per engine, upserted)."""
    now = timezone.now()
    RefreshRequest.objects.bulk_create(
        [RefreshRequest(engine=engine, requested_at=now) for engine in engines],
        update_conflicts=True,
        unique_fields=["engine"],
        update_fields=["requested_at"],
    )


def refresh_requests_clear(*, engines: Collection[str], before: datetime) -> int:
    """Clear the flags of ``engines`` raised before ``before`` (a build queued or run after them
    snapshots the catalogue later, so it covers them); later flags stay."""
    deleted, _ = RefreshRequest.objects.filter(engine__in=engines, requested_at__lte=before).delete()
    return deleted


def refresh_requested_dispatch() -> list[str]:
    """Queue a refresh of the engines whose dirty flag is older than the debounce window (their
    refresh was never queued, e.g. the broker was down); returns those engines. Run periodically
    (``recsys.refresh_requested``) and before every ``precompute``."""
    if not settings.RECSYS_AUTO_REFRESH:
        return []
    settle = timedelta(seconds=2 * max(0, settings.RECSYS_PRECOMPUTE_DEBOUNCE_S) + 30)
    engines = sorted(
        set(
            RefreshRequest.objects.filter(requested_at__lt=timezone.now() - settle).values_list(
                "engine", flat=True
            )
        )
        & set(enabled_engine_names())
    )
    if engines:
        logger.info("catalogue changes not yet picked up by %s: refresh queued", engines)
        _queue_refresh(engines, countdown=0)
    return engines


def refresh_engines(*, engines: Collection[str]) -> list[str]:
    """Start an incremental build of each engine; returns the engines skipped because a build
    was already open (its snapshot may predate the change, so the caller retries them later)."""
    cache.delete(REFRESH_LOCK_KEY)
    busy = []
    for engine in engines:
        if engine_unavailable_reason(engine) is not None:
            continue
        precompute_reap_stale(engine=engine)
        if Artefact.objects.filter(engine=engine, status=Artefact.Status.RUNNING).exists():
            busy.append(engine)  # a pending run has not snapshotted yet: it will see the change
        else:
            try:
                precompute_start(engine=engine)
            except EmptyCatalogue:  # every painting deleted: the active artefact stays, unused
                logger.info("refresh of %s skipped: the catalogue is empty", engine)
            except Exception:  # without a broker the build runs here; its row records the error
                logger.exception("refresh of %s failed", engine)
    return busy
