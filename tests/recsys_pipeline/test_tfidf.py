"""The TF-IDF / LSA engine: fitted state, vectors, skips, the pipeline and inference without refit."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.build.services import precompute_engine
from recsys.engines.base import PaintingInput, fit_progress
from recsys.engines.tfidf import NO_TERMS, TfidfEngine
from recsys.serving.recommend import recommend
from tests.recsys_pipeline.conftest import THEMES, loaded, make_painting


@pytest.fixture(autouse=True)
def tfidf_engine(settings, pipeline_settings):
    settings.RECSYS_ENGINES = {
        **settings.RECSYS_ENGINES,
        "tfidf": {"BACKEND": "recsys.engines.tfidf.TfidfEngine", "OPTIONS": {"dims": 8, "seed": 1}},
    }
    settings.RECSYS_RECOMMENDERS = {"tfidf": {"KIND": "single", "ENGINE": "tfidf"}}
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["tfidf"]


def _inputs(texts):
    return [PaintingInput(pk=i, external_id=f"p{i}", text=t) for i, t in enumerate(texts)]


@pytest.fixture
def fitted(tmp_path):
    engine = TfidfEngine(name="tfidf", options={"dims": 3, "seed": 1})
    facts = engine.fit(_inputs([text for text in THEMES.values() for _ in range(3)]), tmp_path)
    return engine, tmp_path, facts


def test_fit_records_the_space_it_built(fitted):
    _, _, facts = fitted
    assert facts["dims"] == 3 and facts["training_documents"] == 12 and facts["no_terms"] == 0
    # every theme word occurs in 3 of 12 paintings: all kept (min_df 2, max_df 0.5)
    assert facts["vocabulary_size"] == len({w for t in THEMES.values() for w in _tokens(t)})
    assert 0 < facts["explained_energy"] <= 1


def _tokens(text):
    from recsys.engines.textprep import tokenize

    return tokenize(text)


def test_same_theme_is_closer_than_another_theme(fitted):
    engine, state, _ = fitted
    texts = [THEMES["sea"], "Sailing ships in a storm at sea", THEMES["winter"]]
    batch = engine.encode(_inputs(texts), state)
    unit = batch.vectors / np.linalg.norm(batch.vectors, axis=1, keepdims=True)
    assert batch.vectors.shape == (3, 3) and batch.vectors.dtype == np.float32
    assert unit[0] @ unit[1] > 0.9 > unit[0] @ unit[2]


def test_a_vector_does_not_depend_on_its_batch(fitted):
    engine, state, _ = fitted
    alone = engine.encode(_inputs([THEMES["sea"]]), state).vectors[0]
    in_batch = engine.encode(_inputs([THEMES["winter"], THEMES["flowers"], THEMES["sea"]]), state).vectors[2]
    assert np.array_equal(alone, in_batch)


def test_texts_without_vocabulary_words_are_skipped_with_the_reason(fitted):
    engine, state, _ = fitted
    batch = engine.encode(_inputs(["the painting depicts", "zebra xylophone", THEMES["sea"]]), state)
    assert batch.pks == [2] and batch.skipped == {0: NO_TERMS, 1: NO_TERMS}


def test_fit_reports_its_progress_in_steps(tmp_path):
    seen = []
    token = fit_progress.set(lambda done, total, unit: seen.append((done, total)))
    try:
        TfidfEngine(name="tfidf", options={"dims": 2}).fit(_inputs(list(THEMES.values()) * 2), tmp_path)
    finally:
        fit_progress.reset(token)
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


@pytest.mark.django_db
def test_the_pipeline_builds_a_unit_artefact_that_recommends_the_same_theme(catalogue):
    row = precompute_engine(engine="tfidf")
    art = loaded(row)
    assert row.manifest["fit"]["dims"] == row.manifest["dim"] <= 8
    np.testing.assert_allclose(np.linalg.norm(art.embeddings, axis=1), 1.0, atol=1e-5)

    sea = [p for p in catalogue if p.description == THEMES["sea"]]
    result = recommend(ratings={sea[0].pk: 5}, n=len(sea) - 1)
    assert result.recommender == "tfidf"
    assert {item.painting_id for item in result.items} == {p.pk for p in sea[1:]}


@pytest.mark.django_db
def test_new_paintings_are_folded_in_without_refitting(catalogue, monkeypatch):
    first = precompute_engine(engine="tfidf")
    monkeypatch.setattr(TfidfEngine, "fit", lambda *a, **k: pytest.fail("refitted"))
    new = make_painting("flowers", 7)
    second = precompute_engine(engine="tfidf")
    assert second.manifest["fit"]["refit"] is False and second.manifest["counts"]["encoded"] == 1
    assert second.manifest["fit"]["vocabulary_size"] == first.manifest["fit"]["vocabulary_size"]
    art = loaded(second)
    flowers = next(p for p in catalogue if p.description == THEMES["flowers"])
    assert art.similarity[art.row_of[new.pk], art.row_of[flowers.pk]] > 0.95
