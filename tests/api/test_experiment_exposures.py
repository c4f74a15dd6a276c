"""/api/v1/recommendations/ inside a running A/B experiment: the `visitor` field (or the caller
signed in with a token) takes part, the list is logged as an exposure named in the response, and
the app answers the questionnaire about it through /api/v1/experiments/."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from experiments.models import Arm, Experiment, Exposure, Feedback, Participant
from tests.factories import RatingFactory
from users.services import api_token_create

URL = "/api/v1/recommendations/"
BODY = {"ratings": {"p-a": 5, "p-b": 1}, "recommender": "minilm"}
ANSWERS = {"accuracy": 4, "diversity": 3, "novelty": 5, "serendipity": 2}
EXPERIMENT_TABLES = ("experiments_experiment", "experiments_participant", "experiments_exposure")


def post(client: APIClient, body: dict, **extra):
    return client.post(URL, body, format="json", **extra)


def make_experiment(*, status: str = "running", n: int = 2) -> Experiment:
    """Two arms that both answer with minilm (the one artefact of the API fixtures)."""
    experiment = Experiment.objects.create(name=f"museum-{status}", status=status, n_recommendations=n)
    Arm.objects.create(experiment=experiment, name="A", recommender="minilm")
    Arm.objects.create(experiment=experiment, name="B", recommender="minilm")
    return experiment


def test_a_museum_visitor_takes_part_and_the_list_is_logged(api_client, minilm, paintings):
    experiment = make_experiment()

    response = post(api_client, BODY | {"visitor": "museum:42", "n": 3})

    assert response.status_code == 200
    body = response.json()
    exposure = Exposure.objects.get()
    assert body["exposure"] == {"id": exposure.pk, "experiment": experiment.pk, "arm": exposure.arm.name}
    assert exposure.visitor_key == "visitor:museum:42" and exposure.source == "api"
    assert exposure.recommender == "minilm" and exposure.versions == {"minilm": minilm.version}
    # the experiment's list length (2), not the request's n, in the order shown
    assert [r["painting"]["id"] for r in body["results"]] == ["p-e", "p-c"]
    assert exposure.painting_ids == [paintings["e"].pk, paintings["c"].pk]


def test_the_same_visitor_keeps_their_arm_and_each_list_is_logged(api_client, minilm):
    make_experiment()
    first = post(api_client, BODY | {"visitor": "museum:42"}).json()["exposure"]
    second = post(api_client, BODY | {"visitor": "museum:42"}).json()["exposure"]
    assert first["arm"] == second["arm"] and first["id"] != second["id"]
    assert Participant.objects.get().visitor_key == "visitor:museum:42"
    assert Exposure.objects.count() == 2


def test_without_visitor_an_anonymous_caller_takes_no_part(api_client, minilm):
    make_experiment()
    response = post(api_client, BODY)
    assert response.status_code == 200 and response.json()["exposure"] is None
    assert len(response.json()["results"]) == 3  # the request's own options
    assert not Exposure.objects.exists() and not Participant.objects.exists()


def test_a_token_user_without_visitor_takes_part_as_themselves(api_client, minilm, user):
    make_experiment()
    _, key = api_token_create(user=user)

    body = post(api_client, BODY, HTTP_AUTHORIZATION=f"Token {key}").json()

    assert Exposure.objects.get(pk=body["exposure"]["id"]).visitor_key == f"user:{user.pk}"


def test_a_visitor_sent_by_a_signed_in_app_wins(api_client, minilm, user):
    make_experiment()
    _, key = api_token_create(user=user)

    body = post(api_client, BODY | {"visitor": "guest.7"}, HTTP_AUTHORIZATION=f"Token {key}").json()

    assert Exposure.objects.get(pk=body["exposure"]["id"]).visitor_key == "visitor:guest.7"


def test_a_session_cookie_does_not_make_a_post_a_users(minilm, user):
    make_experiment()
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=user.username, password="pass-word-123")
    response = post(client, BODY)
    assert response.status_code == 200 and response.json()["exposure"] is None


def test_get_logs_the_signed_in_users_list(auth_client, user, minilm, paintings):
    make_experiment()
    RatingFactory(user=user, painting=paintings["a"], value=5)

    body = auth_client.get(URL).json()

    exposure = Exposure.objects.get(pk=body["exposure"]["id"])
    assert exposure.visitor_key == f"user:{user.pk}" and exposure.source == "api"
    assert [r["painting"]["id"] for r in body["results"]] == ["p-e", "p-c"]


@pytest.mark.parametrize(
    "visitor", ["", "a" * 65, "has space", "semi;colon", "é", 42, None, ["museum-1"]], ids=repr
)
def test_a_bad_visitor_is_400_naming_it_and_logs_nothing(api_client, minilm, visitor):
    make_experiment()
    response = post(api_client, BODY | {"visitor": visitor})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "visitor"
    assert not Exposure.objects.exists() and not Participant.objects.exists()


@pytest.mark.parametrize("visitor", ["a", "A-Z_0.9:x", "x" * 64])
def test_visitor_ids_of_1_to_64_allowed_characters(api_client, minilm, visitor):
    make_experiment()
    assert post(api_client, BODY | {"visitor": visitor}).json()["exposure"] is not None
    assert Exposure.objects.get().visitor_key == f"visitor:{visitor}"


def test_feedback_on_the_logged_list_through_the_api(api_client, minilm):
    make_experiment()
    exposure = post(api_client, BODY | {"visitor": "museum:42"}).json()["exposure"]
    url = f"/api/v1/experiments/exposures/{exposure['id']}/feedback/"

    mine = api_client.post(url, {"visitor": "museum:42", **ANSWERS}, format="json")
    theirs = api_client.post(url, {"visitor": "museum:43", **ANSWERS}, format="json")

    assert mine.status_code == 201 and theirs.status_code == 403
    assert Feedback.objects.get().answers() == ANSWERS
    assert Feedback.objects.get().exposure_id == exposure["id"]


@pytest.mark.parametrize("status", ["draft", "stopped"])
def test_a_draft_or_stopped_experiment_logs_nothing(api_client, minilm, status):
    make_experiment(status=status)
    response = post(api_client, BODY | {"visitor": "museum:42"})
    assert response.status_code == 200 and response.json()["exposure"] is None
    assert len(response.json()["results"]) == 3
    assert not Exposure.objects.exists() and not Participant.objects.exists()


def test_a_stopped_experiment_stops_logging_at_once(api_client, minilm):
    experiment = make_experiment()
    assert post(api_client, BODY | {"visitor": "museum:42"}).json()["exposure"] is not None
    experiment.status = Experiment.Status.STOPPED
    experiment.save()
    assert post(api_client, BODY | {"visitor": "museum:42"}).json()["exposure"] is None
    assert Exposure.objects.count() == 1


def test_no_running_experiment_costs_no_query(api_client, minilm):
    # the rated paintings, the active artefact row, the active tuned version (minilm is TUNED),
    # the catalogued check that reads the recommended paintings: the same four as without a
    # visitor (tests/api/test_recommendations.py), none of experiments
    with CaptureQueriesContext(connection) as queries:
        response = post(api_client, BODY | {"visitor": "museum:42"})
    assert response.status_code == 200 and response.json()["exposure"] is None
    assert len(queries) == 4
    assert not [q["sql"] for q in queries if any(t in q["sql"] for t in EXPERIMENT_TABLES)]


def test_experiment_api_routes_live_in_the_one_api_urlconf(api_client, db):
    match = resolve("/api/v1/experiments/exposures/7/feedback/")
    assert match.url_name == "api-experiment-feedback" and match.kwargs == {"exposure_id": 7}
    assert reverse("api-experiment-assignment") == "/api/v1/experiments/assignment/"
    assert reverse("api-experiment-click", args=[7]) == "/api/v1/experiments/exposures/7/clicks/"
    assert reverse("experiments:analysis", args=[7]) == "/experiments/7/analysis/"
    unknown = api_client.get("/api/v1/experiments/nowhere/")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"]


def test_schema_documents_visitor_and_exposure(tmp_path, db):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    schemas = yaml.safe_load(target.read_text())["components"]["schemas"]
    visitor = schemas["AnonymousRecommendationRequest"]["properties"]["visitor"]
    assert visitor["type"] == "string" and visitor["maxLength"] == 64
    exposure = schemas["Recommendations"]["properties"]["exposure"]
    assert exposure["nullable"] is True
    assert set(schemas["Exposure"]["properties"]) == {"id", "experiment", "arm"}


def test_a_rating_saved_through_the_api_is_linked_to_the_list_that_showed_it(api_client, minilm, user):
    make_experiment()
    _, key = api_token_create(user=user)
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    shown = post(api_client, BODY, **auth).json()
    first = shown["results"][0]["painting"]["id"]

    api_client.post("/api/v1/me/ratings/", {"painting": first, "value": 4}, format="json", **auth)

    exposure = Exposure.objects.get(pk=shown["exposure"]["id"])
    (link,) = exposure.ratings.all()
    assert (link.value, link.rank) == (4, 1)


def test_two_museum_apps_sending_the_same_visitor_id_are_two_participants(api_client, minilm):
    from clients.services import api_key_create

    make_experiment()
    for name in ("app-one", "app-two"):
        _, raw = api_key_create(name=name)
        post(api_client, BODY | {"visitor": "42"}, HTTP_AUTHORIZATION=f"Api-Key {raw}")
    keys = sorted(Participant.objects.values_list("visitor_key", flat=True))
    assert len(keys) == 2 and all(key.endswith(":visitor:42") for key in keys)
    assert keys[0].split(":")[0] != keys[1].split(":")[0]
