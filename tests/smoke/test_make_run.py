"""`make run`, the README's first command, end to end on the embedded default (SQLite, the
filesystem broker, the background worker), as a newcomer meets it.

The real target runs in its own process group, on a fresh VAR_DIR (a clean checkout's state) and
a free port, importing a slice of the real sample sets (CATALOG_SAMPLE_DIR) and computing the LDA
engine only, so the first recommender is ready within seconds. A signed-in visitor then signs up
on the site, rates on the painting page, takes an API token, rates through the API (one, again,
several at once) and gets recommendations from the API and the site; the demo admin signs in.
Finally make's group is stopped as Ctrl-C would, and the worker must go with it. Any 5xx answer,
in a response or in the server's log, fails the test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.catalog.test_command import copy_sample

pytestmark = pytest.mark.slow

SLICE = 40  # rows of each of the four sample sets
#: what this test changes in the embedded default: only LDA is computed, with a fixed topic count
ENGINE_ENV = {"RECSYS_ENABLED_ENGINES": "lda", "RECSYS_LDA_TOPICS": "4", "RECSYS_LDA_PASSES": "5"}
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
START_TIMEOUT_S = 300  # venv check, migrate, collectstatic, import, demo admin, worker, server
READY_TIMEOUT_S = 300  # the worker's LDA build of the slice
STOP_TIMEOUT_S = 60
PAGE_LAG_S = 10  # the site's status memo (RECSYS_STATUS_LOCAL_S, 2 s), with room under load
RACERS = 8  # concurrent first ratings of one painting
SERVER_ERROR = re.compile(r'" 5\d\d ')  # runserver's request log: "GET /path HTTP/1.1" 500 123


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes_with(marker: str) -> list[int]:
    """Pids of this user's processes whose environment holds ``marker`` (``VAR_DIR=<this test's>``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:  # gone, or not ours
                continue
    return found


@dataclass
class Site:
    url: str
    var: Path
    log: Path
    proc: subprocess.Popen
    marker: str
    statuses: list[tuple[str, str, int]] = field(default_factory=list)

    def session(self) -> requests.Session:
        """A client whose every answer is recorded (method, path, status)."""
        session = requests.Session()

        def record(response: requests.Response, *args: object, **kwargs: object) -> None:
            path = response.request.path_url
            self.statuses.append((response.request.method, path, response.status_code))

        session.hooks["response"].append(record)
        return session

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_log(self) -> str:
        path = self.var / "worker.log"
        return path.read_text(errors="replace") if path.exists() else "(no worker.log)"

    def stop(self) -> int | None:
        """SIGTERM to make's process group (what Ctrl-C or a service manager sends); its exit code."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
                return None
        return self.proc.returncode


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    sample = copy_sample(tmp_path / "sample", lambda _name, rows: rows[:SLICE])
    var = tmp_path / "var"
    port = _free_port()
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env |= {"VAR_DIR": str(var), "CATALOG_SAMPLE_DIR": str(sample), "PYTHONUNBUFFERED": "1", **ENGINE_ENV}
    log = tmp_path / "make-run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Site(url=f"http://127.0.0.1:{port}", var=var, log=log, proc=proc, marker=f"VAR_DIR={var}")
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, f"make run exited ({proc.returncode}):\n{running.output()[-5000:]}"
            assert time.monotonic() < deadline, f"make run did not serve:\n{running.output()[-5000:]}"
            try:
                if requests.get(f"{running.url}/api/v1/recommenders/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(1)
        yield running
    finally:
        running.stop()
        for pid in _processes_with(running.marker):  # only if make run left one behind
            os.kill(pid, signal.SIGKILL)


def _brief(response: requests.Response) -> str:
    """Status, request and the start of the body (Django's debug page names the exception first)."""
    text = re.sub(r"\s+", " ", response.text)
    return f"{response.status_code} {response.request.method} {response.request.path_url}: {text[:800]}"


def _csrf_post(session: requests.Session, url: str, form_page: str, data: dict) -> requests.Response:
    assert session.get(form_page).status_code == 200
    token = session.cookies["csrftoken"]
    return session.post(url, data={**data, "csrfmiddlewaretoken": token}, allow_redirects=False)


def _wait_until_ready(site: Site, recommender: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        status = requests.get(f"{site.url}/api/v1/recommenders/{recommender}/", timeout=10).json()
        if status["status"] == "ready":
            return
        assert time.monotonic() < deadline, f"{recommender} not ready: {status}\n{site.worker_log()[-5000:]}"
        time.sleep(2)


def _recommendations_page(
    web: requests.Session, site: Site, rated: list[str]
) -> tuple[requests.Response, set[str]]:
    """The site's recommendations page and the paintings it links (rated ones aside), read again
    while it is still "getting ready": the web process memoises the statuses it read for
    RECSYS_STATUS_LOCAL_S (2 s), so the worker's activation may reach it that much later."""
    deadline = time.monotonic() + PAGE_LAG_S
    while True:
        page = web.get(f"{site.url}/recommendations/")
        shown = set(re.findall(r'href="/paintings/([^/"?]+)/', page.text)) - set(rated)
        if shown or page.status_code != 200 or time.monotonic() > deadline:
            return page, shown
        time.sleep(0.5)


def test_a_signed_in_visitor_rates_and_gets_recommendations_then_make_run_stops(site):
    api = f"{site.url}/api/v1"
    paintings = requests.get(f"{api}/paintings/", params={"page_size": 8}, timeout=30).json()["results"]
    ids = [painting["id"] for painting in paintings]
    assert len(ids) == 8

    # the site: sign up (signed in at once), rate one painting on its page
    web = site.session()
    password = "smoke-Test-pass-92"
    signup = _csrf_post(
        web,
        f"{site.url}/accounts/signup/",
        f"{site.url}/accounts/signup/",
        {
            "username": "newcomer",
            "email": "newcomer@example.org",
            "password1": password,
            "password2": password,
        },
    )
    assert signup.status_code == 302, _brief(signup)
    rated_on_page = _csrf_post(
        web, f"{site.url}/paintings/{ids[0]}/rate/", f"{site.url}/paintings/{ids[0]}/", {"value": "5"}
    )
    assert rated_on_page.status_code == 302, _brief(rated_on_page)
    assert web.get(f"{site.url}/my/ratings/").status_code == 200

    # the API, with a token of the same account
    client = site.session()
    token = client.post(f"{api}/auth/token/", json={"username": "newcomer", "password": password})
    assert token.status_code == 201, _brief(token)
    client.headers["Authorization"] = f"Token {token.json()['token']}"
    first = client.post(f"{api}/me/ratings/", json={"painting": ids[1], "value": 4})
    again = client.post(f"{api}/me/ratings/", json={"painting": ids[1], "value": 2})
    bulk = client.post(f"{api}/me/ratings/bulk/", json={"ratings": {ids[2]: 1, ids[3]: 5, ids[1]: 3}})
    assert (first.status_code, again.status_code, bulk.status_code) == (201, 200, 200), [
        _brief(r) for r in (first, again, bulk)
    ]
    # the same first rating sent at once by several clients (a double-clicking app): one insert
    barrier = threading.Barrier(RACERS)

    def race(i: int) -> int:
        racer = site.session()
        racer.headers["Authorization"] = client.headers["Authorization"]
        barrier.wait(timeout=30)
        body = {"painting": ids[4], "value": 1 + i % 5}
        return racer.post(f"{api}/me/ratings/", json=body, timeout=60).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        raced = sorted(pool.map(race, range(RACERS)))
    assert raced == [200] * (RACERS - 1) + [201]
    mine = {r["painting"]["id"]: r["value"] for r in client.get(f"{api}/me/ratings/").json()["results"]}
    assert mine.pop(ids[4]) in range(1, 6)  # the last writer's value
    assert mine == {ids[0]: 5, ids[1]: 3, ids[2]: 1, ids[3]: 5}

    # recommendations, once the worker has computed LDA for the imported slice
    _wait_until_ready(site, "lda")
    answer = client.get(f"{api}/recommendations/", params={"n": 5})
    assert answer.status_code == 200, _brief(answer)
    recommended = [row["painting"]["id"] for row in answer.json()["results"]]
    assert answer.json()["recommender"] == "lda"
    assert len(recommended) == 5 and not set(recommended) & set(ids[:4])
    page, shown = _recommendations_page(web, site, rated=ids[:4])  # only paintings with an image
    assert page.status_code == 200 and len(shown) >= 3, _brief(page)

    # the demo admin printed by `make run` signs in
    admin = site.session()
    admin_password = re.search(r"password: (\S+)", site.output()).group(1)
    admin_username = re.search(r"username: (\S+)", site.output()).group(1)
    signed_in = _csrf_post(
        admin,
        f"{site.url}/admin/login/",
        f"{site.url}/admin/login/",
        {"username": admin_username, "password": admin_password, "next": "/admin/"},
    )
    assert signed_in.status_code == 302 and admin.get(f"{site.url}/admin/").status_code == 200

    code = site.stop()
    output = site.output()
    assert code is not None, f"make run ignored SIGTERM:\n{output[-3000:]}"
    assert _processes_with(site.marker) == [], "the background worker outlived make run"
    assert [s for s in site.statuses if s[2] >= 500] == []
    assert SERVER_ERROR.findall(output) == [], output[-5000:]
    assert "Traceback" not in output, output[-5000:]
    assert "Traceback" not in site.worker_log(), site.worker_log()[-5000:]
