"""Multilingual (XLM-R) text engine on a tiny random checkpoint, texts in several languages."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from catalog.snapshot import PaintingInput
from config.exceptions import ModelNotAvailable
from recsys.engines.xlmr import XlmrEngine
from tests.recsys_engines.tiny_xlmr import build_tiny_xlmr

EN = "a stormy sea with a sinking ship"
NL = "een stormachtige zee met een zinkend schip"
FR = "une mer déchaînée avec un navire qui sombre"
DE = "ein stürmisches meer mit einem sinkenden schiff"
PORTRAIT_ES = "retrato de una joven con un vestido azul"


@pytest.fixture(scope="module")
def xlmr_dir(tmp_path_factory) -> str:
    return build_tiny_xlmr(tmp_path_factory.mktemp("tiny-xlmr"))


@pytest.fixture(scope="module")
def engine(xlmr_dir) -> XlmrEngine:
    return XlmrEngine(name="xlmr", model=xlmr_dir, options={"batch_size": 3})


def item(pk: int, text: str, *translations: str) -> PaintingInput:
    return PaintingInput(pk=pk, external_id=f"p-{pk}", text=text, translations=tuple(translations))


def _direct(xlmr_dir: str, text: str) -> np.ndarray:
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(xlmr_dir).eval()
    tokens = AutoTokenizer.from_pretrained(xlmr_dir)(text, return_tensors="pt")
    with torch.no_grad():
        states = model(**tokens).last_hidden_state
    mask = tokens["attention_mask"].unsqueeze(-1).float()
    pooled = ((states * mask).sum(1) / mask.sum(1))[0].numpy()
    return pooled / np.linalg.norm(pooled)


def test_a_text_is_the_mean_pooled_unit_state_of_the_model(engine, xlmr_dir, tmp_path):
    out = engine.encode([item(1, "un navire"), item(2, "ein schiff")], tmp_path)
    assert out.pks == [1, 2]
    assert out.vectors.shape == (2, 32)
    np.testing.assert_allclose(out.vectors[0], _direct(xlmr_dir, "un navire"), atol=1e-5)
    np.testing.assert_allclose(out.vectors[1], _direct(xlmr_dir, "ein schiff"), atol=1e-5)


def test_every_language_of_a_painting_is_read_and_averaged(engine, tmp_path):
    rows = engine.encode(
        [item(1, "zee"), item(2, "mer"), item(3, "meer"), item(4, "zee", "mer", "meer")], tmp_path
    )
    alone = rows.vectors[:3]
    expected = alone.sum(0) / np.linalg.norm(alone.sum(0))
    np.testing.assert_allclose(rows.vectors[3], expected, atol=1e-5)


def test_a_painting_described_only_in_another_language_is_encoded(engine, tmp_path):
    out = engine.encode([item(1, "", FR), item(2, "")], tmp_path)
    assert out.pks == [1]
    assert out.skipped == {2: "no text"}
    np.testing.assert_allclose(out.vectors[0], engine.encode([item(3, FR)], tmp_path).vectors[0], atol=1e-6)


@pytest.mark.parametrize("query", [NL, FR, DE])
def test_a_query_in_any_of_a_paintings_languages_finds_it_first(engine, tmp_path, query):
    catalogue = [
        item(1, EN, NL, FR, DE),  # described in four languages
        item(2, PORTRAIT_ES),
        item(3, "stilleven met appels en een kan"),
        item(4, "paysage d'hiver avec patineurs"),
    ]
    rows = engine.encode(catalogue, tmp_path).vectors
    scores = rows @ engine.encode_query_text(query)
    assert int(np.argmax(scores)) == 0


def test_long_texts_are_windowed_not_cut(engine, tmp_path):
    long = " ".join([FR] * 4)  # more than the tiny model's 32 tokens
    out = engine.encode([item(1, long)], tmp_path)
    assert out.notes == {}
    assert np.linalg.norm(out.vectors[0]) == pytest.approx(1.0, abs=1e-5)


def test_missing_weights_make_it_unavailable_naming_the_setting(tmp_path):
    engine = XlmrEngine(name="xlmr", model=str(tmp_path / "nowhere"))
    with pytest.raises(ModelNotAvailable, match="RECSYS_XLMR_MODEL"):
        engine.check_available()


def test_an_image_model_is_refused(tiny_models):
    engine = XlmrEngine(name="xlmr", model=tiny_models["resnet"])
    with pytest.raises(ModelNotAvailable, match="'resnet' model"):
        engine.check_available()
