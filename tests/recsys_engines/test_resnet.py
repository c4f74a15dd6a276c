"""ResNet engine on a tiny random checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recsys.engines.images import open_rgb
from recsys.engines.resnet import ResNetEngine


@pytest.fixture(scope="module")
def engine(tiny_models):
    return ResNetEngine(name="resnet", model=tiny_models["resnet"], options={"batch_size": 2})


def test_vectors_are_unit_pooled_features_of_the_model(engine, tiny_models, painting, tmp_path):
    from transformers import AutoImageProcessor, ResNetModel

    items = [painting(i, image_seed=i) for i in (1, 2, 3)]
    out = engine.encode(items, tmp_path)
    model = ResNetModel.from_pretrained(tiny_models["resnet"]).eval()
    processor = AutoImageProcessor.from_pretrained(tiny_models["resnet"])
    with torch.no_grad():
        images = [open_rgb(item.image_path) for item in items]
        pooled = model(**processor(images=images, return_tensors="pt")).pooler_output.flatten(1).numpy()
    assert out.pks == [1, 2, 3]
    assert out.vectors.shape == (3, 64)
    np.testing.assert_allclose(out.vectors, pooled / np.linalg.norm(pooled, axis=1, keepdims=True), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out.vectors, axis=1), 1.0, atol=1e-6)


def test_paintings_without_a_readable_image_are_skipped(engine, painting, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG broken")
    out = engine.encode(
        [painting(1, "text only"), painting(2, image_path=str(broken)), painting(3, image_seed=3)], tmp_path
    )
    assert out.pks == [3]
    assert out.skipped[1] == "no image"
    assert out.skipped[2].startswith("image unreadable: broken.png")
    assert out.notes == {}


def test_identical_images_are_more_similar_than_different_ones(engine, painting, tmp_path):
    vectors = engine.encode(
        [painting(1, image_seed=7), painting(2, image_seed=7), painting(3, image_seed=8)], tmp_path
    ).vectors
    similarity = vectors @ vectors.T
    assert similarity[0, 1] == pytest.approx(1.0, abs=1e-5)
    assert similarity[0, 2] < similarity[0, 1] - 1e-4
