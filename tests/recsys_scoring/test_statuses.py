"""Recommender statuses (recsys.serving.selectors) from the engines' artefacts and runs."""

import pytest

from recsys.models import Artefact
from recsys.serving.selectors import recommender_names, recommender_status, recommender_statuses


@pytest.fixture
def models_available(monkeypatch):
    """Whether model weights can be loaded is the engines' business (recsys.serving.selectors), not
    this one's."""
    monkeypatch.setattr("recsys.serving.selectors.engine_unavailable_reason", lambda name: "")


def test_recommender_names_follow_settings(db):
    assert recommender_names() == [
        "tfidf",
        "lda",
        "resnet",
        "minilm",
        "dinov2",
        "xlmr",
        "clip",
        "blip",
        "late-partial",
        "late-total",
        "late-text",
        "learned",
        "paper:lda",
        "paper:minilm",
        "paper:resnet",
        "paper:clip",
        "paper:blip",
        "score-text",
        "late-tfidf-minilm",
        "score-dinov2-xlmr",
    ]


def test_single_recommender_is_ready_with_its_version_and_coverage(paintings, resnet, models_available):
    status = recommender_status(name="resnet")
    assert (status.status, status.reason, status.versions) == ("ready", "", {"resnet": resnet.version})
    assert status.coverage == pytest.approx(6 / 7)
    assert status.engines == {"resnet": 1.0}


def test_late_recommender_is_ready_only_when_all_engines_are(paintings, lda, models_available):
    status = recommender_status(name="late-total")
    assert status.status == "unavailable"
    assert status.reason.startswith("resnet: no artefact computed yet")
    assert status.versions == {"lda": lda.version, "resnet": None}
    assert not status.is_default  # the default is the first ready preference: lda alone


def test_default_is_the_first_ready_preference(paintings, lda, models_available):
    defaults = [s.name for s in recommender_statuses() if s.is_default]
    assert defaults == ["lda"]  # late-total, minilm and late-text wait for resnet and minilm


def test_a_computing_engine_reports_progress(paintings, lda, models_available):
    Artefact.objects.create(
        engine="resnet", version="r-run", status=Artefact.Status.RUNNING, processed=3, total=12
    )
    status = recommender_status(name="late-partial")
    assert (status.status, status.progress) == ("computing", 0.25)
    assert status.reason.startswith(
        "resnet: computing (step 2 of 3, encoding paintings: 3/12 paintings, about "
    )
    assert status.builds["resnet"].step == "encode" and status.eta_s is not None


def test_all_statuses_in_settings_order(paintings, lda, resnet, models_available):
    statuses = recommender_statuses()
    assert [(s.name, s.status) for s in statuses] == [
        ("tfidf", "unavailable"),
        ("lda", "ready"),
        ("resnet", "ready"),
        ("minilm", "unavailable"),
        ("dinov2", "unavailable"),
        ("xlmr", "unavailable"),
        ("clip", "unavailable"),
        ("blip", "unavailable"),
        ("late-partial", "ready"),
        ("late-total", "ready"),
        ("late-text", "unavailable"),
        ("learned", "unavailable"),
        ("paper:lda", "ready"),
        ("paper:minilm", "unavailable"),
        ("paper:resnet", "ready"),
        ("paper:clip", "unavailable"),
        ("paper:blip", "unavailable"),
        ("score-text", "unavailable"),
        ("late-tfidf-minilm", "unavailable"),
        ("score-dinov2-xlmr", "unavailable"),
    ]
