"""``manage.py precompute [--engine NAME|all] [--full] [--async [--start-timeout S]]``: build
engine artefacts.

Every start first closes abandoned builds (``services.precompute_reap_stale``). With ``--async``
the command reports success only for a build a worker has started: it fails (exit 1) if the
broker is unreachable (the run is failed, nothing stays pending), if no worker starts the
build within ``--start-timeout`` seconds (it says whether the build waits in the queue behind
busy workers or no worker took it; it stays queued for a worker that comes later), or if the
engine's open build shows no sign of life and has no task queued (its worker died: the reaper
re-queues it, keeping its finished batches).
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from kombu.exceptions import OperationalError
from tqdm import tqdm

from config.exceptions import ApplicationError, EmptyCatalogue
from recsys.build import runs, services
from recsys.build.queue_probe import queued_artefact_ids
from recsys.engines.registry import enabled_engine_names, engine_names, engine_unavailable_reason
from recsys.models import Artefact


class NotStarted(Exception):
    """A queued build that no worker is running."""


STARTED, QUEUED, SILENT, UNKNOWN = "started", "queued", "silent", "unknown"


def build_state(row: Artefact) -> str:
    """An open run as the command reports it: ``started`` (it beat within three heartbeat
    intervals), ``queued`` (a task of it waits in the broker's queue), ``silent`` (no sign of life
    and nothing queued: its worker died or its task was lost), or ``unknown`` (no sign of life,
    and the broker's queue cannot be read)."""
    if row.status == Artefact.Status.RUNNING and runs.seconds_silent(row) <= 3 * settings.RECSYS_HEARTBEAT_S:
        return STARTED
    waiting = queued_artefact_ids()
    if waiting is None:
        return UNKNOWN
    return QUEUED if row.pk in waiting else SILENT


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class Command(BaseCommand):
    help = (
        "Compute the artefacts (vectors + similarities) of one engine or of all enabled engines. "
        "Runs here with a progress bar; --async queues the work for the Celery workers instead."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--engine",
            default="all",
            help=f"An engine ({', '.join(engine_names())}) or 'all' (enabled ones).",
        )
        parser.add_argument(
            "--full", action="store_true", help="Re-encode everything and refit; reuse nothing."
        )
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="Queue on the Celery broker and return once a worker has started the build.",
        )
        parser.add_argument(
            "--start-timeout",
            type=float,
            default=30.0,
            help="With --async: seconds to wait for a worker to start the build (default 30).",
        )

    def handle(
        self, *args: Any, engine: str, full: bool, run_async: bool, start_timeout: float, **options: Any
    ) -> None:
        # A terminated run (`make run` stopping, a supervisor) unwinds like Ctrl-C, so its
        # artefact row is marked failed instead of blocking the engine as "running".
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        if engine == "all":
            engines = enabled_engine_names()
        elif engine in settings.RECSYS_ENGINES:
            engines = [engine]
        else:
            raise CommandError(f"Unknown engine {engine!r}; choose one of: all, {', '.join(engine_names())}.")
        if run_async and settings.CELERY_TASK_ALWAYS_EAGER:
            self.stderr.write("No Celery broker configured (REDIS_URL): --async runs the work here.")

        if any(engine_unavailable_reason(name) is None for name in engines):
            try:  # one message for every engine that could build, not a refused build each
                services.require_paintings(engine=engine)
            except EmptyCatalogue as exc:
                raise CommandError(exc.message) from None
        for pk in services.precompute_reap_stale():
            self.stderr.write(self.style.WARNING(f"closed abandoned build (artefact {pk}): no heartbeat"))
        self.start_timeout = start_timeout
        failed: list[str] = []
        for name in engines:
            reason = engine_unavailable_reason(name)
            if reason is not None:
                self.stderr.write(self.style.WARNING(f"{name}: unavailable, skipped: {reason}"))
                if engine != "all":
                    failed.append(name)
                continue
            try:
                self.stdout.write(self._start(name, full=full) if run_async else self._run(name, full=full))
            except ApplicationError as exc:
                self.stderr.write(self.style.ERROR(f"{name}: {exc.message}"))
                failed.append(name)
            except OperationalError as exc:
                self.stderr.write(self.style.ERROR(f"{name}: not queued, the broker is unreachable: {exc}"))
                failed.append(name)
            except NotStarted as exc:
                self.stderr.write(self.style.ERROR(f"{name}: {exc}"))
                failed.append(name)
            except Exception as exc:  # the row records the traceback; report and go on with the others
                self.stderr.write(self.style.ERROR(f"{name}: failed: {type(exc).__name__}: {exc}"))
                failed.append(name)
        if failed:
            raise CommandError(f"Not computed: {', '.join(failed)}.", returncode=1)

    def _start(self, name: str, *, full: bool) -> str:
        """Queue a build (or find the open one) and say which it is: started by a worker (exit 0),
        waiting in the queue, or silent with no task queued, i.e. its worker died (both exit 1)."""
        existing = Artefact.objects.filter(engine=name, status__in=Artefact.OPEN_STATUSES).exists()
        row = services.precompute_start(engine=name, full=full)
        created = not existing
        deadline = time.monotonic() + self.start_timeout
        while True:
            row.refresh_from_db()
            if row.status != Artefact.Status.PENDING or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        if row.status == Artefact.Status.FAILED:
            raise NotStarted(f"artefact {row.version} failed: {row.error}")
        if row.status == Artefact.Status.READY:
            return self.style.SUCCESS(f"{name}: artefact {row.version} finished (task {row.celery_task_id})")
        state = build_state(row)
        progress = f"{row.processed}/{row.total} paintings"
        task = f"task {row.celery_task_id}"
        if row.status == Artefact.Status.PENDING and state == QUEUED:
            raise NotStarted(
                f"artefact {row.version} is waiting in the queue: no worker took it within "
                f"{self.start_timeout:g} s ({task}). Is a worker running (make worker), or are all busy? "
                "It starts when one is free."
            )
        if row.status == Artefact.Status.PENDING:
            lost = ", and its task is not in the queue (lost)" if state == SILENT else ""
            raise NotStarted(
                f"artefact {row.version} is queued but no worker started it within {self.start_timeout:g} s"
                f"{lost} ({task}): is a worker running (make worker)? The reaper re-queues a lost task "
                f"once the build is silent for RECSYS_STALE_RUN_S={settings.RECSYS_STALE_RUN_S} s."
            )
        if state in (SILENT, UNKNOWN):
            queue = "has no task queued" if state == SILENT else "the queue cannot be read"
            raise NotStarted(
                f"artefact {row.version} was started but shows no sign of life for "
                f"{runs.seconds_silent(row):.0f} s and {queue} ({progress}): its worker probably died. "
                "The reaper re-queues it, keeping the finished batches, once it is silent for "
                f"RECSYS_STALE_RUN_S={settings.RECSYS_STALE_RUN_S} s."
            )
        verb = "started by a worker" if created else "already running"
        waiting = ", its next tasks waiting in the queue" if state == QUEUED else ""
        resumed = f", {runs.RESUMED}" if runs.RESUMED in row.log else ""
        return self.style.SUCCESS(
            f"{name}: artefact {row.version} {verb} ({progress}{waiting}{resumed}; {task})"
        )

    def _run(self, name: str, *, full: bool) -> str:
        if not full and (current := services.artefact_up_to_date(engine=name)) is not None:
            return f"{name}: up to date (artefact {current.version}, {current.n_items} paintings)"
        # tqdm redraws in place: give it the raw stream, not the line-ending OutputWrapper
        with tqdm(desc=name, unit="painting", file=getattr(self.stderr, "_out", self.stderr)) as bar:

            def progress(processed: int, total: int) -> None:
                bar.total = total
                bar.n = processed
                bar.refresh()

            row = services.precompute_engine(engine=name, full=full, progress=progress)
        counts = row.manifest["counts"]
        fit = row.manifest.get("fit", {})
        topics = f", {fit['num_topics']} topics" if "num_topics" in fit else ""
        return self.style.SUCCESS(
            f"{name}: artefact {row.version} active: {counts['items']} paintings "
            f"({counts['encoded']} encoded, {counts['reused']} reused, {counts['skipped']} skipped){topics}, "
            f"{row.duration_s or 0:.1f} s"
        )
