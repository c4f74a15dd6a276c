"""bench/rest.py measures whatever recommenders are asked for (issue 21, item 5): the synthetic
catalogue builds the engines they use, and a recommender that is not ready ends the run by name
before ``ab`` sends anything."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings


@pytest.fixture(scope="module")
def rest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_rest", Path(settings.BASE_DIR) / "bench" / "rest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_synthetic_catalogue_builds_the_engines_the_asked_recommenders_use(rest):
    assert rest.synthetic_engines(["tfidf", "late-tfidf-minilm"]) == ["minilm", "tfidf"]
    assert rest.synthetic_engines(["lda"]) == ["lda"]


def test_an_engine_without_offline_weights_is_refused_by_name(rest):
    with pytest.raises(SystemExit, match=r"builds lda, minilm, tfidf only .* also use resnet\."):
        rest.synthetic_engines(["resnet", "tfidf"])


def test_a_recommender_the_bench_does_not_know_is_refused_by_name(rest):
    with pytest.raises(SystemExit, match="asked: nosuch"):
        rest.synthetic_engines(["nosuch"])


def test_every_asked_recommender_ready_lets_the_run_measure(rest):
    statuses = [{"name": "tfidf", "status": "ready"}, {"name": "minilm", "status": "computing"}]
    assert rest.not_ready(statuses, ["tfidf"]) is None


def test_a_recommender_not_ready_or_unknown_is_named_with_its_status(rest):
    statuses = [{"name": "tfidf", "status": "ready"}, {"name": "minilm", "status": "computing"}]
    assert rest.not_ready(statuses, ["minilm", "nosuch", "tfidf"]) == (
        "not ready: minilm (computing), nosuch (unknown). Ready: tfidf."
    )
