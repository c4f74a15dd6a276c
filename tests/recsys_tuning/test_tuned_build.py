"""The tuned artefact: trained by the Celery task from stored feedback, versioned, activated, used
by the learned recommender, rolled back; too little feedback keeps the untuned space."""

import json

import numpy as np
import pytest

from config.exceptions import NoPreviousVersion, NotEnoughFeedback, RunInProgress
from experiments.models import Arm, Click, Experiment, Exposure, ExposureRating, Participant
from recsys.artefacts import files
from recsys.build import tuned
from recsys.build.feedback import feedback_histories
from recsys.models import TunedSpace
from recsys.serving.recommend import recommend
from recsys.serving.selectors import recommender_status
from tests.factories import RatingFactory, UserFactory
from tests.recsys_tuning.conftest import rate_like_a_group


def train(django_capture_on_commit_callbacks, trigger="command"):
    with django_capture_on_commit_callbacks(execute=True):
        row = tuned.tuned_request(trigger=trigger)
    row.refresh_from_db()
    return row


def test_too_little_feedback_trains_nothing_and_says_why(minilm, paintings):
    rate_like_a_group(paintings, 4)

    with pytest.raises(NotEnoughFeedback, match="4 visitors liked two paintings and rated one 1-3"):
        tuned.tuned_request(trigger="admin")
    assert not TunedSpace.objects.exists()


def test_the_task_trains_publishes_and_activates_a_version(
    minilm, paintings, django_capture_on_commit_callbacks
):
    rate_like_a_group(paintings, 12)
    row = train(django_capture_on_commit_callbacks)

    assert row.status == TunedSpace.Status.READY and row.is_active
    assert (row.n_visitors, row.n_ratings, row.n_triplets) == (12, 60, 12 * 3 * 2)
    assert row.engines == {"minilm": minilm.version}
    folder = files.artefact_root() / row.path
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["feedback"]["usable_visitors"] == 12
    assert manifest["feedback"]["sources"]["ratings"] == 12
    curve = manifest["training"]["engines"]["minilm"]["loss_curve"]
    assert len(curve) == 20 and curve[-1] < curve[0]
    assert np.load(folder / "minilm.npy").shape == (3, 3)


def test_the_learned_recommender_scores_in_the_active_tuned_space(
    minilm, paintings, django_capture_on_commit_callbacks
):
    ratings = {paintings[0].pk: 5, paintings[1].pk: 1}
    before = recommend(ratings=ratings, recommender="learned", n=6)
    assert before.versions == {"minilm": minilm.version}
    assert recommender_status(name="learned").space == "untuned"
    assert "untuned space: no tuned version is active yet" in recommender_status(name="learned").reason

    rate_like_a_group(paintings, 12)
    row = train(django_capture_on_commit_callbacks)
    after = recommend(ratings=ratings, recommender="learned", n=6)

    assert after.versions == {"minilm": f"{minilm.version}+tuned-{row.version}"}
    assert recommender_status(name="learned").space == f"tuned:{row.version}"
    assert recommend(ratings=ratings, recommender="minilm", n=3).versions == {"minilm": minilm.version}
    # the tuned space recommends more of the liked painting's group (even positions)
    group = {p.pk for p in paintings[::2]}
    assert sum(i.painting_id in group for i in after.items) > sum(
        i.painting_id in group for i in before.items
    )


def test_a_second_training_while_one_is_queued_is_refused(minilm, paintings):
    rate_like_a_group(paintings, 6)
    tuned.tuned_request(trigger="admin")  # on_commit never runs here: it stays queued

    with pytest.raises(RunInProgress):
        tuned.tuned_request(trigger="admin")


def test_roll_back_to_the_previous_version_and_no_further(
    minilm, paintings, django_capture_on_commit_callbacks
):
    rate_like_a_group(paintings, 6)
    first = train(django_capture_on_commit_callbacks)
    rate_like_a_group(paintings, 6, seed=1)
    second = train(django_capture_on_commit_callbacks)
    assert TunedSpace.objects.get(is_active=True) == second

    back = tuned.tuned_rollback()

    assert back == first and TunedSpace.objects.get(is_active=True) == first
    assert (
        recommend(ratings={paintings[0].pk: 5}, recommender="learned", n=1)
        .versions["minilm"]
        .endswith(f"+tuned-{first.version}")
    )
    with pytest.raises(NoPreviousVersion):
        tuned.tuned_rollback()


def test_deactivating_serves_the_untuned_space_again(minilm, paintings, django_capture_on_commit_callbacks):
    rate_like_a_group(paintings, 6)
    train(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        tuned.tuned_deactivate()

    assert recommend(ratings={paintings[0].pk: 5}, recommender="learned", n=1).versions == {
        "minilm": minilm.version
    }


def test_a_retraining_is_due_after_enough_new_ratings(
    minilm, paintings, settings, django_capture_on_commit_callbacks
):
    settings.RECSYS_TUNED_RETRAIN_RATINGS = 10
    assert tuned.tuned_due() is None  # no feedback at all
    rate_like_a_group(paintings, 6)
    assert tuned.tuned_due() == "first training: 6 usable visitors"
    train(django_capture_on_commit_callbacks)
    assert tuned.tuned_due() is None

    rate_like_a_group(paintings, 2, seed=3)  # 10 new ratings

    assert tuned.tuned_due() == "10 new ratings and clicks"
    with django_capture_on_commit_callbacks(execute=True):
        queued = tuned.tuned_check()
    queued.refresh_from_db()
    assert queued.trigger == "feedback" and queued.is_active


def test_exposure_ratings_and_clicks_are_feedback_and_stored_ratings_win(paintings):
    user = UserFactory()
    RatingFactory(user=user, painting=paintings[0], value=2)
    experiment = Experiment.objects.create(name="e", status="running", n_recommendations=4)
    arm = Arm.objects.create(experiment=experiment, name="A", recommender="minilm", weight=1.0)

    def exposure(key, source=Exposure.Source.WEB):
        participant = Participant.objects.create(
            experiment=experiment, visitor_key=key, index=Participant.objects.count()
        )
        return Exposure.objects.create(
            experiment=experiment,
            participant=participant,
            arm=arm,
            visitor_key=key,
            recommender="minilm",
            painting_ids=[p.pk for p in paintings[:4]],
            source=source,
        )

    mine, guest, fake = (
        exposure(f"user:{user.pk}"),
        exposure("visitor:abc"),
        exposure("visitor:sim", Exposure.Source.SIMULATED),
    )
    ExposureRating.objects.create(exposure=mine, painting=paintings[0], rank=1, value=5)
    ExposureRating.objects.create(exposure=guest, painting=paintings[1], rank=2, value=5)
    Click.objects.create(exposure=guest, painting=paintings[2], rank=3)
    Click.objects.create(exposure=guest, painting=paintings[1], rank=2)
    Click.objects.create(exposure=fake, painting=paintings[3], rank=4)

    histories, sources = feedback_histories()

    assert histories == {
        f"user:{user.pk}": {paintings[0].pk: 2},  # the stored rating, not the exposure's copy
        "visitor:abc": {paintings[1].pk: 5, paintings[2].pk: 4},  # a click counts as a 4
    }
    assert sources == {"ratings": 1, "exposures": 2}


def test_in_a_tuned_space_the_learned_model_uses_the_tuned_lambda(minilm, paintings):
    from recsys.algorithms.learned import TUNED_LAMBDA, learned_scores
    from recsys.serving.recommend import recommend_with_artefacts
    from recsys.serving.recommenders import get_recommender
    from recsys.serving.selectors import active_artefact
    from recsys.serving.tuned_view import tuned_view

    base = active_artefact(engine="minilm")
    view = tuned_view(base, np.diag([1.0, 1.0, 4.0]).astype(np.float32), "tuned-test")
    ratings = {paintings[0].pk: 5, paintings[3].pk: 1, paintings[8].pk: 4}
    result = recommend_with_artefacts(
        config=get_recommender("learned"),
        artefacts={"minilm": view},
        ratings=ratings,
        n=3,
        weighting="centered",
    )
    fit = learned_scores(artefacts={"minilm": view}, ratings=ratings, lam=TUNED_LAMBDA)
    position = np.searchsorted(fit.painting_ids, result.items[0].painting_id)

    assert result.items[0].score == pytest.approx(fit.scores[position])
    assert result.versions == {"minilm": f"{base.version}+tuned-test"}


def test_a_failed_training_keeps_the_active_version_and_records_the_error(
    minilm, paintings, monkeypatch, django_capture_on_commit_callbacks
):
    rate_like_a_group(paintings, 6)
    first = train(django_capture_on_commit_callbacks)

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(tuned, "tune_embeddings", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        tuned.tuned_request(trigger="admin")

    failed = TunedSpace.objects.exclude(pk=first.pk).get()
    assert failed.status == TunedSpace.Status.FAILED and "RuntimeError: out of memory" in failed.error
    assert TunedSpace.objects.get(is_active=True) == first


def test_the_task_returns_quietly_when_the_row_is_gone(db):
    from recsys.tasks import train_tuned

    assert train_tuned.delay(987654).get() is None
