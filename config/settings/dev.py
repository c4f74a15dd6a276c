"""Local development: the embedded default (SQLite, a filesystem Celery broker with the worker
`make run` starts) unless the environment says otherwise; DEBUG on."""

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool, env_int

DEBUG = env_bool("DJANGO_DEBUG", True)
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
# `manage.py runserver` (make run) serves every request on a new thread, and a connection kept for
# reuse belongs to its thread: with CONN_MAX_AGE > 0 finished threads keep theirs open until
# PostgreSQL's max_connections is used up (409 of 1,000 calls from 20 clients failed). Each
# request closes its connection here; gunicorn (production) keeps reusing them.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0)  # noqa: F405
