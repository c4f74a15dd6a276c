"""The web UI's hooks into the running experiment: recommendations for the page's visitor, the
questionnaire under a list, feedback from the form, a click on a recommended painting, ratings
of recommended paintings, and sign-up.

Each takes the visitor (a user, possibly anonymous) and their session, never the request. The
visitor key is ``user:<pk>`` when signed in, else ``visitor:<session id>``
(``experiments.visitors.web_visitor_key``); a guest's session id is created only when an
experiment shows them a list, so nothing is written to a session while nothing runs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from experiments import selectors, services
from experiments.exceptions import NotYourExposure
from experiments.models import QUESTION_TEXT, QUESTIONS, Click, Exposure, Feedback
from experiments.visitors import stored_session_visitor_id, web_visitor_key
from recsys.serving.recommend import RecommendationResult

Session = MutableMapping[str, Any]

#: an exposure's public id as a ``?from=`` link carries it (a UUID's 32 hex digits, dashes optional)
_EXPOSURE_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """The four questions about one list shown, as the web form asks them."""

    exposure_id: uuid.UUID  # the exposure's public id
    step: int  # 1-based position in the participant's sequence (1 between subjects)
    steps: int
    has_next: bool  # within subjects: another arm's list comes after this one
    questions: tuple[tuple[str, str], ...] = tuple((q, QUESTION_TEXT[q]) for q in QUESTIONS)


@dataclass(frozen=True, slots=True)
class WebRecommendation:
    result: RecommendationResult
    exposure: Exposure | None
    questionnaire: Questionnaire | None


def recommend_for_web_visitor(
    *,
    user: Any,
    session: Session,
    ratings: Mapping[int, int],
    recommender: str | None,
    n: int,
    viewable_only: bool = False,
) -> WebRecommendation:
    """``services.recommend_for_visitor`` for the page's visitor, with the questions to ask about
    the list when one was logged: every list of a within-subjects sequence; between subjects
    until the participant has answered once."""
    answer = services.recommend_for_visitor(
        visitor_key=partial(web_visitor_key, user=user, session=session),
        ratings=ratings,
        recommender=recommender,
        n=n,
        viewable_only=viewable_only,
    )
    exposure = answer.exposure
    questionnaire = None
    asks = (
        exposure is not None and not hasattr(exposure, "feedback") and not exposure.experiment.is_interleaved
    )
    if asks and (
        exposure.experiment.is_within or selectors.answered_steps(participant=exposure.participant) == 0
    ):
        questionnaire = questionnaire_of(exposure)
    return WebRecommendation(result=answer.result, exposure=exposure, questionnaire=questionnaire)


def questionnaire_of(exposure: Exposure) -> Questionnaire:
    """The questions about ``exposure`` (its experiment and participant loaded)."""
    within = exposure.experiment.is_within
    steps = len(exposure.participant.sequence) if within else 1
    return Questionnaire(
        exposure_id=exposure.public_id,
        step=exposure.step + 1,
        steps=steps,
        has_next=within and exposure.step + 1 < steps,
    )


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    feedback: Feedback
    remaining: int  # lists of the sequence still to see (0 between subjects)


def feedback_from_web(
    *, user: Any, session: Session, exposure: Exposure, answers: Mapping[str, Any]
) -> FeedbackOutcome:
    """``services.record_feedback`` as the page's visitor (``NotYourExposure`` for anyone else)."""
    key = web_visitor_key(user=user, session=session, create=False)
    if key is None:
        raise NotYourExposure("This list was shown to another visitor.", field="exposure")
    feedback = services.record_feedback(exposure=exposure, visitor_key=key, answers=answers)
    remaining = 0
    if exposure.experiment.is_within:
        answered = selectors.answered_steps(participant=exposure.participant)
        remaining = max(0, len(exposure.participant.sequence) - answered)
    return FeedbackOutcome(feedback=feedback, remaining=remaining)


def visitor_exposure(*, user: Any, session: Session, exposure_id: uuid.UUID) -> Exposure:
    """The page visitor's list ``exposure_id`` (public id); ``NotYourExposure`` (a 404, the same
    as for an id that does not exist) for anyone else's."""
    key = web_visitor_key(user=user, session=session, create=False)
    return selectors.visitor_exposure(exposure_id=exposure_id, visitor_key=key)


def click_from_web(*, user: Any, session: Session, exposure_id: object, painting_id: int) -> Click | None:
    """Record that the visitor opened ``painting_id`` from the list ``exposure_id`` (the raw
    ``?from=`` value, a public id). Quiet: a malformed or unknown id, someone else's list or a
    painting not in it records nothing (None), since a link can be shared or edited."""
    if not isinstance(exposure_id, str) or not _EXPOSURE_ID.fullmatch(exposure_id.lower()):
        return None
    key = web_visitor_key(user=user, session=session, create=False)
    if key is None:
        return None
    exposure = selectors.exposure_get(exposure_id=uuid.UUID(exposure_id))
    if exposure is None or exposure.visitor_key != key or painting_id not in exposure.painting_ids:
        return None
    return services.record_click(exposure=exposure, visitor_key=key, painting_id=painting_id)


def ratings_from_web(*, user: Any, session: Session, ratings: Mapping[int, int]) -> int:
    """Link ratings just saved (painting pk -> value) to the visitor's lists that recommended
    them; returns how many were linked. A guest who was never shown a list costs no query."""
    key = web_visitor_key(user=user, session=session, create=False)
    if key is None or not ratings:
        return 0
    return len(services.link_ratings(visitor_key=key, ratings=ratings))


def adopt_session_visitor(*, user: Any, session: Session) -> int:
    """At sign-up: the guest's participations (kept under the session's visitor id) become the
    account's, so they keep their arm and their place in the sequence."""
    visitor_id = stored_session_visitor_id(session)
    if visitor_id is None:
        return 0
    return services.adopt_visitor(visitor_id=visitor_id, user=user)
