"""BLIP engine on a tiny random checkpoint: multimodal embeddings, fallbacks, ITC extras, ITM."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from recsys.algorithms.similarity import top_k_neighbours
from recsys.engines.blip import ITC_IMAGE, ITC_TEXT, ITM_IDX, ITM_PROB, BlipEngine
from recsys.engines.images import open_rgb
from tests.recsys_engines.conftest import assert_identical_pair_closest


@pytest.fixture(scope="module")
def direct(tiny_models):
    from transformers import AutoImageProcessor, AutoTokenizer, BlipForImageTextRetrieval

    path = tiny_models["blip"]
    model = BlipForImageTextRetrieval.from_pretrained(path).eval()
    return model, AutoTokenizer.from_pretrained(path), AutoImageProcessor.from_pretrained(path)


@pytest.fixture(scope="module")
def engine(tiny_models):
    return BlipEngine(name="blip", model=tiny_models["blip"], options={"batch_size": 3, "itm_top_k": 2})


def vision(direct, path):
    model, _, processor = direct
    pixels = processor(images=[open_rgb(path)], return_tensors="pt")["pixel_values"]
    return model.vision_model(pixel_values=pixels).last_hidden_state


def tokens(direct, text, max_length=None):
    encoded = direct[1](text, return_tensors="pt", truncation=max_length is not None, max_length=max_length)
    return encoded["input_ids"], encoded["attention_mask"]


@torch.no_grad()
def multimodal(direct, text, path):
    """Unit CLS state of the image-grounded text encoder, computed with transformers directly."""
    states = vision(direct, path)
    input_ids, mask = tokens(direct, text)
    cls = (
        direct[0]
        .text_encoder(
            input_ids=input_ids,
            attention_mask=mask,
            encoder_hidden_states=states,
            encoder_attention_mask=torch.ones(states.shape[:2], dtype=torch.long),
        )
        .last_hidden_state[:, 0]
    )
    return F.normalize(cls, dim=-1)[0].numpy()


@torch.no_grad()
def itm(direct, path, text, max_length=None):
    input_ids, mask = tokens(direct, text, max_length)
    pixels = direct[2](images=[open_rgb(path)], return_tensors="pt")["pixel_values"]
    score = direct[0](
        input_ids=input_ids, attention_mask=mask, pixel_values=pixels, use_itm_head=True
    ).itm_score
    return float(torch.softmax(score, dim=-1)[0, 1])


def test_vector_is_the_unit_image_grounded_text_encoding(engine, direct, painting, tmp_path):
    items = [painting(1, "a storm at sea", image_seed=1), painting(2, "portrait of a woman", image_seed=2)]
    out = engine.encode(items, tmp_path)
    assert out.pks == [1, 2]
    assert out.vectors.shape == (2, 32)
    for row, item in enumerate(items):
        np.testing.assert_allclose(
            out.vectors[row], multimodal(direct, item.text, item.image_path), atol=1e-5
        )
    assert out.notes == {}


def test_painting_without_image_uses_text_encoder_without_cross_attention(engine, direct, painting, tmp_path):
    out = engine.encode([painting(1, "a storm at sea")], tmp_path)
    input_ids, mask = tokens(direct, "a storm at sea")
    with torch.no_grad():
        cls = direct[0].text_encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state[:, 0]
    np.testing.assert_allclose(out.vectors[0], F.normalize(cls, dim=-1)[0].numpy(), atol=1e-5)
    assert out.notes == {1: "no image: multimodal embedding from the text encoder without cross-attention"}


def test_painting_without_text_reads_image_with_empty_caption(engine, direct, painting, tmp_path):
    item = painting(1, "", image_seed=4)
    out = engine.encode([item], tmp_path)
    np.testing.assert_allclose(out.vectors[0], multimodal(direct, "", item.image_path), atol=1e-5)
    assert out.notes == {1: "no text: multimodal embedding of the image with an empty caption"}


def test_identical_paintings_are_more_similar_than_unrelated_ones(engine, painting, tmp_path):
    assert_identical_pair_closest(engine, painting, tmp_path)


@pytest.fixture
def encoded_catalogue(engine, painting, tmp_path):
    """Five paintings (one text-only), encoded and L2-normalised as the pipeline does before
    ``postprocess``."""
    items = [
        painting(1, "a storm at sea", image_seed=1),
        painting(2, "a ship in a storm", image_seed=2),
        painting(3, "portrait of a woman", image_seed=3),
        painting(4, "a harbour at dawn", image_seed=4),
        painting(5, "waves on the rocks"),
    ]
    out_dir = tmp_path / "staging"
    batch = engine.encode(items, out_dir / "state")
    vectors = batch.vectors / np.linalg.norm(batch.vectors, axis=1, keepdims=True)
    return items, vectors, out_dir


def test_itm_lists_rescore_top_k_candidates(engine, encoded_catalogue):
    items, vectors, out_dir = encoded_catalogue
    facts = engine.postprocess(items=items, embeddings=vectors, out_dir=out_dir)
    idx, prob = np.load(out_dir / ITM_IDX), np.load(out_dir / ITM_PROB)
    assert idx.dtype == np.int32 and idx.shape == (5, 2)
    assert prob.dtype == np.float32 and prob.shape == (5, 2)
    assert np.all((prob >= 0) & (prob <= 1))
    candidates, _ = top_k_neighbours(vectors, 2)
    for row in range(5):
        assert set(idx[row].tolist()) == set(candidates[row].tolist())  # every pair has a direction
        assert prob[row, 0] >= prob[row, 1]
    assert facts["itm_top_k"] == 2
    assert facts["itm_rows_without_scores"] == 0


def test_itm_probability_is_the_mean_of_both_directions(engine, direct, encoded_catalogue):
    items, vectors, out_dir = encoded_catalogue
    engine.postprocess(items=items, embeddings=vectors, out_dir=out_dir)
    idx, prob = np.load(out_dir / ITM_IDX), np.load(out_dir / ITM_PROB)
    for i in range(4):  # paintings 1-4 have an image and text
        for column, j in enumerate(idx[i].tolist()):
            a, b = items[i], items[j]
            directions = [itm(direct, a.image_path, b.text)]
            if b.image_path is not None:
                directions.append(itm(direct, b.image_path, a.text))
            assert prob[i, column] == pytest.approx(np.mean(directions), abs=1e-5)


def test_itm_for_text_only_painting_uses_the_one_possible_direction(engine, direct, encoded_catalogue):
    items, vectors, out_dir = encoded_catalogue
    engine.postprocess(items=items, embeddings=vectors, out_dir=out_dir)
    idx, prob = np.load(out_dir / ITM_IDX), np.load(out_dir / ITM_PROB)
    j = int(idx[4, 0])  # painting 5 has no image: only ITM(image_j, text_5)
    assert prob[4, 0] == pytest.approx(itm(direct, items[j].image_path, items[4].text), abs=1e-5)


def test_itm_max_tokens_truncates_the_text_itm_reads(tiny_models, direct, encoded_catalogue):
    items, vectors, out_dir = encoded_catalogue
    engine = BlipEngine(name="blip", model=tiny_models["blip"], options={"itm_top_k": 1, "itm_max_tokens": 5})
    engine.postprocess(items=items, embeddings=vectors, out_dir=out_dir)
    idx, prob = np.load(out_dir / ITM_IDX), np.load(out_dir / ITM_PROB)
    j = int(idx[4, 0])  # painting 5 has no image: only ITM(image_j, first 5 tokens of text_5)
    assert prob[4, 0] == pytest.approx(
        itm(direct, items[j].image_path, items[4].text, max_length=5), abs=1e-5
    )
    assert prob[4, 0] != pytest.approx(itm(direct, items[j].image_path, items[4].text), abs=1e-5)


def test_itm_pairs_without_any_direction_are_padded(engine, painting, tmp_path):
    items = [painting(1, "a storm at sea"), painting(2, "portrait of a woman")]
    batch = engine.encode(items, tmp_path)
    facts = engine.postprocess(items=items, embeddings=batch.vectors, out_dir=tmp_path)
    np.testing.assert_array_equal(np.load(tmp_path / ITM_IDX), [[-1], [-1]])
    np.testing.assert_array_equal(np.load(tmp_path / ITM_PROB), [[0.0], [0.0]])
    assert facts["itm_rows_without_scores"] == 2


def test_itm_top_k_zero_writes_no_itm_arrays(tiny_models, encoded_catalogue):
    items, vectors, out_dir = encoded_catalogue
    engine = BlipEngine(name="blip", model=tiny_models["blip"], options={"itm_top_k": 0})
    facts = engine.postprocess(items=items, embeddings=vectors, out_dir=out_dir)
    assert facts["itm_top_k"] == 0
    assert not (out_dir / ITM_IDX).exists()


def test_itc_embeddings_are_written_in_row_order(engine, direct, encoded_catalogue):
    items, vectors, out_dir = encoded_catalogue
    facts = engine.postprocess(items=items, embeddings=vectors, out_dir=out_dir)
    image, text = np.load(out_dir / ITC_IMAGE), np.load(out_dir / ITC_TEXT)
    assert image.shape == text.shape == (5, 16)
    input_ids, mask = tokens(direct, items[3].text)
    with torch.no_grad():
        expected_image = direct[0].vision_proj(vision(direct, items[2].image_path)[:, 0])
        expected_text = direct[0].text_proj(
            direct[0].text_encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state[:, 0]
        )
    np.testing.assert_allclose(image[2], F.normalize(expected_image, dim=-1)[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(text[3], F.normalize(expected_text, dim=-1)[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(image[4], 0.0)  # painting 5 has no image
    assert facts["itc_dim"] == 16
