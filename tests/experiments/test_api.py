"""The experiments API: assignment for a visitor id, feedback and clicks on an owned list, lists
named by unguessable ids, and no way to tell someone else's list from one that does not exist."""

import uuid

from django.urls import reverse

from experiments import services
from experiments.models import Feedback, Participant
from experiments.visitors import issue_visitor_id

ANSWERS = {"accuracy": 4, "diversity": 3, "novelty": 5, "serendipity": 2}
NOWHERE = uuid.UUID("00000000-0000-4000-8000-000000000000")


def _exposure(experiment, key, painting_ids=(1, 2, 3)):
    return services.log_exposure(
        experiment=experiment,
        arm=experiment.arms.first(),
        visitor_key=key,
        recommender="lda",
        versions={},
        painting_ids=list(painting_ids),
    )


def test_assignment_for_an_issued_visitor(api_client, between):
    url = reverse("api-experiment-assignment")
    visitor = issue_visitor_id()
    body = api_client.get(url, {"visitor": visitor}).json()
    again = api_client.get(url, {"visitor": visitor}).json()
    assert body == again and body["visitor"] == visitor
    assert body["experiment"]["id"] == between.pk and body["arm"]["recommender"] in {"lda", "resnet"}
    assert body["questions"]["accuracy"] == "The recommendations match my personal preferences and interests"


def test_assignment_without_experiment_or_visitor(api_client, db):
    url = reverse("api-experiment-assignment")
    assert api_client.get(url, {"visitor": "museum-visitor-1"}).json()["experiment"] is None
    assert api_client.get(url, {"visitor": "not a visitor!"}).json()["error"]["field"] == "visitor"


def test_an_anonymous_caller_without_visitor_is_issued_one(api_client, between):
    body = api_client.get(reverse("api-experiment-assignment")).json()
    visitor = body["visitor"]
    assert len(visitor) == 64 and body["arm"] is not None
    assert Participant.objects.get().visitor_key == f"visitor:{visitor}"
    again = api_client.get(reverse("api-experiment-assignment"), {"visitor": visitor}).json()
    assert again["arm"] == body["arm"] and Participant.objects.count() == 1


def test_a_made_up_anonymous_visitor_id_creates_no_participant(api_client, between):
    response = api_client.get(reverse("api-experiment-assignment"), {"visitor": "museum-visitor-1"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "visitor"
    assert not Participant.objects.exists()


def test_feedback_from_the_owner(api_client, between):
    visitor = issue_visitor_id()
    exposure = _exposure(between, f"visitor:{visitor}")
    url = reverse("api-experiment-feedback", args=[exposure.public_id])
    response = api_client.post(url, {"visitor": visitor, **ANSWERS}, format="json")
    assert response.status_code == 201 and response.json()["novelty"] == 5
    assert response.json()["exposure"] == str(exposure.public_id)
    assert Feedback.objects.get().answers() == ANSWERS
    assert api_client.post(url, {"visitor": visitor, **ANSWERS}, format="json").status_code == 409


def test_someone_elses_list_answers_as_a_list_that_does_not_exist(api_client, between):
    exposure = _exposure(between, f"visitor:{issue_visitor_id()}")
    other = issue_visitor_id()
    theirs = api_client.post(
        reverse("api-experiment-feedback", args=[exposure.public_id]),
        {"visitor": other, **ANSWERS},
        format="json",
    )
    nowhere = api_client.post(
        reverse("api-experiment-feedback", args=[NOWHERE]), {"visitor": other, **ANSWERS}, format="json"
    )
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json() == nowhere.json() and theirs.json()["error"]["code"] == "unknown_exposure"
    assert not Feedback.objects.exists()


def test_the_same_id_sent_by_another_app_is_another_visitor(api_client, between):
    from clients.services import api_key_create

    (key_one, raw_one), (_, raw_two) = api_key_create(name="one"), api_key_create(name="two")
    exposure = _exposure(between, f"app{key_one.pk}:visitor:42")
    url = reverse("api-experiment-feedback", args=[exposure.public_id])
    other = api_client.post(
        url, {"visitor": "42", **ANSWERS}, format="json", HTTP_AUTHORIZATION=f"Api-Key {raw_two}"
    )
    mine = api_client.post(
        url, {"visitor": "42", **ANSWERS}, format="json", HTTP_AUTHORIZATION=f"Api-Key {raw_one}"
    )
    assert (other.status_code, mine.status_code) == (404, 201)


def test_signed_in_users_own_their_lists(auth_client, user, between):
    exposure = _exposure(between, f"user:{user.pk}")
    response = auth_client.post(
        reverse("api-experiment-feedback", args=[exposure.public_id]), ANSWERS, format="json"
    )
    assert response.status_code == 201


def test_bad_answers_name_the_field(api_client, between):
    visitor = issue_visitor_id()
    exposure = _exposure(between, f"visitor:{visitor}")
    url = reverse("api-experiment-feedback", args=[exposure.public_id])
    response = api_client.post(url, {"visitor": visitor, **ANSWERS, "diversity": 0}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "diversity"


def test_click_on_a_listed_painting(api_client, between, paintings):
    visitor = issue_visitor_id()
    exposure = _exposure(between, f"visitor:{visitor}", [p.pk for p in paintings[:3]])
    url = reverse("api-experiment-click", args=[exposure.public_id])
    response = api_client.post(url, {"visitor": visitor, "painting": paintings[1].external_id}, format="json")
    assert response.status_code == 201 and response.json()["rank"] == 2
    outside = api_client.post(url, {"visitor": visitor, "painting": paintings[5].external_id}, format="json")
    assert outside.status_code == 400 and outside.json()["error"]["field"] == "painting"
    other = api_client.post(
        url, {"visitor": issue_visitor_id(), "painting": paintings[1].external_id}, format="json"
    )
    assert other.status_code == 404
