"""Settings of the worker and command subprocesses of test_worker.py: the test settings plus
the slow fake engine (its sleep from ``SLOW_ENGINE_SLEEP_S``) as the only enabled engine."""

import os

from config.settings.test import *  # noqa: F403

RECSYS_ENGINES = {
    "slow": {
        "BACKEND": "tests.recsys_pipeline.fakes.SlowEngine",
        "MODEL": "slow-model",
        "OPTIONS": {"sleep_s": float(os.environ.get("SLOW_ENGINE_SLEEP_S", "1"))},
    },
}
RECSYS_ENABLED_ENGINES = ["slow"]
