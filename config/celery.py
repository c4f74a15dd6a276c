"""The Celery application.

Broker and eager mode come from settings (``CELERY_*``), so the embedded default runs tasks
in-process and ``REDIS_URL`` switches to a real broker with separate worker processes.

Periodic tasks (run by ``celery beat``, embedded in the worker by ``make worker`` and compose
with ``--beat``) come from ``CELERY_BEAT_SCHEDULE`` in the settings: the reaper of abandoned
artefact builds every ``RECSYS_REAP_EVERY_S``.
"""

import os

from celery import Celery
from celery.signals import worker_init

# Production unless told otherwise: manage.py and `make run`/`make worker` choose the dev settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

app = Celery("paintings")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def share_pool_size(sender: object = None, **kwargs: object) -> None:
    """Tell the pool processes how many of them share the machine (they inherit the environment):
    the transformer engines give torch cores // processes threads (``recsys.engines.hf``)."""
    concurrency = getattr(sender, "concurrency", None)
    if concurrency:
        os.environ["RECSYS_WORKER_PROCESSES"] = str(concurrency)
