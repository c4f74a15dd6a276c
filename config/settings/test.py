"""Test settings: PostgreSQL (the production database) by default, fast hashing, isolated
media/artefact folders, eager tasks unless a test opts out.

``TEST_DATABASE_URL`` picks the database (default: PostgreSQL on 127.0.0.1:5432, which
``.ci/run`` starts when it is down, named after this checkout's folder so that two checkouts on one
machine never share a test database); pytest-django creates and drops ``test_<name>`` itself.
``TEST_DATABASE_URL=sqlite://`` runs on SQLite (in memory) with the embedded default's
transaction mode; ``make test``'s second pass does that with ``--db-vendor=sqlite``, skipping the
tests marked ``postgres`` (tests/conftest.py). Under pytest-xdist each worker process has its own
test database (pytest-django adds ``_gw<N>`` to the name) and its own temporary folders below.
"""

import hashlib
import tempfile
from pathlib import Path

import dj_database_url

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool, env_path, env_str

DEBUG = False
_CHECKOUT = hashlib.sha1(str(BASE_DIR).encode()).hexdigest()[:8]  # noqa: F405
DATABASES = {
    "default": dj_database_url.parse(
        env_str("TEST_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/paintings_{_CHECKOUT}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # as the embedded default (base.py): writers serialised from the start of each transaction
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
TEST_REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_TMP = Path(tempfile.mkdtemp(prefix="paintings-test-"))
MEDIA_ROOT = _TMP / "media"
STATIC_ROOT = _TMP / "static"
STATIC_ROOT.mkdir()  # whitenoise warns on every request when its root is missing
# TEST_* overrides let a test start a real Celery worker subprocess on the same database,
# artefact folder and Redis broker as the test process (tests/recsys_pipeline/test_worker.py).
RECSYS_ARTEFACT_ROOT = env_path("TEST_RECSYS_ARTEFACT_ROOT", _TMP / "artefacts")
RECSYS_ARTEFACT_CACHE = env_path("TEST_RECSYS_ARTEFACT_CACHE", _TMP / "artefact-cache")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "artefacts": ARTEFACT_STORAGE_DEFAULT,  # noqa: F405
}
CELERY_TASK_ALWAYS_EAGER = env_bool("TEST_CELERY_TASK_ALWAYS_EAGER", True)
CELERY_BROKER_URL = env_str("TEST_CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = env_str("TEST_CELERY_RESULT_BACKEND", "cache+memory://")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "anon": "10000/min",
        "user": "10000/min",
        "recommend_anon": "10000/min",
        "auth": "10000/min",
    },
}
RATE_LIMITS = {scope: "10000/min" for scope in RATE_LIMITS}  # noqa: F405
LOGIN_FAILURES_PER_ACCOUNT = LOGIN_FAILURES_PER_CLIENT = LOGIN_FAILURES_PER_ACCOUNT_CLIENT = 10000
RECSYS_PRECOMPUTE_DEBOUNCE_S = 0
RECSYS_STATUS_CACHE_S = 0  # tests of the status cache switch it on themselves
RECSYS_AUTO_REFRESH = False  # tests of the automatic refresh switch it on themselves
# Tests never reach the model hub: engines are given tiny local models by the tests themselves.
RECSYS_HF_OFFLINE = True
# eq. 1's centred weights: the suite's hand-worked rankings are eq. 1's; the served default
# ("demote", recsys.algorithms.demote) is tested with override_settings where it matters.
RECSYS_WEIGHTING = "centered"
RECSYS_DEFAULT_DECISION_PATH = ""  # tests of the evaluation's decision set it themselves
