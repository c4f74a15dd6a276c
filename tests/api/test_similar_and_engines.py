"""GET /api/v1/paintings/<id>/similar/ and /api/v1/recommenders/ (alias /api/v1/engines/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from recsys.models import Artefact
from recsys.serving.tuned import NO_VERSION
from tests.api.conftest import VECTORS
from tests.artefact_helpers import write_artefact

# -- similar paintings ----------------------------------------------------------------------------


def test_similar_paintings_by_cosine(api_client, minilm):
    # cos(a, .): e 0.96, c 0.8, d 0.6, b 0.0
    response = api_client.get("/api/v1/paintings/p-a/similar/", {"engine": "minilm", "n": 3})
    assert response.status_code == 200
    body = response.json()
    assert (body["painting"], body["engine"]) == ("p-a", "minilm")
    assert [(r["rank"], r["painting"]["id"]) for r in body["results"]] == [(1, "p-e"), (2, "p-c"), (3, "p-d")]
    assert [r["similarity"] for r in body["results"]] == pytest.approx([0.96, 0.8, 0.6])
    assert body["results"][0]["painting"]["title"] == "Impression, Sunrise"


def test_similar_defaults_to_ten(api_client, minilm):
    results = api_client.get("/api/v1/paintings/p-a/similar/", {"engine": "minilm"}).json()["results"]
    assert [r["painting"]["id"] for r in results] == ["p-e", "p-c", "p-d", "p-b"]


def test_similar_of_unknown_painting_is_404(api_client, minilm):
    response = api_client.get("/api/v1/paintings/p-zzz/similar/", {"engine": "minilm"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_painting"


@pytest.mark.parametrize("default", ["minilm", "late-text"])  # a fusion: its ready engine (lda is not)
def test_similar_without_an_engine_uses_the_default_recommenders(api_client, minilm, settings, default):
    settings.RECSYS_DEFAULT_RECOMMENDERS = [default]
    named = api_client.get("/api/v1/paintings/p-a/similar/", {"engine": "minilm", "n": 3}).json()
    response = api_client.get("/api/v1/paintings/p-a/similar/", {"n": 3})
    assert response.status_code == 200
    assert response.json() == named and response.json()["engine"] == "minilm"


def test_similar_with_unknown_engine_is_400(api_client, minilm):
    response = api_client.get("/api/v1/paintings/p-a/similar/", {"engine": "late-total"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_engine"


def test_similar_with_engine_not_ready_is_503(api_client, minilm):
    response = api_client.get("/api/v1/paintings/p-a/similar/", {"engine": "clip"})
    assert response.status_code == 503
    assert "Set RECSYS_CLIP_MODEL" in response.json()["error"]["message"]


def test_similar_n_out_of_range_is_400(api_client, minilm):
    for n in (0, 101, "many"):
        response = api_client.get("/api/v1/paintings/p-a/similar/", {"engine": "minilm", "n": n})
        assert response.status_code == 400
        assert response.json()["error"]["field"] == "n"


def test_similar_n_must_be_plain_digits(api_client, minilm):
    for n in ("3.0", "+3", "3 "):
        response = api_client.get("/api/v1/paintings/p-a/similar/", {"engine": "minilm", "n": n})
        assert (response.status_code, response.json()["error"]["field"]) == (400, "n")


def test_similar_takes_a_fixed_number_of_queries(api_client, minilm, django_assert_max_num_queries):
    # the painting, the active artefact, the catalogued check, the hydration
    with django_assert_max_num_queries(4):
        response = api_client.get("/api/v1/paintings/p-a/similar/", {"engine": "minilm", "n": 4})
    assert len(response.json()["results"]) == 4


# -- recommenders --------------------------------------------------------------------------------------
def test_engine_list_has_every_recommender_with_its_status(api_client, minilm):
    Artefact.objects.create(
        engine="clip", version="clip-run", status=Artefact.Status.RUNNING, processed=1, total=4
    )
    body = {e["name"]: e for e in api_client.get("/api/v1/recommenders/").json()}
    assert list(body) == [
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
    assert (body["learned"]["kind"], body["learned"]["status"]) == ("learned", "ready")  # minilm is ready
    minilm_status = body["minilm"]
    assert set(minilm_status) == {
        "name",
        "kind",
        "mode",
        "engines",
        "status",
        "reason",
        "progress",
        "versions",
        "coverage",
        "is_default",
        "builds",
        "eta_s",
        "space",
    }
    assert {key: value for key, value in minilm_status.items() if key != "progress"} == {
        "name": "minilm",
        "kind": "single",
        "mode": None,
        "engines": {"minilm": 1.0},
        "status": "ready",
        # minilm is TUNED and no tuned version is active: scored in the untuned space, and why
        "reason": f"untuned space: {NO_VERSION}",
        "versions": {"minilm": minilm.version},
        "coverage": 1.0,
        "is_default": True,  # the first ready recommender of RECSYS_DEFAULT_RECOMMENDERS
        "builds": {},
        "eta_s": None,
        "space": "untuned",
    }
    assert (body["clip"]["status"], body["clip"]["progress"]) == ("computing", 0.25)
    assert body["blip"]["status"] == "unavailable"
    assert body["blip"]["reason"].startswith("blip")
    assert body["late-total"]["is_default"] is False
    assert body["late-total"]["versions"] == {"lda": None, "resnet": None}


def test_a_build_reports_its_step_count_and_time_left(api_client, minilm):
    started = timezone.now() - timedelta(seconds=100)
    Artefact.objects.create(
        engine="lda",
        version="lda-run",
        status=Artefact.Status.RUNNING,
        started_at=started,
        step="fit",
        step_done=10,
        step_total=30,
        step_unit="LDA training passes",
        step_started_at=started,
    )

    body = api_client.get("/api/v1/recommenders/lda/").json()

    assert (body["status"], body["progress"]) == ("computing", pytest.approx(1 / 3))
    build = body["builds"]["lda"]
    assert {k: v for k, v in build.items() if k not in ("eta_s", "elapsed_s")} == {
        "step": "fit",
        "label": "learning from the catalogue",
        "index": 2,
        "count": 4,
        "done": 10,
        "total": 30,
        "unit": "LDA training passes",
        "fraction": pytest.approx(1 / 3),
    }
    assert build["eta_s"] == pytest.approx(200, abs=5)  # 100 s for 10 passes, 20 to go
    assert body["eta_s"] == pytest.approx(build["eta_s"])
    assert body["reason"].startswith(
        "lda: computing (step 2 of 4, learning from the catalogue: 10/30 LDA training passes, about "
    )


def test_recommender_detail(api_client, minilm):
    response = api_client.get("/api/v1/recommenders/minilm/")
    assert response.status_code == 200
    assert response.json()["versions"] == {"minilm": minilm.version}


@pytest.mark.parametrize("base", ["/api/v1/recommenders/", "/api/v1/engines/"])
def test_unknown_recommender_in_path_is_404(api_client, db, base):
    response = api_client.get(f"{base}nope/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_engine"
    assert response.json()["error"]["field"] == "name"


def test_engines_is_an_alias_answering_the_same(api_client, minilm):
    assert api_client.get("/api/v1/engines/").json() == api_client.get("/api/v1/recommenders/").json()
    detail = api_client.get("/api/v1/engines/late-total/").json()
    assert detail == api_client.get("/api/v1/recommenders/late-total/").json()
    assert detail["name"] == "late-total"


def test_recommender_list_queries_do_not_grow_with_engines(
    api_client, paintings, django_assert_max_num_queries
):
    # every engine has an artefact: still one query for the admin-defined recommenders, one for the
    # artefact rows, one for the catalogue, one for the active tuned version (however many TUNED
    # recommenders) and none per engine or recommender (20 over 8 engines)
    for engine in settings.RECSYS_ENGINES:
        write_artefact(engine=engine, paintings=list(paintings.values()), vectors=list(VECTORS.values()))
    with django_assert_max_num_queries(4):
        response = api_client.get("/api/v1/recommenders/")
    assert [r["status"] for r in response.json()] == ["ready"] * len(settings.RECSYS_RECOMMENDERS)
    assert len(settings.RECSYS_RECOMMENDERS) == 20


@pytest.mark.django_db
def test_with_an_empty_catalogue_a_recommender_says_how_to_fill_it(api_client):
    response = api_client.get("/api/v1/recommenders/tfidf/")

    assert response.status_code == 200
    assert response.json()["status"] == "unavailable"
    assert response.json()["reason"] == (
        "tfidf: the catalogue has no paintings yet: import some (`manage.py import_catalog --sample`) "
        "or add them in the admin; the engines are computed when they arrive"
    )
