"""The reaper inside every Celery worker: a thread of the worker's main process that runs
``recsys.build.services.precompute_reap_stale`` every ``RECSYS_REAP_EVERY_S`` (and once shortly after
the worker starts, so a worker restarted after a ``kill -9`` resumes the build it left at once).

A periodic *task* would wait in the same queue as the builds' batches: while every worker
process encodes, it expires unrun (``recsys.reap_stale_runs`` stays available for beat or by
hand). This thread needs no free pool process; several workers reaping at once are harmless
(every update re-checks the heartbeat)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import bootsteps

logger = logging.getLogger(__name__)

FIRST_DELAY_S = 5.0


class WorkerReaper(bootsteps.StartStopStep):
    """Worker bootstep (``config.celery`` adds it to every worker)."""

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        from django.conf import settings

        if settings.RECSYS_REAP_EVERY_S <= 0:
            return
        self._thread = threading.Thread(
            target=self._loop, args=(float(settings.RECSYS_REAP_EVERY_S),), name="recsys-reaper", daemon=True
        )
        self._thread.start()

    def stop(self, parent: Any) -> None:
        self._stop.set()

    def _loop(self, every_s: float) -> None:
        from django.db import connections

        from recsys.build.services import precompute_reap_stale

        delay = FIRST_DELAY_S
        while not self._stop.wait(delay):
            delay = every_s
            try:
                closed = precompute_reap_stale()
                if closed:
                    logger.warning("reaper closed abandoned builds: %s", closed)
            except Exception:  # the database or broker down: try again next time
                logger.warning("reaper failed", exc_info=True)
            finally:
                connections.close_all()  # this thread's connections only
