"""`make run` in PostgreSQL mode under load: `manage.py runserver` (a thread per request) with the
development settings answers 1,000 calls from 20 concurrent clients without a 5xx, and holds at
most about one database connection per concurrent client (CONN_MAX_AGE 0 there), instead of one
per finished thread until PostgreSQL's max_connections is used up.

Bounded: 20 clients, 127.0.0.1 only, a few seconds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.factories import PaintingFactory

CLIENTS = 20
CALLS = 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_runserver_on_postgresql_answers_20_clients_without_5xx_or_connection_pile_up(tmp_path):
    PaintingFactory.create_batch(5)
    port = _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": _database_url(),
        "API_THROTTLE_ANON": "100000/min",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    name = connection.settings_dict["NAME"]
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        with psycopg.connect(_database_url().rsplit("/", 1)[0] + "/postgres", autocommit=True) as monitor:
            while not done.is_set():
                count = monitor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]
                ).fetchone()[0]
                peak[0] = max(peak[0], count)
                time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    try:
        deadline = time.monotonic() + 60
        while _try(port) is None and time.monotonic() < deadline:
            time.sleep(0.3)
        watcher.start()
        urls = [f"http://127.0.0.1:{port}/api/v1/paintings/"] * CALLS
        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(pool.map(_get, urls))
    finally:
        done.set()
        if watcher.is_alive():
            watcher.join()
        server.terminate()
        server.communicate(timeout=30)
    assert [s for s in statuses if s >= 500] == []
    assert statuses.count(200) == CALLS
    # the test's own connection + at most one per concurrent client (+ one for a late close)
    assert peak[0] <= CLIENTS + 3, peak[0]


def _try(port: int) -> int | None:
    try:
        return _get(f"http://127.0.0.1:{port}/api/v1/recommenders/")
    except OSError:
        return None
