"""The Celery application.

Broker and eager mode come from settings (``CELERY_*``), so the embedded default runs tasks
in-process and ``REDIS_URL`` switches to a real broker with separate worker processes.

Periodic tasks (run by ``celery beat``, embedded in the worker by ``make worker`` and compose
with ``--beat``) come from ``CELERY_BEAT_SCHEDULE`` in the settings. The reaper of abandoned
artefact builds is not one of them: it runs in a thread of every worker
(``recsys.build.worker_reaper``), so it never waits in the queue behind the builds' batches.
"""

import os

from celery import Celery

# Production unless told otherwise: manage.py and `make run`/`make worker` choose the dev settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

app = Celery("paintings")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from recsys.build.worker_reaper import WorkerReaper  # noqa: E402  (after the app: bootsteps only)

app.steps["worker"].add(WorkerReaper)
