"""Flower refuses to start without authentication unless it listens on the loopback interface
only (flowerconfig.py, read by ``celery -A config flower`` from the repository root)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

CELERY = str(Path(sys.executable).with_name("celery"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flower(tmp_path, *args: str, **env: str) -> subprocess.Popen:
    base = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
    }
    return subprocess.Popen(
        [CELERY, "-A", "config", "flower", *args],
        cwd=settings.BASE_DIR,
        env=base | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _answers(port: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            time.sleep(0.3)
    raise AssertionError("Flower did not answer")


def test_flower_without_auth_on_every_interface_refuses_to_start(tmp_path):
    process = _flower(tmp_path, f"--port={_free_port()}")
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "Refusing to start Flower without authentication" in output


@pytest.mark.parametrize(
    ("args", "env", "status"),
    [
        (["--address=127.0.0.1"], {}, 200),  # no auth, but only this machine can reach it
        ([], {"FLOWER_BASIC_AUTH": "ops:a-long-password"}, 401),  # every interface, behind a login
    ],
)
def test_flower_starts_on_loopback_or_with_basic_auth(tmp_path, args, env, status):
    port = _free_port()
    process = _flower(tmp_path, f"--port={port}", *args, **env)
    try:
        assert _answers(port) == status
    finally:
        process.terminate()
        process.communicate(timeout=30)
