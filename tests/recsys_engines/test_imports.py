"""A web process that serves pages and recommendations and reports the engines' availability
never imports torch, transformers or gensim (about 320 MB and 3-5 s per process): only
computing, or encoding a search query, loads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

HEAVY = ("torch", "transformers", "gensim")

PROBE = f"""
import json, sys
import django
django.setup()
from django.conf import settings
import config.urls  # every view module, the API's included
from recsys.engines.registry import engine_unavailable_reason
reasons = {{name: engine_unavailable_reason(name) for name in settings.RECSYS_ENGINES}}
print(json.dumps({{"heavy": [m for m in {HEAVY!r} if m in sys.modules], "checked": sorted(reasons)}}))
"""


@pytest.mark.slow  # a fresh interpreter
def test_urls_and_engine_availability_import_no_model_library():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"heavy": [], "checked": sorted(settings.RECSYS_ENGINES)}
