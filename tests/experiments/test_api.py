"""The experiments API: assignment for a visitor id, feedback and clicks on an owned list."""

from django.urls import reverse

from experiments import services
from experiments.models import Feedback

ANSWERS = {"accuracy": 4, "diversity": 3, "novelty": 5, "serendipity": 2}


def _exposure(experiment, key, painting_ids=(1, 2, 3)):
    return services.log_exposure(
        experiment=experiment,
        arm=experiment.arms.first(),
        visitor_key=key,
        recommender="lda",
        versions={},
        painting_ids=list(painting_ids),
    )


def test_assignment_for_a_museum_visitor(api_client, between):
    url = reverse("api-experiment-assignment")
    body = api_client.get(url, {"visitor": "museum-visitor-1"}).json()
    again = api_client.get(url, {"visitor": "museum-visitor-1"}).json()
    assert body == again
    assert body["experiment"]["id"] == between.pk and body["arm"]["recommender"] in {"lda", "resnet"}
    assert body["questions"]["accuracy"] == "The recommendations match my personal preferences and interests"


def test_assignment_without_experiment_or_visitor(api_client, db):
    url = reverse("api-experiment-assignment")
    assert api_client.get(url, {"visitor": "museum-visitor-1"}).json()["experiment"] is None
    assert api_client.get(url, {"visitor": "not a visitor!"}).json()["error"]["field"] == "visitor"


def test_assignment_needs_a_visitor_when_an_experiment_runs(api_client, between):
    response = api_client.get(reverse("api-experiment-assignment"))
    assert response.status_code == 400 and response.json()["error"]["field"] == "visitor"


def test_feedback_from_the_owner(api_client, between):
    exposure = _exposure(between, "visitor:museum-visitor-1")
    url = reverse("api-experiment-feedback", args=[exposure.pk])
    response = api_client.post(url, {"visitor": "museum-visitor-1", **ANSWERS}, format="json")
    assert response.status_code == 201 and response.json()["novelty"] == 5
    assert Feedback.objects.get().answers() == ANSWERS
    assert api_client.post(url, {"visitor": "museum-visitor-1", **ANSWERS}, format="json").status_code == 409


def test_feedback_from_someone_else_is_forbidden(api_client, between):
    exposure = _exposure(between, "visitor:museum-visitor-1")
    url = reverse("api-experiment-feedback", args=[exposure.pk])
    response = api_client.post(url, {"visitor": "museum-visitor-2", **ANSWERS}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_your_exposure"
    assert not Feedback.objects.exists()


def test_signed_in_users_own_their_lists(auth_client, user, between):
    exposure = _exposure(between, f"user:{user.pk}")
    response = auth_client.post(
        reverse("api-experiment-feedback", args=[exposure.pk]), ANSWERS, format="json"
    )
    assert response.status_code == 201


def test_bad_answers_name_the_field(api_client, between):
    exposure = _exposure(between, "visitor:museum-visitor-1")
    url = reverse("api-experiment-feedback", args=[exposure.pk])
    response = api_client.post(url, {"visitor": "museum-visitor-1", **ANSWERS, "diversity": 0}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "diversity"
    assert (
        api_client.post(
            reverse("api-experiment-feedback", args=[999999]),
            {"visitor": "museum-visitor-1", **ANSWERS},
            format="json",
        ).status_code
        == 404
    )


def test_click_on_a_listed_painting(api_client, between, paintings):
    exposure = _exposure(between, "visitor:museum-visitor-1", [p.pk for p in paintings[:3]])
    url = reverse("api-experiment-click", args=[exposure.pk])
    response = api_client.post(
        url, {"visitor": "museum-visitor-1", "painting": paintings[1].external_id}, format="json"
    )
    assert response.status_code == 201 and response.json()["rank"] == 2
    outside = api_client.post(
        url, {"visitor": "museum-visitor-1", "painting": paintings[5].external_id}, format="json"
    )
    assert outside.status_code == 400 and outside.json()["error"]["field"] == "painting"
