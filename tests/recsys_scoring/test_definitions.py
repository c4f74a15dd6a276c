"""The one recommender definition schema: settings, admin and API accept and refuse the same."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings

from experiments.models import RecommenderDefinition
from recsys.api.request_serializers import RecommendationOptionsSerializer
from recsys.serving.definitions import DefinitionError, parse_definition
from recsys.serving.recommenders import get_recommender

ENGINES = ["lda", "resnet", "clip", "minilm"]

#: (definition in the schema's fields, accepted?)
DEFINITIONS = [
    ({"kind": "single", "engines": {"lda": 1.0}}, True),
    ({"kind": "early", "engines": {"clip": 1.0}}, True),
    ({"kind": "late", "engines": {"lda": 1.0, "resnet": 2.0}, "mode": "total", "rrf_k": 10}, True),
    ({"kind": "late", "engines": {"lda": 1.0, "resnet": 1.0}, "mode": "partial", "depth": 5}, True),
    ({"kind": "learned", "engines": {"minilm": 1.0}, "ridge_lambda": 0.3}, True),
    ({"kind": "single", "engines": {"lda": 1.0}, "mmr_lambda": 1.0}, True),
    ({"kind": "single", "engines": {"lda": 1.0}, "mmr_lambda": 0.5}, True),
    ({"kind": "single", "engines": {"lda": 1.0}, "weighting": "minmax"}, True),
    ({"kind": "single", "engines": {"lda": 1.0}, "mmr_lambda": 0.0}, False),  # the admin took it
    ({"kind": "single", "engines": {"lda": 1.0}, "mmr_lambda": 1.5}, False),
    ({"kind": "single", "engines": {"lda": 1.0, "resnet": 1.0}}, False),
    ({"kind": "single", "engines": {"lda": 1.0}, "mode": "total"}, False),
    ({"kind": "single", "engines": {"lda": 1.0}, "rrf_k": 10}, False),
    ({"kind": "single", "engines": {"lda": 1.0}, "ridge_lambda": 1.0}, False),
    ({"kind": "single", "engines": {"word2vec": 1.0}}, False),
    ({"kind": "single", "engines": {"lda": 1.0}, "weighting": "zscore"}, False),
    ({"kind": "late", "engines": {"lda": 1.0, "resnet": 1.0}}, False),
    ({"kind": "late", "engines": {"lda": 1.0, "resnet": 1.0}, "mode": "partial", "depth": 0}, False),
    ({"kind": "late", "engines": {"lda": 0.0, "resnet": 1.0}, "mode": "total"}, False),
    ({"kind": "learned", "engines": {"minilm": 1.0}, "ridge_lambda": 0.0}, False),
    ({"kind": "hybrid", "engines": {"lda": 1.0}}, False),
    ({"kind": "score", "engines": {"resnet": 0.4, "minilm": 0.6}}, True),
    ({"kind": "score", "engines": {"resnet": 0.4, "minilm": 0.6}, "mmr_lambda": 0.8}, True),
    ({"kind": "score", "engines": {"minilm": 1.0}}, False),  # fusion needs two engines
    ({"kind": "score", "engines": {"resnet": 1.0, "minilm": 0.0}}, False),
    ({"kind": "score", "engines": {"resnet": 0.5, "minilm": 0.5}, "mode": "total"}, False),
]
SETTINGS_KEYS = {
    "kind": "KIND",
    "engines": "ENGINES",
    "mode": "MODE",
    "rrf_k": "RRF_K",
    "depth": "R",
    "weighting": "WEIGHTING",
    "mmr_lambda": "MMR_LAMBDA",
    "ridge_lambda": "LAMBDA",
}


def _settings_accept(fields: dict) -> bool:
    entry = {SETTINGS_KEYS[key]: value for key, value in fields.items()}
    configured = override_settings(RECSYS_RECOMMENDERS={"x": entry}, RECSYS_DEFAULT_RECOMMENDERS=["x"])
    try:
        with configured:
            get_recommender("x")
    except ImproperlyConfigured:
        return False
    return True


def _admin_accepts(fields: dict) -> bool:
    try:
        RecommenderDefinition(name="defined-in-admin", **fields).full_clean()
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("fields", "valid"), DEFINITIONS)
def test_settings_and_admin_accept_and_refuse_the_same_definitions(db, fields, valid):
    assert (_settings_accept(fields), _admin_accepts(fields)) == (valid, valid)


@pytest.mark.parametrize(
    ("value", "valid"), [(0.0, False), (0.5, True), (1.0, True), (1.5, False), (-0.1, False)]
)
def test_the_api_accepts_the_mmr_lambdas_definitions_accept(db, value, valid):
    fields = {"kind": "single", "engines": {"lda": 1.0}, "mmr_lambda": value}
    api = RecommendationOptionsSerializer(data={"mmr_lambda": value}).is_valid()
    assert (api, _settings_accept(fields), _admin_accepts(fields)) == (valid, valid, valid)


def test_admin_errors_name_the_field(db):
    with pytest.raises(ValidationError) as raised:
        RecommenderDefinition(name="x", kind="single", engines={"lda": 1}, mmr_lambda=0.0).full_clean()
    assert list(raised.value.message_dict) == ["mmr_lambda"]


def test_settings_errors_name_the_entry_and_key():
    entry = {"KIND": "learned", "ENGINES": ["minilm"], "LAMBDA": -1}
    configured = override_settings(RECSYS_RECOMMENDERS={"x": entry}, RECSYS_DEFAULT_RECOMMENDERS=["x"])
    with configured, pytest.raises(ImproperlyConfigured, match=r"RECSYS_RECOMMENDERS\['x'\]\['LAMBDA'\]"):
        get_recommender("x")


def test_a_definition_parses_to_its_typed_config():
    config = parse_definition(
        "mix",
        {"kind": "late", "engines": ["lda", "resnet"], "mode": "partial", "depth": 20, "mmr_lambda": 0.7},
        engines=ENGINES,
    )
    assert (config.kind, config.engines, config.mode, config.rrf_k, config.depth, config.mmr_lambda) == (
        "late",
        {"lda": 1.0, "resnet": 1.0},
        "partial",
        60,
        20,
        0.7,
    )


def test_the_default_rrf_k_is_no_option_of_other_kinds():
    """The admin form always sends RRF k (default 60): that alone does not refuse a single one."""
    config = parse_definition("x", {"kind": "single", "engines": "lda", "rrf_k": 60}, engines=ENGINES)
    assert config.engines == {"lda": 1.0}


def test_an_unknown_field_is_named():
    with pytest.raises(DefinitionError) as raised:
        parse_definition("x", {"kind": "single", "engines": "lda", "colour": 1}, engines=ENGINES)
    assert raised.value.field == "colour"
