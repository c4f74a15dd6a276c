"""The recommender registry built from settings.RECSYS_RECOMMENDERS."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from config.exceptions import UnknownEngine
from recsys.recommenders import get_recommender, recommenders


def test_default_configuration_registers_the_papers_late_fusion():
    late = get_recommender("late-partial")
    assert (late.kind, late.mode, late.engines, late.rrf_k) == (
        "late",
        "partial",
        {"lda": 1.0, "resnet": 1.0},
        60,
    )
    assert get_recommender("clip").kind == "early"


def test_none_means_the_default_recommender():
    with override_settings(RECSYS_DEFAULT_RECOMMENDER="lda"):
        assert get_recommender(None).name == "lda"


def test_unknown_recommender_names_the_recommender_field(db):  # admin-defined ones are read too
    with pytest.raises(UnknownEngine) as raised:
        get_recommender("word2vec")
    assert raised.value.field == "recommender"
    assert "late-total" in raised.value.detail["choices"]


def test_late_recommender_options_are_read():
    config = {
        "mix": {"KIND": "late", "MODE": "partial", "ENGINES": {"clip": 2, "lda": 1}, "RRF_K": 10, "R": 30}
    }
    with override_settings(RECSYS_RECOMMENDERS=config, RECSYS_DEFAULT_RECOMMENDER="mix"):
        mix = get_recommender("mix")
    assert (mix.engines, mix.rrf_k, mix.depth) == ({"clip": 2.0, "lda": 1.0}, 10, 30)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"KIND": "single", "ENGINE": "word2vec"}, "not in RECSYS_ENGINES"),
        ({"KIND": "hybrid", "ENGINE": "lda"}, "KIND"),
        ({"KIND": "single", "ENGINE": "lda", "MODE": "total"}, "unknown key"),
        ({"KIND": "late", "MODE": "sideways", "ENGINES": {"lda": 1}}, "MODE"),
        ({"KIND": "late", "MODE": "total", "ENGINES": {"lda": 1, "sift": 1}}, "'sift'"),
        ({"KIND": "late", "MODE": "total", "ENGINES": {"lda": 0}}, "positive"),
        ({"KIND": "late", "MODE": "total", "ENGINES": {}}, "non-empty"),
        ({"KIND": "late", "MODE": "partial", "ENGINES": {"lda": 1}, "R": 0}, "'R'"),
    ],
)
def test_bad_configuration_fails_at_first_use(entry, message):
    settings = override_settings(RECSYS_RECOMMENDERS={"x": entry}, RECSYS_DEFAULT_RECOMMENDER="x")
    with settings, pytest.raises(ImproperlyConfigured, match=message):
        recommenders()


def test_default_must_be_configured():
    settings = override_settings(RECSYS_DEFAULT_RECOMMENDER="nope")
    with settings, pytest.raises(ImproperlyConfigured, match="RECSYS_DEFAULT_RECOMMENDER"):
        recommenders()
