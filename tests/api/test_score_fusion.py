"""A score-fusion recommender through the API, with paintings that lack one modality.

Ratings a=5 (w=+1) and b=1 (w=-1). The text engine (minilm) represents a, b, c, d (e has no
text); the image engine (resnet) a, c, e (b and d have no image), so it uses the rating of a
alone (n = 1). With weights resnet 0.25 (beta) and minilm 0.75:

* text:  S_t(c) = (0.8 - 0.6) / 2 = 0.1, S_t(d) = (0.6 - 0.8) / 2 = -0.1
* image: S_i(c) = cos(a, c) = 0.6, S_i(e) = cos(a, e) = 0.96
* fused: c = 0.25 * 0.6 + 0.75 * 0.1 = 0.225; d (no image) = -0.1; e (no text) = 0.96
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from experiments.models import RecommenderDefinition
from recsys.serving.recommenders import forget_provided_recommenders
from tests.artefact_helpers import write_artefact

URL = "/api/v1/recommendations/"
TEXT = {"a": (1.0, 0.0), "b": (0.0, 1.0), "c": (0.8, 0.6), "d": (0.6, 0.8)}
IMAGE = {"a": (1.0, 0.0), "c": (0.6, 0.8), "e": (0.96, 0.28)}
FUSED = {"KIND": "score", "ENGINES": {"resnet": 0.25, "minilm": 0.75}}


@pytest.fixture
def two_modalities(paintings):
    text = write_artefact(
        engine="minilm", paintings=[paintings[k] for k in TEXT], vectors=list(TEXT.values())
    )
    image = write_artefact(
        engine="resnet", paintings=[paintings[k] for k in IMAGE], vectors=list(IMAGE.values())
    )
    return text, image


def _post(client, recommender: str):
    body = {"ratings": {"p-a": 5, "p-b": 1}, "recommender": recommender}
    return client.post(URL, body, format="json")


def _ranking(body: dict) -> list[tuple[str, float]]:
    return [(r["painting"]["id"], round(r["score"], 6)) for r in body["results"]]


@override_settings(
    RECSYS_RECOMMENDERS={"lda": {"KIND": "single", "ENGINE": "lda"}, "fused": FUSED},
    RECSYS_DEFAULT_RECOMMENDERS=["lda"],
)
def test_a_painting_lacking_a_modality_is_ranked_by_the_other(api_client, two_modalities):
    text, image = two_modalities
    response = _post(api_client, "fused")
    assert response.status_code == 200
    body = response.json()
    assert (body["kind"], body["mode"]) == ("score", None)
    assert _ranking(body) == [("p-e", 0.96), ("p-c", 0.225), ("p-d", -0.1)]
    assert body["versions"] == {"resnet": image.version, "minilm": text.version}
    assert body["ignored_ratings"] == {"p-b": f"not in the resnet artefact {image.version}"}


@override_settings(
    RECSYS_RECOMMENDERS={"lda": {"KIND": "single", "ENGINE": "lda"}, "fused": FUSED},
    RECSYS_DEFAULT_RECOMMENDERS=["lda"],
)
def test_each_item_is_explained_by_the_engine_with_the_larger_share(api_client, two_modalities):
    results = _post(api_client, "fused").json()["results"]
    engines = {r["painting"]["id"]: {c["engine"] for c in r["explanation"]["contributions"]} for r in results}
    # c: image share 0.25 * 0.6 = 0.15 beats text 0.75 * 0.1 = 0.075
    assert engines == {"p-e": {"resnet"}, "p-c": {"resnet"}, "p-d": {"minilm"}}


@override_settings(
    RECSYS_RECOMMENDERS={"lda": {"KIND": "single", "ENGINE": "lda"}, "fused": FUSED},
    RECSYS_DEFAULT_RECOMMENDERS=["lda"],
)
def test_the_recommenders_list_shows_the_kind(api_client, two_modalities):
    listed = {r["name"]: r for r in api_client.get("/api/v1/recommenders/").json()}
    assert (listed["fused"]["kind"], listed["fused"]["status"]) == ("score", "ready")
    assert listed["fused"]["engines"] == {"resnet": 0.25, "minilm": 0.75}


def test_an_admin_defined_score_fusion_answers_through_the_api(api_client, two_modalities):
    RecommenderDefinition.objects.create(
        name="beta-quarter", kind="score", engines={"resnet": 0.25, "minilm": 0.75}
    )
    forget_provided_recommenders()
    body = _post(api_client, "beta-quarter").json()
    assert _ranking(body) == [("p-e", 0.96), ("p-c", 0.225), ("p-d", -0.1)]


def test_an_ab_arm_may_be_a_score_fusion_recommender(api_client, two_modalities):
    from experiments.models import Arm, Experiment, Exposure
    from experiments.visitors import issue_visitor_id

    RecommenderDefinition.objects.create(
        name="beta-quarter", kind="score", engines={"resnet": 0.25, "minilm": 0.75}
    )
    forget_provided_recommenders()
    experiment = Experiment.objects.create(name="fusion", status="running", n_recommendations=3)
    Arm.objects.create(experiment=experiment, name="only", recommender="beta-quarter")
    body = api_client.post(
        # an anonymous caller takes part with a visitor id the assignment endpoint issued (a
        # made-up one is refused)
        URL,
        {"ratings": {"p-a": 5, "p-b": 1}, "visitor": issue_visitor_id()},
        format="json",
    ).json()
    assert (body["recommender"], body["kind"]) == ("beta-quarter", "score")
    assert _ranking(body) == [("p-e", 0.96), ("p-c", 0.225), ("p-d", -0.1)]
    assert Exposure.objects.get().recommender == "beta-quarter"
