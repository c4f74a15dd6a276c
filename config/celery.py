"""The Celery application.

Broker and eager mode come from settings (``CELERY_*``): the embedded default queues tasks on
kombu's filesystem transport to the worker ``make run`` starts (``CELERY_TASK_ALWAYS_EAGER=1``
runs them in the caller instead), and ``REDIS_URL`` switches to Redis with separate workers.

Periodic tasks come from ``CELERY_BEAT_SCHEDULE`` in the settings (the pick-up of refreshes owed by
catalogue changes). Exactly one scheduler runs them: embedded in the worker (``--beat``) by
``make run`` and ``make worker``, the ``beat`` service in docker compose, ``celery beat`` in
production. The reaper of abandoned artefact builds is not one of them: it runs in a thread of
every worker (``recsys.build.worker_reaper``), so it never waits in the queue behind the builds'
batches.
"""

import os

from celery import Celery
from celery.signals import worker_init

# Production unless told otherwise: manage.py and `make run`/`make worker` choose the dev settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

app = Celery("paintings")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from recsys.build.worker_reaper import WorkerReaper  # noqa: E402  (after the app: bootsteps only)

app.steps["worker"].add(WorkerReaper)


@worker_init.connect
def share_pool_size(sender: object = None, **kwargs: object) -> None:
    """Tell the pool processes how many of them share the machine (they inherit the environment):
    the transformer engines give torch cores // processes threads (``recsys.engines.torch_runtime``)."""
    concurrency = getattr(sender, "concurrency", None)
    if concurrency:
        os.environ["RECSYS_WORKER_PROCESSES"] = str(concurrency)
