"""The recommender registry built from settings.RECSYS_RECOMMENDERS."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from config.exceptions import UnknownEngine
from recsys.serving.recommenders import get_recommender, preferred_recommender, recommenders
from tests.artefact_helpers import write_artefact
from tests.recsys_scoring.vectors import LDA, RESNET


def test_default_configuration_registers_the_papers_late_fusion():
    late = get_recommender("late-partial")
    assert (late.kind, late.mode, late.engines, late.rrf_k) == (
        "late",
        "partial",
        {"lda": 1.0, "resnet": 1.0},
        60,
    )
    assert get_recommender("clip").kind == "early"


def test_default_is_the_first_ready_preference():
    with override_settings(RECSYS_DEFAULT_RECOMMENDERS=["late-total", "late-text", "minilm", "lda"]):
        assert preferred_recommender({"lda", "resnet", "minilm"}) == "late-total"
        assert preferred_recommender({"lda", "minilm"}) == "late-text"  # fresh offline install
        assert preferred_recommender({"minilm"}) == "minilm"
        assert preferred_recommender({"clip"}) == "clip"  # no preference ready: first ready of all
        assert preferred_recommender(set()) == "late-total"  # nothing ready: its 503 says why


def test_none_means_the_first_ready_default(db, paintings):
    write_artefact(engine="lda", paintings=paintings, vectors=LDA)
    with override_settings(RECSYS_DEFAULT_RECOMMENDERS=["late-total", "lda"]):
        assert get_recommender(None).name == "lda"
        write_artefact(engine="resnet", paintings=paintings[:6], vectors=RESNET)
        assert get_recommender(None).name == "late-total"


def test_late_text_fuses_the_two_text_engines():
    config = get_recommender("late-text")
    assert (config.kind, config.mode, config.engines) == ("late", "total", {"lda": 1.0, "minilm": 1.0})


def test_unknown_recommender_names_the_recommender_field(db):  # admin-defined ones are read too
    with pytest.raises(UnknownEngine) as raised:
        get_recommender("word2vec")
    assert raised.value.field == "recommender"
    assert "late-total" in raised.value.detail["choices"]


def test_late_recommender_options_are_read():
    config = {
        "mix": {"KIND": "late", "MODE": "partial", "ENGINES": {"clip": 2, "lda": 1}, "RRF_K": 10, "R": 30}
    }
    with override_settings(RECSYS_RECOMMENDERS=config, RECSYS_DEFAULT_RECOMMENDERS=["mix"]):
        mix = get_recommender("mix")
    assert (mix.engines, mix.rrf_k, mix.depth) == ({"clip": 2.0, "lda": 1.0}, 10, 30)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"KIND": "single", "ENGINE": "word2vec"}, "'word2vec' is not an engine"),
        ({"KIND": "hybrid", "ENGINE": "lda"}, "KIND"),
        ({"KIND": "single", "ENGINE": "lda", "MODE": "total"}, "'MODE'.* not an option"),
        ({"KIND": "single", "ENGINE": "lda", "COLOUR": "red"}, "unknown key"),
        ({"KIND": "late", "MODE": "sideways", "ENGINES": {"lda": 1}}, "MODE"),
        ({"KIND": "late", "MODE": "total", "ENGINES": {"lda": 1, "sift": 1}}, "'sift'"),
        ({"KIND": "late", "MODE": "total", "ENGINES": {"lda": 0}}, "positive"),
        ({"KIND": "late", "MODE": "total", "ENGINES": {}}, "non-empty"),
        ({"KIND": "late", "MODE": "partial", "ENGINES": {"lda": 1}, "R": 0}, "'R'"),
    ],
)
def test_bad_configuration_fails_at_first_use(entry, message):
    settings = override_settings(RECSYS_RECOMMENDERS={"x": entry}, RECSYS_DEFAULT_RECOMMENDERS=["x"])
    with settings, pytest.raises(ImproperlyConfigured, match=message):
        recommenders()


def test_default_must_be_configured():
    settings = override_settings(RECSYS_DEFAULT_RECOMMENDERS=["lda", "nope"])
    with settings, pytest.raises(ImproperlyConfigured, match="RECSYS_DEFAULT_RECOMMENDERS names 'nope'"):
        recommenders()
