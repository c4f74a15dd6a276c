"""What each environment produces: the embedded default, PostgreSQL + Redis, and production.

No code path differs between the modes; only these settings do.
"""

from __future__ import annotations

import pytest

from tests.infra.subproc import manage, python, shell_json

pytestmark = pytest.mark.slow  # each test reads the settings in a child process

GOOD_KEY = "Lq3n8PzV1xYc-7rT0wKe5mJ2uHb9sDf4gA6oNiR_kC1vX8zQ3yW5tE7pU0aS2dF4"

SNAPSHOT = """
import json
from django.conf import settings
from config.celery import app
print(json.dumps({
    "settings_module": settings.SETTINGS_MODULE,
    "db_engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "db_host": settings.DATABASES["default"].get("HOST", ""),
    "db_port": settings.DATABASES["default"].get("PORT", ""),
    "cache_backend": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION", ""),
    "broker_url": app.conf.broker_url,
    "result_backend": app.conf.result_backend,
    "eager": app.conf.task_always_eager,
    "media_root": str(settings.MEDIA_ROOT),
    "artefact_root": str(settings.RECSYS_ARTEFACT_ROOT),
    "debug": settings.DEBUG,
}))
"""


def test_no_environment_means_sqlite_a_filesystem_broker_and_local_folders(var_dir):
    snapshot = shell_json(SNAPSHOT, env={"VAR_DIR": str(var_dir)})
    assert snapshot["settings_module"] == "config.settings.dev"
    assert snapshot["db_engine"] == "django.db.backends.sqlite3"
    assert snapshot["db_name"] == str(var_dir / "db.sqlite3")
    assert snapshot["cache_backend"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert snapshot["cache_location"] == str(var_dir / "cache")
    assert (snapshot["broker_url"], snapshot["eager"]) == ("filesystem://", False)
    assert snapshot["result_backend"] == f"file://{var_dir / 'celery' / 'results'}"
    assert snapshot["media_root"] == str(var_dir / "media")
    assert snapshot["artefact_root"] == str(var_dir / "artefacts")


def test_embedded_default_queues_a_task_as_a_file_for_the_background_worker(var_dir):
    code = (
        "import json; from config.celery import app; "
        "print(json.dumps(app.tasks['celery.accumulate'].delay(7, 8).id))"
    )
    task_id = shell_json(code, env={"VAR_DIR": str(var_dir)})
    queued = [path.read_text() for path in (var_dir / "celery" / "queue").iterdir()]
    assert len(queued) == 1 and task_id in queued[0]


def test_eager_mode_runs_a_task_in_process_without_any_worker(var_dir):
    code = (
        "import json; from config.celery import app; "
        "print(json.dumps(app.tasks['celery.accumulate'].delay(7, 8).get(timeout=5)))"
    )
    assert shell_json(code, env={"VAR_DIR": str(var_dir), "CELERY_TASK_ALWAYS_EAGER": "1"}) == [7, 8]


def test_database_and_redis_urls_switch_to_postgres_and_a_real_broker(var_dir):
    redis_url = "redis://cache.example:6380/2"
    snapshot = shell_json(
        SNAPSHOT,
        env={
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": "postgres://paint:secret@db.example:5433/paintings",
            "REDIS_URL": redis_url,
        },
    )
    assert snapshot["db_engine"] == "django.db.backends.postgresql"
    assert (snapshot["db_host"], snapshot["db_port"], snapshot["db_name"]) == (
        "db.example",
        5433,
        "paintings",
    )
    assert (snapshot["broker_url"], snapshot["result_backend"]) == (redis_url, redis_url)
    assert snapshot["eager"] is False
    assert snapshot["cache_backend"] == "django.core.cache.backends.redis.RedisCache"
    assert snapshot["cache_location"] == redis_url


def test_celery_variables_override_the_redis_defaults(var_dir):
    snapshot = shell_json(
        SNAPSHOT,
        env={
            "VAR_DIR": str(var_dir),
            "REDIS_URL": "redis://cache.example:6379/0",
            "CELERY_BROKER_URL": "redis://broker.example:6379/1",
            "CELERY_TASK_ALWAYS_EAGER": "true",
        },
    )
    assert (snapshot["broker_url"], snapshot["eager"]) == ("redis://broker.example:6379/1", True)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_ALLOWED_HOSTS": "example.org"}, "Set the environment variable DJANGO_SECRET_KEY."),
        ({"DJANGO_SECRET_KEY": GOOD_KEY}, "Set the environment variable DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_production_settings_refuse_to_start_without_secret_key_and_hosts(var_dir, env, message):
    result = manage(
        "check",
        env={"VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings.prod", **env},
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_malformed_variable_is_reported_by_name(var_dir):
    result = manage("check", env={"VAR_DIR": str(var_dir), "DJANGO_DEBUG": "maybe"}, check=False)
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


def test_production_settings_turn_debug_and_the_demo_admin_off(var_dir):
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.DEBUG, settings.DEMO_ADMIN_ALLOWED, settings.SECURE_SSL_REDIRECT]))"
    )
    env = {
        "VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": GOOD_KEY,
        "DJANGO_ALLOWED_HOSTS": "example.org",
        "DJANGO_DEBUG": "1",  # ignored: production never runs with DEBUG
    }
    assert shell_json(code, env=env) == [False, False, True]


@pytest.mark.parametrize(
    "key",
    [
        "replace-with-a-long-random-string",  # .env.example
        "insecure-dev-key-change-me",  # the dev default
        "short-but-random-Xy7",
        "k" * 60,
        "abcde" * 10,  # 50 characters, 5 different: accepted before
        "abcdefghijklmnopqrstuvwxyz" * 2,  # many characters, one pattern
    ],
)
def test_production_refuses_placeholder_and_weak_secret_keys(var_dir, key):
    env = {
        "VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": key,
        "DJANGO_ALLOWED_HOSTS": "example.org",
    }
    result = manage("check", env=env, check=False)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is a placeholder or too weak" in result.stderr


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi", "config.celery"])
def test_entry_points_outside_manage_py_default_to_production_settings(var_dir, module):
    code = (
        f"import {module}; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
    )
    env = {"VAR_DIR": str(var_dir), "DJANGO_SECRET_KEY": GOOD_KEY, "DJANGO_ALLOWED_HOSTS": "example.org"}
    result = python(code, env=env)
    assert result.stdout.split() == ["config.settings.prod", "False"]
    without_key = python(code, env={"VAR_DIR": str(var_dir), "DJANGO_ALLOWED_HOSTS": "example.org"})
    assert "Set the environment variable DJANGO_SECRET_KEY." in without_key.stderr


def test_manage_py_keeps_the_dev_settings(var_dir):
    code = "import json; from django.conf import settings; print(json.dumps(settings.SETTINGS_MODULE))"
    assert shell_json(code, env={"VAR_DIR": str(var_dir)}) == "config.settings.dev"
