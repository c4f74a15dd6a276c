"""Every transformer engine end to end through ``recsys.build.services.precompute_engine``: a small
factory catalogue with generated images in MEDIA_ROOT, tiny local checkpoints (MiniLM: the real
packaged weights), and the published, active artefact checked by its numbers."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image

from catalog.models import Painting
from recsys.artefacts.reader import artefact_cache
from recsys.build.services import precompute_engine
from recsys.engines.blip import ITC_IMAGE, ITM_IDX, ITM_PROB
from recsys.serving.selectors import active_artefact
from tests.factories import ArtistFactory, PaintingFactory

TEXTS = [
    "A stormy sea with a sailing ship in the waves.",
    "Waves crash over a small boat in a storm.",
    "Portrait of a young woman in a blue dress.",
    "Still life of roses and tulips in a vase.",
    "A frozen canal with skaters in winter.",
]


def png_bytes(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def give_image(painting: Painting, seed: int) -> None:
    data = png_bytes(seed)
    painting.image.save(f"{painting.external_id}.png", ContentFile(data), save=False)
    painting.image_status = Painting.ImageStatus.OK
    painting.image_sha256 = hashlib.sha256(data).hexdigest()
    painting.save()


@pytest.fixture
def engine_settings(settings, tmp_path, tiny_models):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RECSYS_ARTEFACT_ROOT = tmp_path / "artefacts"
    engines = {name: dict(config) for name, config in settings.RECSYS_ENGINES.items()}
    for name in ("resnet", "clip", "blip"):
        engines[name]["MODEL"] = tiny_models[name]
    engines["blip"]["OPTIONS"] = {**engines["blip"]["OPTIONS"], "itm_top_k": 3}
    settings.RECSYS_ENGINES = engines
    settings.RECSYS_DENSE_MAX_ITEMS = 1000
    settings.RECSYS_NEIGHBOURS_K = 3
    artefact_cache.clear()
    yield
    artefact_cache.clear()


@pytest.fixture
def catalogue(db, engine_settings):
    """Five paintings; the first four have generated images, the last has text only."""
    artist = ArtistFactory(name="Anonymous")
    paintings = [
        PaintingFactory(title=f"Study {n}", description=text, artist=artist, story_group=None)
        for n, text in enumerate(TEXTS)
    ]
    for seed, painting in enumerate(paintings[:4], start=1):
        give_image(painting, seed)
    return paintings


def assert_cosine_artefact(loaded, expected_pks):
    assert sorted(loaded.painting_ids.tolist()) == sorted(expected_pks)
    embeddings = np.asarray(loaded.embeddings)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    similarity = np.asarray(loaded.similarity)
    np.testing.assert_array_equal(similarity, similarity.T)
    np.testing.assert_array_equal(np.diag(similarity), 1.0)
    np.testing.assert_allclose(similarity, embeddings @ embeddings.T, atol=1e-5)


@pytest.mark.parametrize("engine", ["clip", "blip", "minilm"])
def test_text_reading_engines_cover_every_painting(engine, catalogue):
    row = precompute_engine(engine=engine)
    assert row.is_active
    assert_cosine_artefact(active_artefact(engine=engine), [p.pk for p in catalogue])
    assert row.n_skipped == 0


def test_resnet_covers_paintings_with_images_and_skips_the_rest(catalogue):
    row = precompute_engine(engine="resnet")
    assert_cosine_artefact(active_artefact(engine="resnet"), [p.pk for p in catalogue[:4]])
    assert row.manifest["skipped"] == [
        {"pk": catalogue[4].pk, "external_id": catalogue[4].external_id, "reason": "no image"}
    ]


def test_clip_notes_the_text_only_painting(catalogue):
    row = precompute_engine(engine="clip")
    assert row.manifest["notes"] == {"no image: joint = unit text embedding": 1}


def test_blip_artefact_has_itm_lists_and_itc_embeddings(catalogue):
    precompute_engine(engine="blip")
    loaded = active_artefact(engine="blip")
    idx, prob = loaded.extra(ITM_IDX), loaded.extra(ITM_PROB)
    assert idx.shape == prob.shape == (5, 3)
    assert idx.min() >= 0  # every painting has text, so every candidate pair has a direction
    assert np.all((prob > 0) & (prob < 1))
    assert not np.any(idx == np.arange(5)[:, None])  # never a painting itself
    assert loaded.manifest["postprocess"]["itm_top_k"] == 3
    image_rows = np.linalg.norm(np.asarray(loaded.extra(ITC_IMAGE)), axis=1)
    text_only_row = loaded.row_of[catalogue[4].pk]
    assert image_rows[text_only_row] == 0.0
    np.testing.assert_allclose(np.delete(image_rows, text_only_row), 1.0, atol=1e-5)


def test_minilm_uses_the_packaged_weights(catalogue):
    row = precompute_engine(engine="minilm")
    assert row.model_id == settings.RECSYS_ENGINES["minilm"]["MODEL"]
    assert row.manifest["dim"] == 384
