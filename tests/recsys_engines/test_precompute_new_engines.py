"""DINOv2 and the multilingual engine end to end through ``recsys.build.services.precompute_engine``,
on tiny local checkpoints: the pipeline hands every painting's translations to xlmr."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from catalog.snapshot import painting_input
from recsys.artefacts.reader import artefact_cache
from recsys.build.services import precompute_engine
from recsys.engines.registry import clear_engine_cache, get_engine
from recsys.serving.selectors import active_artefact
from tests.factories import PaintingFactory
from tests.recsys_engines.test_precompute import give_image
from tests.recsys_engines.tiny_dinov2 import build_tiny_dinov2
from tests.recsys_engines.tiny_xlmr import build_tiny_xlmr


@pytest.fixture(scope="module")
def xlmr_dir(tmp_path_factory) -> str:
    return build_tiny_xlmr(tmp_path_factory.mktemp("tiny-xlmr"))


@pytest.fixture(scope="module")
def dinov2_dir(tmp_path_factory) -> str:
    return build_tiny_dinov2(tmp_path_factory.mktemp("tiny-dinov2"))


@pytest.fixture
def engine_settings(settings, tmp_path, xlmr_dir, dinov2_dir):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RECSYS_ARTEFACT_ROOT = tmp_path / "artefacts"
    engines = {name: dict(config) for name, config in settings.RECSYS_ENGINES.items()}
    engines["xlmr"]["MODEL"] = xlmr_dir
    engines["dinov2"]["MODEL"] = dinov2_dir
    settings.RECSYS_ENGINES = engines
    settings.RECSYS_DENSE_MAX_ITEMS = 1000
    settings.RECSYS_NEIGHBOURS_K = 2
    clear_engine_cache()
    artefact_cache.clear()
    yield
    artefact_cache.clear()
    clear_engine_cache()


@pytest.fixture
def catalogue(db, engine_settings):
    paintings = [
        PaintingFactory(title="storm", description="a stormy sea", artist=None, story_group=None,
                        translations={"nl": {"description": "een stormachtige zee"},
                                      "fr": {"description": "une mer déchaînée"}}),
        PaintingFactory(title="retrato", description="", artist=None, story_group=None),
        PaintingFactory(title="stilleven", description="appels en een kan", artist=None, story_group=None),
    ]  # fmt: skip
    give_image(paintings[0], 1)
    give_image(paintings[1], 2)
    return paintings


def test_xlmr_artefact_reads_every_language(catalogue, tmp_path):
    row = precompute_engine(engine="xlmr")
    loaded = active_artefact(engine="xlmr")
    assert row.is_active and sorted(loaded.painting_ids.tolist()) == sorted(p.pk for p in catalogue)
    stored = np.asarray(loaded.embeddings[loaded.row_of[catalogue[0].pk]])
    item = painting_input(catalogue[0])
    assert len(item.translations) == 2
    expected = get_engine("xlmr").encode([item], tmp_path).vectors[0]
    np.testing.assert_allclose(stored, expected / np.linalg.norm(expected), atol=1e-5)
    main_only = get_engine("xlmr").encode([dataclasses.replace(item, translations=())], tmp_path).vectors[0]
    assert float(stored @ main_only) < 1 - 1e-4  # the translations moved the vector


def test_dinov2_covers_the_paintings_with_images(catalogue):
    row = precompute_engine(engine="dinov2")
    loaded = active_artefact(engine="dinov2")
    assert sorted(loaded.painting_ids.tolist()) == sorted(p.pk for p in catalogue[:2])
    assert row.manifest["dim"] == 64  # CLS + mean patch token of the 32-d tiny model
    assert row.manifest["skipped"] == [
        {"pk": catalogue[2].pk, "external_id": catalogue[2].external_id, "reason": "no image"}
    ]
