"""A recommendation answer says when a running A/B experiment changed ``n`` or the recommender."""

from __future__ import annotations

from rest_framework.test import APIClient

from experiments.models import Arm, Experiment
from users.services import api_token_create

URL = "/api/v1/recommendations/"
BODY = {"ratings": {"p-a": 5, "p-b": 1}}


def _participant(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
    return client


def _experiment(n: int) -> None:
    experiment = Experiment.objects.create(name="museum", status="running", n_recommendations=n)
    Arm.objects.create(experiment=experiment, name="A", recommender="minilm")


def test_outside_an_experiment_the_answer_is_as_requested(api_client, minilm, paintings):
    body = api_client.post(URL, BODY | {"recommender": "minilm", "n": 3}, format="json").json()
    assert (body["n"], body["experiment_overrides"]) == (3, {})


def test_an_experiment_that_changes_n_and_the_recommender_says_so(minilm, paintings, user, settings):
    settings.RECSYS_RECOMMENDERS = {
        **settings.RECSYS_RECOMMENDERS,
        "minilm-too": {"KIND": "single", "ENGINE": "minilm"},
    }
    _experiment(n=2)
    body = _participant(user).post(URL, BODY | {"recommender": "minilm-too", "n": 3}, format="json").json()
    assert body["recommender"] == "minilm" and len(body["results"]) == 2
    assert body["n"] == 2
    assert body["experiment_overrides"] == {
        "recommender": {"requested": "minilm-too", "applied": "minilm"},
        "n": {"requested": 3, "applied": 2},
    }


def test_an_experiment_that_asks_what_was_requested_changes_nothing(minilm, paintings, user):
    _experiment(n=3)
    body = _participant(user).post(URL, BODY | {"recommender": "minilm", "n": 3}, format="json").json()
    assert body["exposure"] is not None and body["experiment_overrides"] == {}
