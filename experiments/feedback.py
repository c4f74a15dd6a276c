"""Writes of the questionnaire: the four answers about one list, and the attention check.

Attention check (within subjects): one arm is shown twice (``experiments.assignment``) and the
participant answers the four questions about it twice. They are flagged, and left out of the
analysis by default, when

    sum over the four questions of |first answer - second answer| >= FLAG_TOTAL (5),

i.e. more than a point apart per question on average. An attentive participant's two answers
about the same list differ by answering noise only (mostly 0 or 1 point on a question); a
participant answering at random differs by 1.6 points per question on average (two uniform
draws of 1..5), 6.4 in all. On the simulation's model (``experiments.simulate``: retest noise
sd 0.4, 10% answering at random) this flags about 8% of all participants: ~78% of the random
answerers and under 1% of the attentive ones. (The earlier rule, any single question 2 points
apart, flagged 44% of simulated participants when noise was independent per showing.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from config.exceptions import ValidationFailed
from experiments import selectors
from experiments.assignment import repeated_arm
from experiments.exceptions import NO_SUCH_LIST, FeedbackExists, NotYourExposure
from experiments.models import QUESTIONS, Exposure, Feedback, Participant

#: total disagreement (points, over the four questions) on the repeated arm that flags
FLAG_TOTAL = 5


def _validated_answers(answers: Mapping[str, Any]) -> dict[str, int]:
    unknown = sorted(set(answers) - set(QUESTIONS))
    if unknown:
        raise ValidationFailed(f"Unknown question {unknown[0]!r}.", field=unknown[0])
    validated: dict[str, int] = {}
    for question in QUESTIONS:
        value = answers.get(question)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValidationFailed(
                f"{question} must be a whole number from 1 to 5, got {value!r}.", field=question
            )
        validated[question] = value
    return validated


def disagreement(first: Mapping[str, int], second: Mapping[str, int]) -> int:
    """Total absolute difference of two sets of answers over the four questions."""
    return sum(abs(first[q] - second[q]) for q in QUESTIONS)


def inconsistent(first: Mapping[str, int], second: Mapping[str, int]) -> bool:
    """Intra-rater disagreement: ``disagreement >= FLAG_TOTAL``."""
    return disagreement(first, second) >= FLAG_TOTAL


def update_flag(*, participant: Participant) -> bool:
    """Flag a within-subjects participant whose two answers to the repeated arm disagree."""
    repeated = repeated_arm(participant.sequence)
    if repeated is None:
        return participant.flagged
    answered = list(
        Feedback.objects.filter(exposure__participant=participant, exposure__arm_id=repeated).order_by(
            "exposure__step", "id"
        )[:2]
    )
    flagged = len(answered) == 2 and inconsistent(answered[0].answers(), answered[1].answers())
    if flagged != participant.flagged:
        participant.flagged = flagged
        participant.save(update_fields=["flagged"])
    return flagged


def record_feedback(*, exposure: Exposure, visitor_key: str, answers: Mapping[str, Any]) -> Feedback:
    """The four answers about one list (once per list); updates the participant's flag."""
    if exposure.visitor_key != visitor_key:
        raise NotYourExposure(NO_SUCH_LIST, field="exposure")
    validated = _validated_answers(answers)
    if exposure.experiment.is_interleaved:
        raise ValidationFailed(
            "Interleaved lists are judged by clicks and ratings, not asked about.", field="exposure"
        )
    with transaction.atomic():
        Participant.objects.select_for_update().filter(pk=exposure.participant_id).first()
        if Feedback.objects.filter(exposure=exposure).exists():
            raise FeedbackExists("This list already has feedback.", field="exposure")
        if exposure.experiment.is_within and exposure.step != selectors.answered_steps(
            participant=exposure.participant
        ):
            raise FeedbackExists("This step of the study is already answered.", field="exposure")
        feedback = Feedback.objects.create(exposure=exposure, **validated)
        update_flag(participant=exposure.participant)
    return feedback
