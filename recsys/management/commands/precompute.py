"""``manage.py precompute [--engine NAME|all] [--full] [--async [--start-timeout S]]``: build
engine artefacts.

Every start first closes abandoned builds (``services.precompute_reap_stale``). With ``--async``
the command reports success only for a build a worker has started: it fails (exit 1) if the
broker is unreachable (the run is failed, nothing stays pending) or if no worker starts the
build within ``--start-timeout`` seconds (the build stays queued for a worker that comes later;
the reaper fails it after ``RECSYS_STALE_RUN_S`` if none does).
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

from config.exceptions import ApplicationError
from recsys.build import services
from recsys.engines.registry import enabled_engine_names, engine_names, engine_unavailable_reason
from recsys.models import Artefact


class NotStarted(Exception):
    """A queued build that no worker is running."""


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
        row = services.precompute_start(engine=name, full=full)
        deadline = time.monotonic() + self.start_timeout
        while True:
            row.refresh_from_db()
            if row.status != Artefact.Status.PENDING or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        if row.status == Artefact.Status.FAILED:
            raise NotStarted(f"artefact {row.version} failed: {row.error}")
        if row.status == Artefact.Status.PENDING:
            raise NotStarted(
                f"artefact {row.version} is queued (task {row.celery_task_id}) but no worker started it "
                f"within {self.start_timeout:g} s: is a worker running (make worker)? It starts when one "
                f"takes it, or is failed after RECSYS_STALE_RUN_S={settings.RECSYS_STALE_RUN_S} s."
            )
        state = "finished" if row.status == Artefact.Status.READY else "started by a worker"
        return self.style.SUCCESS(f"{name}: artefact {row.version} {state} (task {row.celery_task_id})")

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
