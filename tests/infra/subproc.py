"""Run Django in a child process with an exact environment, the way `make run` or a container does.

Settings are read once per process, so the only faithful way to test what an environment
produces is a fresh interpreter with only that environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

# Nothing from the developer's or CI's shell leaks in except what a process needs to start.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def manage(
    *args: str, env: dict[str, str], timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``python manage.py <args>`` with only ``env`` (plus PATH/HOME) in the environment."""
    base = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def python(code: str, *, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code`` in the checkout with only ``env`` (plus PATH/HOME); not checked."""
    base = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def shell_json(code: str, *, env: dict[str, str]) -> dict:
    """Run ``code`` in ``manage.py shell``; it must print one JSON object as its last line."""
    result = manage("shell", "--no-imports", "-c", code, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])
