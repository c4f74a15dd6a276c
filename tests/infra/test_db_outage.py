"""A database outage answers 503 with Retry-After (JSON under /api/, a plain page on the web),
logged once per outage instead of one traceback per request."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, ProgrammingError
from django.db.backends.base.base import BaseDatabaseWrapper

from config import db_outage

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _connection_refused() -> OperationalError:
    exc = OperationalError("connection failed: Connection refused")
    exc.__cause__ = psycopg.OperationalError("connection failed: Connection refused")
    return exc


@contextmanager
def database_down():
    with mock.patch.object(BaseDatabaseWrapper, "cursor", side_effect=_connection_refused()):
        yield


@pytest.fixture(autouse=True)
def _no_outage_yet():
    db_outage._outage_since = None
    yield
    db_outage._outage_since = None


def test_what_counts_as_an_outage():
    assert db_outage.is_database_outage(_connection_refused())
    shutdown = OperationalError("terminating connection due to administrator command")
    shutdown.__cause__ = psycopg.errors.AdminShutdown()
    assert db_outage.is_database_outage(shutdown)
    bug = ProgrammingError("relation does not exist")
    assert not db_outage.is_database_outage(bug)
    syntax = OperationalError("no such table: x")
    import sqlite3

    syntax.__cause__ = sqlite3.OperationalError("no such table: x")
    assert not db_outage.is_database_outage(syntax)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/paintings/", "/api/v1/recommenders/"])
def test_an_api_call_during_an_outage_is_a_json_503_with_retry_after(client, url, caplog):
    with database_down(), caplog.at_level(logging.INFO):
        response = client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.DATABASE_OUTAGE_RETRY_AFTER_S)
    assert response.json()["error"]["code"] == "database_unavailable"
    assert not [r for r in caplog.records if r.exc_info]  # no traceback


@pytest.mark.django_db
def test_a_web_page_during_an_outage_is_a_plain_503_page(client):
    with database_down():
        response = client.get("/paintings/")
    assert response.status_code == 503 and response["Retry-After"]
    assert response["Content-Type"].startswith("text/html")
    assert "cannot reach its database" in response.content.decode()


@pytest.mark.django_db
def test_an_outage_is_logged_once_and_its_end_once(client, caplog):
    with database_down(), caplog.at_level(logging.INFO, logger="config.db_outage"):
        for _ in range(5):
            client.get("/api/v1/paintings/")
            client.get("/paintings/")
    with caplog.at_level(logging.INFO, logger="config.db_outage"):
        assert client.get("/api/v1/paintings/").status_code == 200
        assert client.get("/api/v1/paintings/").status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "config.db_outage"]
    assert len(messages) == 2
    assert messages[0].startswith("database unavailable, answering 503")
    assert messages[1].startswith("database reachable again after")
    django_errors = [r for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR]
    assert django_errors == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_real_server_whose_postgresql_is_down_answers_503s_and_logs_one_line(tmp_path):
    """gunicorn with DATABASE_URL pointing at a port nothing listens on: a real refused connection."""
    port, dead = _free_port(), _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{dead}/paintings",
    }
    server = subprocess.Popen(
        [GUNICORN, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    statuses = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        for path in ["/api/v1/paintings/", "/paintings/", "/"] * 4:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20)
                statuses.append(200)
            except urllib.error.HTTPError as exc:
                statuses.append((exc.code, exc.headers["Retry-After"], exc.headers["Content-Type"]))
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    assert statuses[:3] == [
        (503, "10", "application/json"),
        (503, "10", "text/html; charset=utf-8"),
        (503, "10", "text/html; charset=utf-8"),
    ]
    assert len(set(statuses)) == 2  # every API call and every page the same
    assert log.count("database unavailable, answering 503") == 1
    assert "Traceback" not in log
