"""Taking part, exposures, clicks, linked ratings, feedback and flags through the services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.exceptions import UnknownEngine, ValidationFailed
from experiments import services
from experiments.exceptions import ExperimentNotRunning, FeedbackExists, NotYourExposure
from experiments.models import Exposure, Participant, RecommenderDefinition
from recsys.serving.recommenders import get_recommender, recommenders
from tests.experiments.conftest import make_experiment
from tests.factories import UserFactory

ANSWERS = {"accuracy": 4, "diversity": 3, "novelty": 5, "serendipity": 2}


def test_between_assignment_is_sticky_and_stored(between):
    first = services.assign(experiment=between, visitor_key="visitor:abcdef")
    assert services.assign(experiment=between, visitor_key="visitor:abcdef") == first
    participant = Participant.objects.get(visitor_key="visitor:abcdef")
    assert (participant.arm, participant.index) == (first, 0)


def test_weights_are_respected_through_the_service(db):
    experiment = make_experiment(arms=(("A", "lda", 3.0), ("B", "resnet", 1.0)))
    arms = [services.assign(experiment=experiment, visitor_key=f"visitor:v{i:05d}").name for i in range(400)]
    assert arms.count("A") / 400 == pytest.approx(0.75, abs=0.07)


def test_draft_or_out_of_window_experiments_take_no_one(db):
    draft = make_experiment(status="draft")
    with pytest.raises(ExperimentNotRunning):
        services.assign(experiment=draft, visitor_key="visitor:abcdef")
    later = make_experiment()
    later.starts_at = timezone.now() + timedelta(days=1)
    later.save()
    with pytest.raises(ExperimentNotRunning):
        services.assign(experiment=later, visitor_key="visitor:abcdef")


def test_within_participants_walk_their_sequence_on_feedback(within):
    key = "visitor:walker"
    seen = []
    while (step := services.next_arm_for(experiment=within, visitor_key=key)) is not None:
        seen.append(step.arm.name)
        exposure = services.log_exposure(
            experiment=within,
            arm=step.arm,
            visitor_key=key,
            recommender=step.arm.recommender,
            versions={},
            painting_ids=[1, 2],
        )
        assert exposure.step == step.step
        services.record_feedback(exposure=exposure, visitor_key=key, answers=ANSWERS)
    assert len(seen) == 4 and set(seen) == {"A", "B", "C"}
    assert Participant.objects.get(visitor_key=key).flagged is False


def test_within_participants_are_counterbalanced(within):
    sequences = [
        Participant.objects.get(
            pk=services.participant_for(experiment=within, visitor_key=f"visitor:p{i:04d}").pk
        ).sequence
        for i in range(6)
    ]
    firsts = [[arm for arm in dict.fromkeys(seq)] for seq in sequences]  # order without the repeat
    for position in range(3):
        counts = {
            arm: sum(order[position] == arm for order in firsts) for arm in {a for o in firsts for a in o}
        }
        assert set(counts.values()) == {2}


def test_disagreeing_on_the_repeated_arm_flags_the_participant(within):
    key = "visitor:fickle"
    participant = services.participant_for(experiment=within, visitor_key=key)
    repeated_seen = 0
    while (step := services.next_arm_for(experiment=within, visitor_key=key)) is not None:
        exposure = services.log_exposure(
            experiment=within, arm=step.arm, visitor_key=key, recommender="lda", versions={}, painting_ids=[1]
        )
        answers = dict(ANSWERS)
        if step.arm.pk == next(a for a in participant.sequence if participant.sequence.count(a) == 2):
            repeated_seen += 1
            if repeated_seen == 1:  # 5, 5, 5, 5 then 4, 3, 5, 2: 1 + 2 + 0 + 3 = 6 points apart
                answers = dict.fromkeys(ANSWERS, 5)
        services.record_feedback(exposure=exposure, visitor_key=key, answers=answers)
    participant.refresh_from_db()
    assert participant.flagged is True


def test_feedback_needs_the_owner_and_is_given_once(between):
    exposure = services.log_exposure(
        experiment=between,
        arm=between.arms.first(),
        visitor_key="visitor:owner1",
        recommender="lda",
        versions={"lda": "v1"},
        painting_ids=[3, 1, 2],
    )
    with pytest.raises(NotYourExposure):
        services.record_feedback(exposure=exposure, visitor_key="visitor:other1", answers=ANSWERS)
    with pytest.raises(ValidationFailed) as bad:
        services.record_feedback(
            exposure=exposure, visitor_key="visitor:owner1", answers={**ANSWERS, "novelty": 6}
        )
    assert bad.value.field == "novelty"
    services.record_feedback(exposure=exposure, visitor_key="visitor:owner1", answers=ANSWERS)
    with pytest.raises(FeedbackExists):
        services.record_feedback(exposure=exposure, visitor_key="visitor:owner1", answers=ANSWERS)


def test_clicks_and_later_ratings_link_to_the_exposure(between, paintings):
    a, b, c = (p.pk for p in paintings[:3])
    exposure = services.log_exposure(
        experiment=between,
        arm=between.arms.first(),
        visitor_key="user:7",
        recommender="lda",
        versions={},
        painting_ids=[a, b, c],
    )
    click = services.record_click(exposure=exposure, visitor_key="user:7", painting_id=b)
    assert click.rank == 2
    with pytest.raises(ValidationFailed):
        services.record_click(exposure=exposure, visitor_key="user:7", painting_id=paintings[5].pk)
    link = services.link_rating(visitor_key="user:7", painting_id=c, value=5)
    assert (link.exposure, link.rank, link.value) == (exposure, 3, 5)
    assert services.link_rating(visitor_key="user:7", painting_id=c, value=2).value == 2
    assert services.link_rating(visitor_key="user:7", painting_id=paintings[6].pk, value=2) is None


def test_signing_up_keeps_the_guests_arm(between):
    arm = services.assign(experiment=between, visitor_key="visitor:guest01")
    services.log_exposure(
        experiment=between,
        arm=arm,
        visitor_key="visitor:guest01",
        recommender="lda",
        versions={},
        painting_ids=[1],
    )
    user = UserFactory()
    assert services.adopt_visitor(visitor_id="guest01", user=user) == 1
    assert services.assign(experiment=between, visitor_key=f"user:{user.pk}") == arm
    assert Exposure.objects.get().visitor_key == f"user:{user.pk}"


def test_recommend_for_visitor_logs_the_arms_list(lda, paintings):
    experiment = make_experiment(arms=(("only-lda", "lda", 1.0), ("also-lda", "lda", 1.0)))
    answer = services.recommend_for_visitor(
        visitor_key="visitor:museum1", ratings={paintings[0].pk: 5}, source="api"
    )
    exposure = answer.exposure
    assert exposure.experiment == experiment and exposure.source == "api"
    assert exposure.painting_ids == [item.painting_id for item in answer.result.items]
    assert len(exposure.painting_ids) == 4  # the experiment's list length
    assert exposure.versions == {"lda": lda.version}


def test_recommend_for_visitor_without_experiment_logs_nothing(lda, paintings):
    answer = services.recommend_for_visitor(
        visitor_key="visitor:museum1", ratings={paintings[0].pk: 5}, recommender="lda", n=3
    )
    assert answer.exposure is None and len(answer.result.items) == 3
    assert not Exposure.objects.exists()


def test_admin_defined_recommenders_are_served_by_recsys(db):
    RecommenderDefinition.objects.create(
        name="fusion-b",
        kind="late",
        engines={"lda": 2, "clip": 1},
        mode="partial",
        rrf_k=10,
        weighting="minmax",
        mmr_lambda=0.7,
    )
    config = get_recommender("fusion-b")
    assert (
        config.kind,
        config.engines,
        config.rrf_k,
        config.weighting,
        config.mmr_lambda,
        config.source,
    ) == (
        "late",
        {"lda": 2.0, "clip": 1.0},
        10,
        "minmax",
        0.7,
        "admin",
    )
    assert list(recommenders())[-1] == "fusion-b"
    assert get_recommender("lda").source == "settings"


def test_admin_definitions_are_validated(db):
    with pytest.raises(ValidationError, match="settings"):
        RecommenderDefinition(name="lda", kind="single", engines={"lda": 1}).full_clean()
    with pytest.raises(ValidationError, match="mode"):
        RecommenderDefinition(name="x1", kind="late", engines={"lda": 1, "resnet": 1}).full_clean()
    with pytest.raises(ValidationError, match="exactly one"):
        RecommenderDefinition(name="x2", kind="single", engines={"lda": 1, "resnet": 1}).full_clean()
    RecommenderDefinition.objects.create(name="broken", kind="single", engines={"gone": 1})
    with pytest.raises(UnknownEngine):
        get_recommender("broken")


@pytest.mark.parametrize(
    ("second", "flagged"),
    [
        ({"accuracy": 2, "diversity": 3, "novelty": 5, "serendipity": 2}, False),  # 2 points: one slip
        ({"accuracy": 3, "diversity": 2, "novelty": 4, "serendipity": 1}, False),  # 4 points
        ({"accuracy": 3, "diversity": 2, "novelty": 4, "serendipity": 5}, True),  # 1 + 1 + 1 + 3 = 6
        ({"accuracy": 1, "diversity": 5, "novelty": 5, "serendipity": 2}, True),  # 3 + 2 = 5
    ],
)
def test_the_attention_check_sums_the_disagreement_over_the_four_questions(second, flagged):
    assert services.inconsistent(ANSWERS, second) is flagged
