"""Local development: the embedded default (SQLite, eager tasks) unless the environment says otherwise."""

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
