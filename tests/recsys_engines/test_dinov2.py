"""DINOv2 engine on a tiny random checkpoint built from ``Dinov2Config``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from config.exceptions import ModelNotAvailable
from recsys.engines.dinov2 import Dinov2Engine
from recsys.engines.images import open_rgb
from tests.recsys_engines.tiny_dinov2 import HIDDEN, build_tiny_dinov2


@pytest.fixture(scope="module")
def dinov2_dir(tmp_path_factory) -> str:
    return build_tiny_dinov2(tmp_path_factory.mktemp("tiny-dinov2"))


def _engine(path: str, **options) -> Dinov2Engine:
    return Dinov2Engine(name="dinov2", model=path, options={"batch_size": 2, **options})


def _states(path: str, items) -> torch.Tensor:
    from transformers import AutoImageProcessor, Dinov2Model

    model = Dinov2Model.from_pretrained(path).eval()
    processor = AutoImageProcessor.from_pretrained(path)
    with torch.no_grad():
        images = [open_rgb(item.image_path) for item in items]
        return model(**processor(images=images, return_tensors="pt")).last_hidden_state


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_default_vector_is_cls_and_mean_patch_tokens(dinov2_dir, painting, tmp_path):
    items = [painting(i, image_seed=i) for i in (1, 2, 3)]
    out = _engine(dinov2_dir).encode(items, tmp_path)
    states = _states(dinov2_dir, items)
    expected = torch.cat([states[:, 0], states[:, 1:].mean(1)], dim=-1).numpy()
    assert out.pks == [1, 2, 3]
    assert out.vectors.shape == (3, 2 * HIDDEN)
    np.testing.assert_allclose(_unit(out.vectors), _unit(expected), atol=1e-5)


@pytest.mark.parametrize(("pooling", "part"), [("cls", 0), ("mean", 1)])
def test_pooling_is_configurable(dinov2_dir, painting, tmp_path, pooling, part):
    items = [painting(i, image_seed=i) for i in (1, 2)]
    out = _engine(dinov2_dir, pooling=pooling).encode(items, tmp_path)
    states = _states(dinov2_dir, items)
    expected = (states[:, 0] if part == 0 else states[:, 1:].mean(1)).numpy()
    assert out.vectors.shape == (2, HIDDEN)
    np.testing.assert_allclose(_unit(out.vectors), _unit(expected), atol=1e-5)


def test_an_unknown_pooling_makes_it_unavailable_with_the_reason(dinov2_dir):
    with pytest.raises(ModelNotAvailable, match="pooling 'max'"):
        _engine(dinov2_dir, pooling="max").check_available()


def test_paintings_without_an_image_are_skipped(dinov2_dir, painting, tmp_path):
    out = _engine(dinov2_dir).encode([painting(1, "text only"), painting(2, image_seed=2)], tmp_path)
    assert (out.pks, out.skipped) == ([2], {1: "no image"})


def test_identical_images_are_more_similar_than_different_ones(dinov2_dir, painting, tmp_path):
    vectors = _unit(
        _engine(dinov2_dir)
        .encode([painting(1, image_seed=7), painting(2, image_seed=7), painting(3, image_seed=8)], tmp_path)
        .vectors
    )
    similarity = vectors @ vectors.T
    assert similarity[0, 1] == pytest.approx(1.0, abs=1e-5)
    assert similarity[0, 2] < similarity[0, 1] - 1e-4


def test_an_image_query_is_encoded_like_a_catalogue_image(dinov2_dir, painting, tmp_path):
    engine = _engine(dinov2_dir)
    item = painting(1, image_seed=4)
    row = _unit(engine.encode([item], tmp_path).vectors)[0]
    query = engine.encode_query_image(open_rgb(item.image_path))
    np.testing.assert_allclose(query, row, atol=1e-5)


def test_missing_weights_make_it_unavailable_naming_the_setting(tmp_path):
    with pytest.raises(ModelNotAvailable, match="RECSYS_DINOV2_MODEL"):
        _engine(str(tmp_path / "nowhere")).check_available()


def test_a_model_of_another_type_is_refused(tiny_models):
    with pytest.raises(ModelNotAvailable, match="'resnet' model"):
        _engine(tiny_models["resnet"]).check_available()
