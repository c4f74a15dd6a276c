"""The web UI inside a running A/B experiment: every list shown is an exposure, the four
questions under it, clicks and later ratings of its paintings, and a guest signing up."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from experiments.models import Arm, Click, Experiment, Exposure, ExposureRating, Feedback, Participant
from experiments.visitors import SESSION_KEY
from tests.factories import RatingFactory, UserFactory
from users.models import User
from web.selectors import SESSION_RATINGS_KEY

RECS = reverse("web:recommendations")
ANSWERS = {"accuracy": "4", "diversity": "3", "novelty": "5", "serendipity": "2"}


def rate_in_session(client, ratings: dict[str, int]) -> None:
    session = client.session
    session[SESSION_RATINGS_KEY] = ratings
    session.save()


def make_experiment(*, design: str = "between", status: str = "running", n: int = 3) -> Experiment:
    experiment = Experiment.objects.create(
        name=f"study-{design}-{status}", design=design, status=status, n_recommendations=n
    )
    Arm.objects.create(experiment=experiment, name="A", recommender="lda")
    Arm.objects.create(experiment=experiment, name="B", recommender="resnet")
    return experiment


def feedback_url(exposure: Exposure) -> str:
    return reverse("web:experiment_feedback", args=[exposure.public_id])


def test_a_guest_is_shown_the_arms_list_and_it_is_logged(client, scored):
    experiment = make_experiment()
    rate_in_session(client, {"p-a": 5})

    response = client.get(RECS, {"engine": "lda", "n": 2})

    exposure = Exposure.objects.get()
    visitor_id = client.session[SESSION_KEY]
    cards = response.context["page"].cards
    assert exposure.visitor_key == f"visitor:{visitor_id}" and exposure.source == "web"
    assert exposure.experiment == experiment and exposure.recommender == exposure.arm.recommender
    assert exposure.painting_ids == [scored[k].pk for k in ("p-b", "p-c", "p-e")]  # the experiment's n
    assert [c.painting.pk for c in cards] == exposure.painting_ids
    html = response.content.decode()
    assert f'href="/paintings/p-b/?from={exposure.public_id}"' in html
    assert f'action="{feedback_url(exposure)}"' in html
    feedback = html[html.index('<section class="feedback"') :]
    assert feedback.count('type="radio"') == 4 * 5  # the cards' own star ratings come before it
    assert "The recommended paintings are diverse" in html


def test_a_signed_in_user_takes_part_as_themselves(client, scored):
    make_experiment()
    user = UserFactory()
    RatingFactory(user=user, painting=scored["p-a"], value=5)
    client.force_login(user)

    client.get(RECS)

    assert Exposure.objects.get().visitor_key == f"user:{user.pk}"
    assert SESSION_KEY not in client.session


def test_every_list_shown_is_logged_once_and_between_subjects_asks_once(client, scored):
    make_experiment()
    rate_in_session(client, {"p-a": 5})
    first = client.get(RECS)
    exposure = first.context["exposure"]
    assert client.get(RECS).context["exposure"] == exposure  # a reload is the same list

    answered = client.post(feedback_url(exposure), {**ANSWERS, "next": RECS})
    again = client.get(RECS)
    rate_in_session(client, {"p-a": 5, "p-b": 4})
    other = client.get(RECS)

    assert answered.status_code == 302 and answered["Location"] == RECS
    assert Feedback.objects.get(exposure=exposure).answers() == {k: int(v) for k, v in ANSWERS.items()}
    assert again.context["exposure"] == exposure and again.context["questionnaire"] is None
    assert "Thank you for your answers." in again.content.decode()
    assert other.context["exposure"] != exposure and other.context["exposure"].arm == exposure.arm
    assert other.context["questionnaire"] is None  # between subjects: asked once
    assert Exposure.objects.count() == 2


def test_during_a_study_the_list_is_labelled_neutrally_and_the_selector_hidden(client, scored):
    make_experiment()
    rate_in_session(client, {"p-a": 5})
    html = client.get(RECS).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert 'id="id_engine"' not in main and "Recommend by" not in main
    assert "taking part in a study" in main
    assert not [name for name in ("LDA", "lda", "ResNet", "resnet", "match <data") if name in main]


def test_within_subjects_a_reload_or_going_back_reuses_the_list(client, scored):
    make_experiment(design="within")
    rate_in_session(client, {"p-a": 5})
    first = client.get(RECS).context["exposure"]
    assert client.get(RECS).context["exposure"] == first
    client.post(feedback_url(first), ANSWERS)
    second = client.get(RECS).context["exposure"]
    assert client.get(RECS).context["exposure"] == second

    stale = client.post(feedback_url(first), ANSWERS)  # the back button's old form, sent again

    assert stale.status_code == 302 and Feedback.objects.count() == 1
    assert Exposure.objects.count() == 2


def test_within_subjects_the_next_list_is_the_next_arms(client, scored):
    experiment = make_experiment(design="within")
    rate_in_session(client, {"p-a": 5})
    first = client.get(RECS)
    participant = Participant.objects.get(experiment=experiment)
    assert len(participant.sequence) == 3  # both arms, one of them again
    assert first.context["exposure"].arm_id == participant.sequence[0]
    assert "list 1 of 3" in first.content.decode()
    assert "Send answers and see the next list" in first.content.decode()

    client.post(feedback_url(first.context["exposure"]), ANSWERS)
    second = client.get(RECS)

    assert second.context["exposure"].arm_id == participant.sequence[1]
    assert second.context["exposure"].step == 1
    assert "list 2 of 3" in second.content.decode()
    assert "Here is the next list." in second.content.decode()


def test_within_subjects_the_last_answer_ends_the_study(client, scored):
    make_experiment(design="within")
    rate_in_session(client, {"p-a": 5})
    for _ in range(3):
        client.post(feedback_url(client.get(RECS).context["exposure"]), ANSWERS)

    after = client.get(RECS, {"engine": "lda"})

    assert Feedback.objects.count() == 3
    assert after.context["exposure"] is None and after.context["questionnaire"] is None
    assert after.context["result"].recommender == "lda"
    assert Exposure.objects.count() == 3
    assert 'id="id_engine"' in after.content.decode()  # the study is over: the selector is back


def test_missing_answers_show_the_form_again(client, scored):
    make_experiment()
    rate_in_session(client, {"p-a": 5})
    exposure = client.get(RECS).context["exposure"]

    response = client.post(feedback_url(exposure), {**ANSWERS, "novelty": ""})

    assert response.status_code == 400
    assert "Choose from 1 to 5." in response.content.decode()
    assert "Title p-b" in response.content.decode()  # the list the questions are about
    assert not Feedback.objects.exists()


def test_another_visitor_cannot_answer_for_a_list(client, scored):
    make_experiment()
    rate_in_session(client, {"p-a": 5})
    exposure = client.get(RECS).context["exposure"]
    other = Client()
    rate_in_session(other, {"p-a": 5})
    other.get(RECS)

    response = other.post(feedback_url(exposure), ANSWERS)
    nowhere = other.post(reverse("web:experiment_feedback", args=[uuid.uuid4()]), ANSWERS)

    assert response.status_code == nowhere.status_code == 404
    assert not Feedback.objects.exists()


def test_an_anonymous_empty_post_shows_no_one_elses_list(client, scored):
    make_experiment()
    rate_in_session(client, {"p-a": 5})
    exposure = client.get(RECS).context["exposure"]

    response = Client().post(feedback_url(exposure), {})

    assert response.status_code == 404 and "Title p-b" not in response.content.decode()
    assert client.get("/recommendations/feedback/1/").status_code == 404  # no sequential ids


def test_opening_a_recommended_painting_records_the_click(client, scored):
    make_experiment()
    rate_in_session(client, {"p-a": 5})
    exposure = client.get(RECS).context["exposure"]

    response = client.get(reverse("web:painting", args=["p-c"]), {"from": str(exposure.public_id)})

    assert response.status_code == 200
    click = Click.objects.get()
    assert (click.exposure, click.painting, click.rank) == (exposure, scored["p-c"], 2)


# "²" and "٣" are digits to str.isdigit(); int() refused the first (a 500) and read the second as 3
@pytest.mark.parametrize("value", ["abc", "-1", "1", "", "²", "٣", "1" * 19, "0" * 32])
def test_a_bad_from_records_nothing(client, scored, value):
    make_experiment()
    rate_in_session(client, {"p-a": 5})
    client.get(RECS)

    assert client.get(reverse("web:painting", args=["p-c"]), {"from": value}).status_code == 200
    assert not Click.objects.exists()


def test_only_the_lists_own_visitor_records_a_click(client, scored):
    make_experiment()
    rate_in_session(client, {"p-a": 5})
    exposure = client.get(RECS).context["exposure"]
    other = Client()
    rate_in_session(other, {"p-d": 5})
    other.get(RECS)  # a guest in the study too, with a list of their own

    other.get(reverse("web:painting", args=["p-c"]), {"from": str(exposure.public_id)})
    client.get(reverse("web:painting", args=["p-a"]), {"from": str(exposure.public_id)})  # not in the list

    assert not Click.objects.exists()


def test_a_later_rating_links_to_the_list(client, scored):
    make_experiment()
    rate_in_session(client, {"p-a": 5})
    exposure = client.get(RECS).context["exposure"]

    response = client.post(reverse("web:painting_rate", args=["p-e"]), {"value": "4"})

    assert response.status_code == 302
    link = ExposureRating.objects.get()
    assert (link.exposure, link.painting, link.rank, link.value) == (exposure, scored["p-e"], 3, 4)


def test_a_signed_in_users_rating_links_too(client, scored):
    make_experiment()
    user = UserFactory()
    RatingFactory(user=user, painting=scored["p-a"], value=5)
    client.force_login(user)
    exposure = client.get(RECS).context["exposure"]

    client.post(reverse("web:painting_rate", args=["p-b"]), {"value": "2"})

    link = ExposureRating.objects.get()
    assert (link.exposure, link.painting, link.rank, link.value) == (exposure, scored["p-b"], 1, 2)


def test_signing_up_keeps_the_guests_arm_and_lists(client, scored):
    experiment = make_experiment()
    rate_in_session(client, {"p-a": 5})
    exposure = client.get(RECS).context["exposure"]

    client.post(
        reverse("signup"),
        {
            "username": "grace",
            "email": "grace@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    after = client.get(RECS)

    user = User.objects.get(username="grace")
    participant = Participant.objects.get(experiment=experiment)
    assert participant.visitor_key == f"user:{user.pk}"
    exposure.refresh_from_db()
    assert exposure.visitor_key == f"user:{user.pk}"
    assert after.context["exposure"].arm == exposure.arm
    assert after.context["exposure"].participant == participant


def test_signing_up_without_taking_part_changes_nothing(client, db):
    make_experiment()
    client.post(
        reverse("signup"),
        {
            "username": "ada",
            "email": "ada@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert not Participant.objects.exists()


@pytest.mark.parametrize("status", ["draft", "stopped", None])
def test_no_running_experiment_logs_nothing_and_asks_nothing_of_the_experiments(client, scored, status):
    if status is not None:
        make_experiment(status=status)  # saving an experiment drops the memo: the next page asks once
    rate_in_session(client, {"p-a": 5})
    client.get(RECS, {"engine": "lda", "n": 2})

    with CaptureQueriesContext(connection) as queries:
        response = client.get(RECS, {"engine": "lda", "n": 2})

    assert response.status_code == 200 and len(response.context["page"].cards) == 2
    assert response.context["exposure"] is None
    assert 'name="accuracy"' not in response.content.decode()
    assert "?from=" not in response.content.decode()
    assert not Exposure.objects.exists() and not Participant.objects.exists()
    assert SESSION_KEY not in client.session  # no visitor id is made for nothing
    tables = ("experiments_experiment", "experiments_participant", "experiments_exposure")
    assert not [q["sql"] for q in queries if any(table in q["sql"] for table in tables)]


def test_an_interleaved_list_mixes_both_arms_and_asks_nothing(client, scored):
    experiment = make_experiment(design="interleaved", n=4)
    rate_in_session(client, {"p-a": 5})

    response = client.get(RECS)

    exposure = Exposure.objects.get()
    assert len(exposure.teams) == len(exposure.painting_ids) == 4
    assert set(exposure.teams) <= set(experiment.arms.values_list("id", flat=True))
    assert response.context["questionnaire"] is None
    assert client.get(RECS).context["exposure"] == exposure  # a reload is the same list
