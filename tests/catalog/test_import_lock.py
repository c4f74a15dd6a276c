"""One import at a time: a second ``import_catalog`` while one runs stops at once with one clear
line and a non-zero exit, and changes nothing (on PostgreSQL, with a second thread and a second
process; the SQLite lock file on its own)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections

from catalog.importing.lock import ADVISORY_LOCK_KEY, file_lock, import_lock
from catalog.importing.runner import INTERRUPTED
from catalog.models import ImportRun, Painting
from config.exceptions import ImportAlreadyRunning
from tests.catalog.conftest import run_import

RUNNING = r"An import is already running \(import run #{pk}, started \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\)\."


class PausedImport:
    """A real import in a thread of its own, paused after its first committed batch."""

    def __init__(self, manifest, *, batch_size: int = 2) -> None:
        self.paused, self.resume = threading.Event(), threading.Event()
        self.report = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(manifest, batch_size))

    def _progress(self, done: int, total: int) -> None:
        if done < total:
            self.paused.set()
            self.resume.wait(60)

    def _run(self, manifest, batch_size: int) -> None:
        try:
            self.report = run_import(manifest, batch_size=batch_size, progress=self._progress)
        except BaseException as exc:  # re-raised in the test's thread by finish()
            self.error = exc
        finally:
            connection.close()

    def __enter__(self) -> PausedImport:
        self.thread.start()
        assert self.paused.wait(60), "the first import never reached its second batch"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.resume.set()
        self.thread.join(60)

    def finish(self):
        self.resume.set()
        self.thread.join(60)
        if self.error is not None:
            raise self.error
        return self.report


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _import_catalog_process(manifest) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env["TEST_DATABASE_URL"] = _database_url()  # this test's database
    return subprocess.run(
        [sys.executable, "manage.py", "import_catalog", str(manifest), "--no-progress"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_second_import_in_another_thread_is_refused_and_changes_nothing(native_set):
    manifest = native_set(4)

    with PausedImport(manifest) as first:
        first_run = ImportRun.objects.get()
        with pytest.raises(CommandError, match=f"^{RUNNING.format(pk=first_run.pk)}$"):
            call_command("import_catalog", str(manifest), "--no-progress", stdout=io.StringIO())
        during = sorted(Painting.objects.values_list("external_id", flat=True))
        runs_during = ImportRun.objects.count()
        report = first.finish()

    assert during == ["p-1", "p-2"]  # the first import's committed batch, nothing from the second
    assert runs_during == 1
    assert report.summary() == "created 4, updated 0, unchanged 0, problems 0"
    assert run_import(manifest).summary() == "created 0, updated 0, unchanged 4, problems 0"


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_second_import_process_exits_non_zero_with_one_line_and_no_traceback(native_set):
    manifest = native_set(4)

    with PausedImport(manifest) as first:
        run_pk = ImportRun.objects.get().pk
        refused = _import_catalog_process(manifest)
        first.finish()
    after = _import_catalog_process(manifest)

    assert refused.returncode == 1
    [line] = refused.stderr.splitlines()  # one line, no traceback
    assert re.fullmatch(f"CommandError: {RUNNING.format(pk=run_pk)}", line), line
    assert after.returncode == 0, after.stderr
    assert "created 0, updated 0, unchanged 4, problems 0" in after.stdout


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_advisory_lock_is_released_when_its_holder_ends():
    held = pytest.raises(ImportAlreadyRunning, match=r"^An import is already running\.$")
    with import_lock(), held, import_lock():
        pass
    with import_lock():  # released: taken again at once
        pass


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_advisory_lock_is_released_before_its_session_ends(monkeypatch):
    # The server drops a closed session's locks only when its process has ended: an import
    # started in that moment was refused (a CI run saw it). So the holder's session is kept
    # open here, as a slow server would keep it, and the lock must be gone all the same.
    sessions = []
    create = connections.create_connection

    def kept_open(alias):
        session = create(alias)
        monkeypatch.setattr(session, "close", lambda: None)
        sessions.append(session)
        return session

    monkeypatch.setattr(connections, "create_connection", kept_open)
    with import_lock():
        pass
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s",
                [ADVISORY_LOCK_KEY >> 32, ADVISORY_LOCK_KEY & 0xFFFFFFFF],
            )
            assert cursor.fetchone() == (0,)
    finally:
        for session in sessions:
            type(session).close(session)


def test_the_lock_file_admits_one_holder_at_a_time(tmp_path):
    path = tmp_path / "db.sqlite3.import.lock"

    held = pytest.raises(ImportAlreadyRunning, match=r"An import is already running \(lock file .*\)\.")
    with file_lock(path), held, file_lock(path):
        pass
    with file_lock(path):
        pass


@pytest.mark.django_db
def test_a_run_left_running_by_a_dead_process_is_marked_failed_by_the_next_import(native_set):
    dead = ImportRun.objects.create(strict=False)

    report = run_import(native_set(1))

    dead.refresh_from_db()
    assert (dead.status, dead.error) == (ImportRun.Status.FAILED, INTERRUPTED)
    assert dead.finished_at is not None
    assert ImportRun.objects.get(pk=report.run_id).status == ImportRun.Status.DONE


@pytest.mark.django_db(transaction=True)
def test_an_import_while_the_lock_is_held_is_refused_and_writes_nothing_on_either_database(native_set):
    """The lock of this test's database (PostgreSQL: the advisory lock on a connection of its
    own; SQLite: the lock file), held here, stops ``import_catalog`` before it writes anything."""
    manifest = native_set(2)

    with import_lock(), pytest.raises(CommandError, match=r"^An import is already running"):
        call_command("import_catalog", str(manifest), "--no-progress", stdout=io.StringIO())

    assert (Painting.objects.count(), ImportRun.objects.count()) == (0, 0)
    assert run_import(manifest).summary() == "created 2, updated 0, unchanged 0, problems 0"
