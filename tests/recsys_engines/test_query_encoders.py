"""Query encoders (search): a query goes through exactly the preprocessing of the artefact rows.

MiniLM with its real packaged weights; CLIP and ResNet on the tiny random checkpoints of conftest,
checked against the rows ``encode`` gives the same input and against the model run directly.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings

from config.exceptions import ValidationFailed
from recsys.engines.clip import ClipEngine
from recsys.engines.images import open_rgb
from recsys.engines.minilm import MiniLMEngine
from recsys.engines.resnet import ResNetEngine
from tests.recsys_engines.test_clip import framed, image_unit, text_unit

STORM = "A stormy seascape with a sinking ship."
PORTRAIT = "Portrait of a young woman in a blue dress."
FRUIT = "Still life with apples, pears and a jug on a wooden table."


@pytest.fixture(scope="module")
def minilm():
    config = settings.RECSYS_ENGINES["minilm"]
    return MiniLMEngine(name="minilm", model=config["MODEL"], options=config["OPTIONS"])


@pytest.fixture(scope="module")
def clip(tiny_models):
    return ClipEngine(name="clip", model=tiny_models["clip"], options={"batch_size": 4})


@pytest.fixture(scope="module")
def resnet(tiny_models):
    return ResNetEngine(name="resnet", model=tiny_models["resnet"], options={"batch_size": 4})


def test_minilm_query_is_the_row_its_text_gets_in_the_artefact(minilm, painting, tmp_path):
    rows = minilm.encode([painting(1, STORM), painting(2, PORTRAIT)], tmp_path).vectors
    query = minilm.encode_query_text(STORM)
    assert query.shape == (384,) and query.dtype == np.float32
    assert float(np.linalg.norm(query)) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(query, rows[0], atol=1e-6)


def test_minilm_query_strips_surrounding_blanks_as_the_artefact_does(minilm):
    np.testing.assert_allclose(minilm.encode_query_text(f"  {STORM}\n"), minilm.encode_query_text(STORM))


def test_minilm_paraphrase_is_closest_to_the_painting_it_describes(minilm, painting, tmp_path):
    rows = minilm.encode([painting(1, STORM), painting(2, PORTRAIT), painting(3, FRUIT)], tmp_path).vectors
    scores = rows @ minilm.encode_query_text("ships in a storm at sea")
    assert int(np.argmax(scores)) == 0
    assert scores[0] > max(scores[1], scores[2]) + 0.2


def test_minilm_has_no_image_query(minilm):
    from PIL import Image

    with pytest.raises(ValidationFailed) as caught:
        minilm.encode_query_image(Image.new("RGB", (8, 8)))
    assert caught.value.field == "engine"
    assert "cannot encode an image query" in caught.value.message


def test_clip_text_query_is_its_unit_text_embedding(clip, direct):
    expected = text_unit(direct, [framed(direct, "a storm at sea")])[0]
    np.testing.assert_allclose(clip.encode_query_text("a storm at sea"), expected, atol=1e-5)


def test_clip_text_query_equals_the_row_of_a_text_only_painting(clip, painting, tmp_path):
    row = clip.encode([painting(1, "a storm at sea")], tmp_path).vectors[0]
    np.testing.assert_allclose(clip.encode_query_text("a storm at sea"), row, atol=1e-6)


def test_clip_image_query_is_its_unit_image_embedding(clip, direct, painting):
    path = painting(1, image_seed=3).image_path
    expected = image_unit(direct, [path])[0]
    np.testing.assert_allclose(clip.encode_query_image(open_rgb(path)), expected, atol=1e-5)


def test_resnet_image_query_equals_the_row_of_that_image(resnet, painting, tmp_path):
    item = painting(1, image_seed=4)
    row = resnet.encode([item, painting(2, image_seed=5)], tmp_path).vectors[0]
    query = resnet.encode_query_image(open_rgb(item.image_path))
    np.testing.assert_allclose(query, row / np.linalg.norm(row), atol=1e-5)
    assert float(np.linalg.norm(query)) == pytest.approx(1.0, abs=1e-6)


def test_resnet_refuses_a_text_query(resnet):
    with pytest.raises(ValidationFailed) as caught:
        resnet.encode_query_text("a storm")
    assert "'resnet' cannot encode a text query" in caught.value.message


def test_query_modalities_of_each_engine(minilm, clip, resnet):
    assert minilm.query_modalities == {"text"}
    assert clip.query_modalities == {"text", "image"}
    assert resnet.query_modalities == {"image"}
