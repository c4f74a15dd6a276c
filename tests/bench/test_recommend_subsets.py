"""bench/recommend.py runs any subset of the configured recommenders (issue 21, item 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BENCH = Path(settings.BASE_DIR) / "bench" / "recommend.py"


def run_bench(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), "--items", "60", "--calls", "3", "--out", str(out), *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.slow
def test_a_subset_without_blip_runs_with_the_seed_baseline(tmp_path: Path) -> None:
    result = run_bench("--recommenders", "resnet,tfidf,late-total", out=tmp_path)

    assert result.returncode == 0, result.stderr
    rows = [line.split(" | ")[0] for line in result.stdout.splitlines() if line.startswith("| ")]
    assert rows[1:4] == ["| resnet", "| tfidf", "| late-total"]
    assert len(list(tmp_path.glob("recommend-60-*.json"))) == 1


@pytest.mark.slow
def test_an_unknown_recommender_is_refused_by_name(tmp_path: Path) -> None:
    result = run_bench("--recommenders", "lda,nope", "--no-seed", out=tmp_path)

    assert result.returncode == 2
    assert "unknown recommender(s) nope" in result.stderr
