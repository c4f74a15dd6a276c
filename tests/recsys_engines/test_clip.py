"""CLIP engine on a tiny random checkpoint, checked against the model computed directly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from recsys.engines.clip import ClipEngine
from recsys.engines.images import open_rgb
from tests.recsys_engines.conftest import assert_identical_pair_closest

LONG_TEXT = (
    "the storm rises over the dark sea while a small boat fights the waves near the rocky coast, "
    "and gulls circle above the foam"
)


@pytest.fixture(scope="module")
def engine(tiny_models):
    return ClipEngine(name="clip", model=tiny_models["clip"], options={"batch_size": 4})


def image_unit(direct, paths):
    model, _, processor = direct
    with torch.no_grad():
        pixels = processor(images=[open_rgb(p) for p in paths], return_tensors="pt")["pixel_values"]
        return F.normalize(model.get_image_features(pixel_values=pixels).pooler_output, dim=-1).numpy()


def text_unit(direct, token_ids):
    """Unit text embeddings of already framed token id lists."""
    model, tokenizer, _ = direct
    with torch.no_grad():
        batch = tokenizer.pad({"input_ids": token_ids}, return_tensors="pt")
        return F.normalize(model.get_text_features(**batch).pooler_output, dim=-1).numpy()


def framed(direct, text):
    return direct[1](text)["input_ids"]


def test_joint_is_normalised_sum_of_unit_image_and_unit_text(engine, direct, painting, tmp_path):
    items = [painting(1, "a storm at sea", image_seed=1), painting(2, "portrait of a woman", image_seed=2)]
    out = engine.encode(items, tmp_path)
    image = image_unit(direct, [item.image_path for item in items])
    text = text_unit(direct, [framed(direct, item.text) for item in items])
    expected = (image + text) / np.linalg.norm(image + text, axis=1, keepdims=True)
    assert out.pks == [1, 2]
    assert out.vectors.dtype == np.float32
    np.testing.assert_allclose(out.vectors, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out.vectors, axis=1), 1.0, atol=1e-6)


def test_long_text_is_the_token_weighted_mean_of_its_windows(engine, direct, painting, tmp_path):
    out = engine.encode([painting(1, LONG_TEXT)], tmp_path)
    tokenizer = direct[1]
    ids = tokenizer(LONG_TEXT, add_special_tokens=False)["input_ids"]
    size = 32 - 2  # tiny context minus <|startoftext|> and <|endoftext|>
    windows = [ids[start : start + size] for start in range(0, len(ids), size)]
    assert len(windows) >= 3
    chunk_vectors = text_unit(direct, [[0, *window, 1] for window in windows])
    weights = np.array([len(window) for window in windows], dtype=np.float64)[:, None]
    mean = (chunk_vectors * weights).sum(axis=0)
    np.testing.assert_allclose(out.vectors[0], mean / np.linalg.norm(mean), atol=1e-5)


def test_long_text_is_not_truncated(engine, direct, painting, tmp_path):
    out = engine.encode([painting(1, LONG_TEXT)], tmp_path)
    truncated = text_unit(direct, [direct[1](LONG_TEXT, truncation=True, max_length=32)["input_ids"]])[0]
    assert float(out.vectors[0] @ truncated) < 0.999


def test_max_chunks_cuts_and_notes_the_painting(tiny_models, painting, tmp_path):
    engine = ClipEngine(name="clip", model=tiny_models["clip"], options={"max_chunks": 1})
    out = engine.encode([painting(1, LONG_TEXT, image_seed=1)], tmp_path)
    assert out.notes == {1: "text longer than 1 windows of 30 tokens: cut"}


def test_painting_without_image_falls_back_to_unit_text_embedding(engine, direct, painting, tmp_path):
    out = engine.encode([painting(1, "a storm at sea")], tmp_path)
    np.testing.assert_allclose(
        out.vectors[0], text_unit(direct, [framed(direct, "a storm at sea")])[0], atol=1e-5
    )
    assert out.notes == {1: "no image: joint = unit text embedding"}


def test_painting_without_text_falls_back_to_unit_image_embedding(engine, direct, painting, tmp_path):
    item = painting(1, "   ", image_seed=3)
    out = engine.encode([item], tmp_path)
    np.testing.assert_allclose(out.vectors[0], image_unit(direct, [item.image_path])[0], atol=1e-5)
    assert out.notes == {1: "no text: joint = unit image embedding"}


def test_unreadable_image_falls_back_to_text_with_the_reason(engine, direct, painting, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    out = engine.encode([painting(1, "a storm at sea", image_path=str(broken))], tmp_path)
    assert out.pks == [1]
    assert out.notes[1].startswith("image unreadable: broken.jpg")
    np.testing.assert_allclose(
        out.vectors[0], text_unit(direct, [framed(direct, "a storm at sea")])[0], atol=1e-5
    )


def test_painting_with_neither_modality_is_skipped_with_reasons(engine, painting, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"nope")
    out = engine.encode(
        [painting(1, ""), painting(2, "", image_path=str(broken)), painting(3, "sea")], tmp_path
    )
    assert out.pks == [3]
    assert out.skipped[1] == "no image; no text"
    assert out.skipped[2].startswith("image unreadable: broken.png")
    assert out.skipped[2].endswith("; no text")


def test_identical_paintings_are_more_similar_than_unrelated_ones(engine, painting, tmp_path):
    assert_identical_pair_closest(engine, painting, tmp_path)


def test_batch_size_does_not_change_vectors(tiny_models, painting, tmp_path):
    items = [painting(i, LONG_TEXT[: 20 * i], image_seed=i if i % 2 else None) for i in range(1, 6)]
    one = ClipEngine(name="clip", model=tiny_models["clip"], options={"batch_size": 1}).encode(
        items, tmp_path
    )
    many = ClipEngine(name="clip", model=tiny_models["clip"], options={"batch_size": 8}).encode(
        items, tmp_path
    )
    assert one.pks == many.pks == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(one.vectors, many.vectors, atol=1e-5)
