"""An isolated artefact folder and a fresh artefact cache per test."""

import pytest

from recsys.artefacts.reader import artefact_cache


@pytest.fixture(autouse=True)
def _isolated_artefacts(settings, tmp_path):
    settings.RECSYS_ARTEFACT_ROOT = tmp_path / "artefacts"
    artefact_cache.clear()
    yield
    artefact_cache.clear()
