"""Fixtures for the infrastructure tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    """A private VAR_DIR so the child process never writes into the checkout's var/."""
    return tmp_path / "var"
