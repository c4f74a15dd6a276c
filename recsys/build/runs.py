"""Bookkeeping of build runs: the Artefact row as a job record (create, log, heartbeat, fail)
and the reaper of abandoned runs.

Heartbeat. An open run proves it is alive by ``Artefact.heartbeat_at``: set when the row is
created, at the start and end of each step, when each encode batch finishes, and every
``RECSYS_HEARTBEAT_S`` by a background thread while a step works (``keep_alive``), so a long
step (an LDA coherence sweep, BLIP's ITM scoring in finalize) stays alive however long it takes.
A worker killed with ``kill -9``, or a task that never reached a worker (queued while the broker
was down), stops the heartbeat; ``reap_stale_runs`` then fails the run once its heartbeat is
older than ``RECSYS_STALE_RUN_S``, so the engine's next run may start. The previously active
artefact stays active throughout.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from recsys.artefacts import files, store
from recsys.engines.base import Engine
from recsys.models import Artefact

logger = logging.getLogger(__name__)


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def new_version(engine: str) -> str:
    return f"{engine}-{timezone.now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def create_run(*, engine: Engine, celery_task_id: str = "") -> Artefact:
    """A pending row for a new version (the caller holds the open-run constraint)."""
    version = new_version(engine.name)
    return Artefact.objects.create(
        engine=engine.name,
        version=version,
        model_id=engine.model_id or "",
        params=jsonable(engine.params()),
        path=f"{engine.name}/{version}",
        celery_task_id=celery_task_id,
        heartbeat_at=timezone.now(),
    )


def open_row(artefact_id: int, *statuses: str) -> Artefact | None:
    """The row if it exists and has one of ``statuses``."""
    row = Artefact.objects.filter(pk=artefact_id).first()
    return row if row is not None and row.status in statuses else None


def log_line(artefact_id: int, message: str) -> None:
    """Append to the row's log in one UPDATE (batch tasks log concurrently)."""
    line = f"{timezone.now():%Y-%m-%d %H:%M:%S} {message}\n"
    Artefact.objects.filter(pk=artefact_id).update(
        log=Concat(F("log"), Value(line), output_field=TextField())
    )
    logger.info("artefact %s: %s", artefact_id, message)


def heartbeat(artefact_id: int) -> bool:
    """Record a sign of life of an open run; False if the run is no longer open."""
    return bool(
        Artefact.objects.filter(pk=artefact_id, status__in=Artefact.OPEN_STATUSES).update(
            heartbeat_at=timezone.now()
        )
    )


@contextmanager
def keep_alive(artefact_id: int) -> Iterator[None]:
    """Beat at the start and end of the block and every ``RECSYS_HEARTBEAT_S`` while it runs.

    The beats in between come from a daemon thread with its own database connection (closed
    when the block ends); a process that dies takes the thread with it, so the beats stop."""
    heartbeat(artefact_id)
    interval = float(settings.RECSYS_HEARTBEAT_S)
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(interval):
                heartbeat(artefact_id)
        except Exception:  # a lost connection must not kill the step; the next beat may work
            logger.warning("artefact %s: heartbeat failed", artefact_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=beat, name=f"artefact-{artefact_id}-heartbeat", daemon=True)
    if interval > 0:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
    heartbeat(artefact_id)


def mark_failed(
    artefact_id: int, error: BaseException | str, details: str = "", *, only_if: Q | None = None
) -> bool:
    """Record the failure on an open run (that also matches ``only_if``) and remove its staging
    folder; the active artefact (if any) is untouched. Returns False if the run was no longer
    open (or no longer matched)."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    text = f"{timezone.now():%Y-%m-%d %H:%M:%S} FAILED {message}\n{details}"
    rows = Artefact.objects.filter(pk=artefact_id, status__in=Artefact.OPEN_STATUSES)
    if only_if is not None:
        rows = rows.filter(only_if)
    updated = rows.update(
        status=Artefact.Status.FAILED,
        error=message[:4000],
        finished_at=timezone.now(),
        log=Concat(F("log"), Value(text), output_field=TextField()),
    )
    row = Artefact.objects.filter(pk=artefact_id).only("engine", "version").first()
    if updated and row is not None:
        store.remove_tree(files.staging_dir(row.engine, row.version))
    return bool(updated)


def resume_count(row: Artefact) -> int:
    """How many times the reaper has re-queued this run (counted in its log)."""
    return row.log.count(RESUMED)


RESUMED = "resumed by the reaper"


def reap_stale_runs(
    *,
    engine: str | None = None,
    recover: Callable[[Artefact], bool] | None = None,
    resume: Callable[[Artefact], str | None] | None = None,
    queued: Callable[[], set[int] | None] | None = None,
) -> list[int]:
    """Deal with every open run (of ``engine``, or of all engines) whose last heartbeat is older
    than ``RECSYS_STALE_RUN_S``; returns the ids of those it closed (finished or failed).

    In order: a run with a task still waiting in the broker's queue (``queued()``: the ids
    ``recsys.build.queue_probe`` finds, asked once and only if a run is stale; None: unknown) is
    alive, and beats; ``recover(row)`` may
    finish a run whose work is complete (True); ``resume(row)`` may re-queue its remaining work
    (returns what it did, logged; the finished batches are kept and reused), at most
    ``RECSYS_RESUME_MAX`` times a run; the others are failed. A run that beats between the query
    and the update is left alone (the update re-checks the heartbeat)."""
    cutoff = timezone.now() - timedelta(seconds=settings.RECSYS_STALE_RUN_S)
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    rows = Artefact.objects.filter(stale, status__in=Artefact.OPEN_STATUSES)
    if engine is not None:
        rows = rows.filter(engine=engine)
    reaped = []
    waiting: set[int] | None = None
    for n, row in enumerate(rows.order_by("pk")):
        if n == 0 and queued is not None:
            waiting = queued()
        if waiting is not None and row.pk in waiting:
            heartbeat(row.pk)  # its next task waits in the queue: alive, not abandoned
            continue
        seen = f"{row.heartbeat_at:%Y-%m-%d %H:%M:%S}" if row.heartbeat_at else "its creation"
        if recover is not None and recover(row):
            log_line(row.pk, f"recovered by the reaper: no sign of life since {seen}, work complete")
            reaped.append(row.pk)
            continue
        if resume is not None and resume_count(row) < settings.RECSYS_RESUME_MAX:
            done = resume(row)
            if done is not None:
                heartbeat(row.pk)
                attempt = f"{resume_count(row) + 1}/{settings.RECSYS_RESUME_MAX}"
                log_line(row.pk, f"{RESUMED} ({attempt}): no sign of life since {seen}; {done}")
                logger.warning("artefact %s: %s: %s", row.pk, RESUMED, done)
                continue
        message = (
            f"abandoned: {row.status} with no sign of life since {seen} (RECSYS_STALE_RUN_S="
            f"{settings.RECSYS_STALE_RUN_S}); its worker died or its task never reached one"
        )
        if mark_failed(row.pk, message, only_if=stale):
            logger.warning("artefact %s: %s", row.pk, message)
            reaped.append(row.pk)
    return reaped


def seconds_silent(row: Artefact) -> float:
    """Seconds since the run's last sign of life (its creation if it never beat)."""
    last = row.heartbeat_at or row.created_at
    return (timezone.now() - last).total_seconds()
