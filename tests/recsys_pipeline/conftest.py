"""Fixtures of the pipeline tests: an isolated artefact folder per test, fake engines next to
a small real LDA, and a catalogue of a few themes with distinct vocabularies."""

from __future__ import annotations

import pytest

from recsys.artefacts.files import final_dir
from recsys.artefacts.reader import artefact_cache, open_artefact
from recsys.engines.registry import clear_engine_cache
from recsys.models import Artefact
from tests.factories import ArtistFactory, PaintingFactory, StoryGroupFactory
from tests.recsys_pipeline.fakes import FakeEngine, FakeFittedEngine

FAKE = "tests.recsys_pipeline.fakes"

THEMES = {
    "sea": "Stormy sea with sailing ships, waves crashing against rocks, sailors battling the storm wind",
    "flowers": "Still life of roses, tulips and lilies arranged in a porcelain vase beside fruit on a table",
    "portrait": "Portrait of a noblewoman wearing a black silk dress and pearl necklace, seated gloves fan",
    "winter": "Frozen village in winter, skaters on the icy canal, snow covered roofs and bare trees",
}


@pytest.fixture(autouse=True)
def pipeline_settings(settings, tmp_path):
    settings.RECSYS_ARTEFACT_ROOT = tmp_path / "artefacts"
    settings.RECSYS_ENGINES = {
        "fake": {"BACKEND": f"{FAKE}.FakeEngine", "MODEL": "fake-model", "OPTIONS": {}},
        "fitted": {"BACKEND": f"{FAKE}.FakeFittedEngine", "OPTIONS": {}},
        "missing": {"BACKEND": f"{FAKE}.MissingModelEngine", "MODEL": "nowhere/missing", "OPTIONS": {}},
        "lda": {
            "BACKEND": "recsys.engines.lda.LdaEngine",
            "OPTIONS": {"num_topics": None, "topic_range": [2, 4, 1], "passes": 20, "seed": 7, "no_below": 2},
        },
    }
    settings.RECSYS_ENABLED_ENGINES = ["fake", "fitted", "missing", "lda"]
    settings.RECSYS_BATCH_SIZE = 3
    settings.RECSYS_ARTEFACT_KEEP = 3
    settings.RECSYS_DENSE_MAX_ITEMS = 1000
    settings.RECSYS_NEIGHBOURS_K = 5
    settings.RECSYS_AUTO_REFRESH = False
    FakeEngine.calls.clear()
    FakeEngine.flaky_seen.clear()
    FakeFittedEngine.fits = 0
    clear_engine_cache()
    artefact_cache.clear()
    yield
    clear_engine_cache()
    artefact_cache.clear()


def make_painting(theme: str, n: int = 0, **kwargs):
    """A painting of ``theme``: its theme text plus a variant word, its own artist and group."""
    return PaintingFactory(
        title=kwargs.pop("title", f"{theme.title()} study {n}"),
        description=kwargs.pop("description", THEMES[theme]),
        artist=ArtistFactory(name=f"Master of the {theme}"),
        story_group=StoryGroupFactory(slug=f"{theme}-group", name=f"{theme.title()} scenes"),
        **kwargs,
    )


@pytest.fixture
def catalogue(db):
    """Three paintings per theme, in creation (pk) order."""
    return [make_painting(theme, n) for theme in THEMES for n in range(3)]


def loaded(row: Artefact):
    return open_artefact(final_dir(row.engine, row.version))
