"""The Celery application.

Broker and eager mode come from settings (``CELERY_*``): the embedded default queues tasks on
kombu's filesystem transport to the worker ``make run`` starts (``CELERY_TASK_ALWAYS_EAGER=1``
runs them in the caller instead), and ``REDIS_URL`` switches to Redis with separate workers.

Periodic tasks come from ``CELERY_BEAT_SCHEDULE`` in the settings: the reaper of abandoned
artefact builds every ``RECSYS_REAP_EVERY_S`` and the pick-up of refreshes owed by catalogue
changes. Exactly one scheduler runs them: embedded in the worker (``--beat``) by ``make run`` and
``make worker``, the ``beat`` service in docker compose, ``celery beat`` in production.
"""

import os

from celery import Celery

# Production unless told otherwise: manage.py and `make run`/`make worker` choose the dev settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

app = Celery("paintings")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
