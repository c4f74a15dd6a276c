"""Local development: the embedded default (SQLite, a filesystem Celery broker with the worker
`make run` starts) unless the environment says otherwise; DEBUG on."""

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
