"""The LDA engine: preprocessing, the coherence sweep, topic vectors, inference without refit."""

from __future__ import annotations

import numpy as np
import pytest

from config.exceptions import ValidationFailed
from recsys.build.services import precompute_engine
from recsys.engines.base import PaintingInput
from recsys.engines.lda import MODEL_DIR, NO_TOKENS, TOO_FEW_TOKENS, LdaEngine, _load
from recsys.engines.registry import get_engine
from recsys.engines.textprep import informative_count, tokenize
from recsys.serving.recommend import recommend
from recsys.serving.selectors import engine_status
from recsys.serving.similar import similar_paintings
from tests.factories import PaintingFactory
from tests.recsys_pipeline.conftest import THEMES, loaded, make_painting


def test_tokenize_drops_case_punctuation_digits_and_stop_words_and_lemmatises():
    text = "The Paintings depict 3 WOMEN, skating on frozen canals (1642)!"
    assert tokenize(text) == ["woman", "skate", "freeze", "canal"]


def _inputs(texts):
    return [PaintingInput(pk=i, external_id=f"p{i}", text=t) for i, t in enumerate(texts)]


@pytest.fixture
def fitted(tmp_path):
    engine = LdaEngine(name="lda", options={"num_topics": 3, "passes": 20, "seed": 7, "no_below": 2})
    items = _inputs([text for text in THEMES.values() for _ in range(3)])
    facts = engine.fit(items, tmp_path)
    return engine, tmp_path, facts


def test_topic_vectors_are_distributions_over_every_topic(fitted):
    engine, state, _ = fitted
    batch = engine.encode(_inputs(list(THEMES.values())), state)
    assert batch.vectors.shape == (4, 3) and batch.vectors.dtype == np.float32
    np.testing.assert_allclose(batch.vectors.sum(axis=1), 1.0, atol=1e-5)
    assert (batch.vectors >= 0).all()


def test_a_vector_does_not_depend_on_its_batch(fitted):
    engine, state, _ = fitted
    alone = engine.encode(_inputs([THEMES["sea"]]), state).vectors[0]
    in_batch = engine.encode(_inputs([THEMES["winter"], THEMES["flowers"], THEMES["sea"]]), state).vectors[2]
    assert np.array_equal(alone, in_batch)


def test_texts_without_known_words_are_skipped_with_a_reason(fitted):
    engine, state, _ = fitted
    batch = engine.encode(_inputs(["the painting depicts", "zebra xylophone"]), state)
    assert batch.pks == [] and batch.skipped == {0: NO_TOKENS, 1: NO_TOKENS}


def test_texts_with_too_few_informative_words_are_skipped_with_a_reason(fitted):
    engine, state, _ = fitted
    # "stormy sea": 2 dictionary words (fewer than min_tokens 3); the theme texts have more
    batch = engine.encode(_inputs(["Stormy sea!", THEMES["sea"]]), state)
    assert batch.pks == [1]
    assert batch.skipped == {0: TOO_FEW_TOKENS.format(count=2, minimum=3)}
    assert batch.skipped[0].startswith("too little text for a topic mix: 2 informative word(s)")


def test_too_short_texts_are_not_trained_on(tmp_path):
    engine = LdaEngine(name="lda", options={"num_topics": 3, "passes": 2, "min_tokens": 4})
    items = _inputs([text for text in THEMES.values() for _ in range(3)] + ["stormy sea ships"] * 3)
    facts = engine.fit(items, tmp_path)
    assert (facts["training_documents"], facts["too_little_text"], facts["min_tokens"]) == (12, 3, 4)


def test_informative_count_sums_the_bag_of_words():
    assert informative_count([(0, 2), (5, 1)]) == 3
    assert informative_count([]) == 0


def test_a_fixed_number_of_topics_skips_the_sweep(fitted):
    _, _, facts = fitted
    assert facts["num_topics"] == 3 and facts["num_topics_fixed"] and facts["coherence_scores"] == {}


#: four topics by construction: disjoint vocabularies, every document drawn from exactly one
VOCABULARIES = [
    ["ship", "sea", "wave", "sail", "storm", "harbour", "anchor", "sailor"],
    ["rose", "tulip", "lily", "vase", "petal", "bloom", "garden", "bouquet"],
    ["portrait", "silk", "pearl", "necklace", "glove", "gown", "velvet", "lace"],
    ["skater", "canal", "snow", "ice", "frost", "sledge", "village", "chimney"],
]


def _disjoint_corpus(per_vocabulary: int = 12, words: int = 8) -> list[PaintingInput]:
    rng = np.random.default_rng(0)
    texts = [
        " ".join(rng.choice(vocabulary, size=words))
        for vocabulary in VOCABULARIES
        for _ in range(per_vocabulary)
    ]
    return _inputs(texts)


def test_the_coherence_sweep_finds_the_topic_count_built_into_the_corpus(tmp_path):
    engine = LdaEngine(
        name="lda",
        options={"topic_range": [2, 6, 1], "passes": 20, "seed": 7, "no_below": 2, "coherence_topn": 5},
    )
    facts = engine.fit(_disjoint_corpus(), tmp_path)
    scores = {int(k): v for k, v in facts["coherence_scores"].items()}
    assert facts["num_topics"] == 4 and not facts["num_topics_fixed"]
    assert sorted(scores) == [2, 3, 4, 5, 6] and all(scores[4] > scores[k] for k in (2, 3, 5, 6))
    assert scores[2] < 0 < scores[3] < scores[4]  # merged vocabularies never co-occur: NPMI < 0
    # each of the chosen model's topics is one vocabulary
    model, _ = _load(str(tmp_path / MODEL_DIR))
    tops = [{w for w, _ in model.show_topic(t, topn=5)} for t in range(4)]
    owners = [[i for i, vocabulary in enumerate(VOCABULARIES) if top <= set(vocabulary)] for top in tops]
    assert sorted(o[0] for o in owners if len(o) == 1) == [0, 1, 2, 3]


def test_the_sweep_scores_each_topic_count_by_the_mean_over_several_seeds(tmp_path):
    options = {"topic_range": [3, 4, 1], "passes": 5, "seed": 7, "sweep_seeds": 3}
    engine = LdaEngine(name="lda", options=options)
    facts = engine.fit(_disjoint_corpus(per_vocabulary=6), tmp_path)
    assert facts["sweep_seeds"] == [7, 8, 9]
    for k in ("3", "4"):
        assert len(facts["coherence_per_seed"][k]) == 3
        assert facts["coherence_scores"][k] == pytest.approx(np.mean(facts["coherence_per_seed"][k]))


@pytest.mark.django_db
def test_the_pipeline_records_the_sweep_in_the_manifest(catalogue):
    row = precompute_engine(engine="lda")
    fit = row.manifest["fit"]
    assert sorted(fit["coherence_scores"]) == ["2", "3", "4"] and fit["coherence_measure"] == "c_npmi"
    assert row.manifest["dim"] == fit["num_topics"]
    assert len(row.manifest["postprocess"]["topic_words"]) == fit["num_topics"]


@pytest.mark.django_db
def test_stored_rows_are_normalised_topic_distributions(catalogue):
    art = loaded(precompute_engine(engine="lda"))
    np.testing.assert_allclose(np.linalg.norm(art.embeddings, axis=1), 1.0, atol=1e-6)
    assert (np.asarray(art.embeddings) >= 0).all()  # so A is in [0, 1]
    assert np.array_equal(art.similarity, art.similarity.T) and np.all(np.diag(art.similarity) == 1.0)


@pytest.mark.django_db
def test_near_identical_texts_are_more_similar_than_unrelated_ones(catalogue):
    twin = make_painting("sea", 0, description=THEMES["sea"].upper() + " (1850), 2 ships.")
    art = loaded(precompute_engine(engine="lda"))
    original, copy = art.row_of[catalogue[0].pk], art.row_of[twin.pk]
    unrelated = [art.row_of[p.pk] for p in catalogue[3:]]
    assert art.similarity[original, copy] > 0.999
    assert art.similarity[original, copy] > art.similarity[original, unrelated].max()


@pytest.mark.django_db
def test_new_paintings_are_inferred_without_refitting(catalogue, monkeypatch):
    first = precompute_engine(engine="lda")
    monkeypatch.setattr(LdaEngine, "fit", lambda *a, **k: pytest.fail("refitted"))
    new = make_painting("flowers", 5)
    second = precompute_engine(engine="lda")
    assert second.manifest["fit"]["refit"] is False
    assert second.manifest["fit"]["num_topics"] == first.manifest["fit"]["num_topics"]
    assert second.manifest["counts"]["encoded"] == 1
    art = loaded(second)
    flowers = art.row_of[catalogue[3].pk]
    assert art.similarity[art.row_of[new.pk], flowers] == pytest.approx(1.0, abs=1e-6)  # same words


@pytest.mark.django_db
def test_many_changes_refit_the_model(catalogue, settings):
    settings.RECSYS_INCREMENTAL_MAX_CHANGE = 0.1
    precompute_engine(engine="lda")
    for n in range(5, 7):
        make_painting("portrait", n)
    row = precompute_engine(engine="lda")
    assert row.manifest["fit"]["refit"] is True and row.manifest["mode"] == "full"


def test_topic_range_is_inclusive_and_validated(settings):
    assert LdaEngine(name="lda", options={"topic_range": [10, 40, 10]}).candidate_topics() == [10, 20, 30, 40]
    with pytest.raises(ValueError, match="no value >= 2"):
        LdaEngine(name="lda", options={"topic_range": [0, 1, 1]}).candidate_topics()
    assert get_engine("lda").kind == "text"


def test_a_painting_with_too_little_text_is_reported_not_given_random_neighbours(catalogue, settings):
    settings.RECSYS_RECOMMENDERS = {"lda": {"KIND": "single", "ENGINE": "lda"}}
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["lda"]
    short = PaintingFactory(title="Sea", description="Stormy", medium="", artist=None, story_group=None)
    row = precompute_engine(engine="lda")
    artefact = loaded(row)
    assert short.pk not in artefact.row_of
    reason = TOO_FEW_TOKENS.format(count=2, minimum=3)  # sea, stormy
    assert {"pk": short.pk, "external_id": short.external_id, "reason": reason} in row.manifest["skipped"]
    assert engine_status("lda").coverage == pytest.approx(12 / 13)

    result = recommend(ratings={short.pk: 5, catalogue[0].pk: 4}, recommender="lda", n=3)
    assert result.ignored_ratings == {short.pk: f"not in the lda artefact {row.version}: {reason}"}
    assert short.pk not in [item.painting_id for item in result.items]
    with pytest.raises(ValidationFailed) as raised:
        similar_paintings(painting_id=short.pk, engine="lda", n=3)
    assert reason in str(raised.value)
