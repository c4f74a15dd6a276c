"""Simulated participants for a running experiment (``manage.py simulate_experiment``), so the
analysis page can be seen working on a fresh install, tested, and checked against effects
planted on purpose.

Each participant rates 5 random paintings; each list comes from the real recommendation service
when the arm's recommender is ready (active artefacts), else from a seeded random draw of the
catalogue (logged with no artefact versions). Answers follow a seeded model

    answer = clip(round(3 + delta_arm,q + b_p + l_p,arm,q + e), 1, 5),
    b ~ N(0, 0.5) per participant,  l ~ N(0, 0.6) per participant, arm and question (their
    impression of that arm's list, the same when the list is shown again),  e ~ N(0, 0.4)
    (answering noise, fresh on every answer),

with ``delta`` the planted effects (``--effect question=arm:delta``; 0 for arms not named).
A share ``INATTENTIVE`` of participants answer uniformly at random instead: the attention
check (``experiments.feedback``) should flag them. Every painting shown is clicked with
probability clip(0.06 + 0.06 delta_arm,accuracy, 0.005, 0.5) (interleaved: the arm that drafted
it) and a clicked painting is rated clip(round(3.5 + delta_arm,accuracy + N(0, 0.8)), 1, 5).

Between subjects a participant answers their first list and may see up to two more (their
ratings of clicked paintings change the list); within subjects they answer every list of their
sequence; interleaved, they see one to three interleaved lists and answer none.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from catalog.models import Painting
from config.exceptions import ApplicationError, ValidationFailed
from experiments import services
from experiments.interleaving import team_draft
from experiments.models import QUESTIONS, Arm, Experiment, Exposure
from recsys.serving.recommend import recommend
from recsys.serving.selectors import recommender_status

INATTENTIVE = 0.1
RATED = 5
BASE_CLICK = 0.06
PERSON_SD, IMPRESSION_SD, NOISE_SD = 0.5, 0.6, 0.4

#: question -> arm name -> planted difference on the 1-5 scale
Effects = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    participants: int
    exposures: int  # lists logged (a list shown again is the same exposure)
    real_lists: int  # lists from the recommendation service (the rest: random draws)
    inattentive: frozenset[str] = field(default_factory=frozenset)  # their visitor keys
    effects: dict[str, dict[str, float]] = field(default_factory=dict)


def parse_effect(text: str, *, arms: list[str]) -> tuple[str, str, float]:
    """``question=arm:delta`` -> (question, arm, delta); the arm must be one of ``arms``."""
    question, _, rest = text.partition("=")
    arm, _, delta = rest.rpartition(":")
    if question not in QUESTIONS:
        raise ValidationFailed(f"Unknown question {question!r} in {text!r} (one of {', '.join(QUESTIONS)}).")
    if arm not in arms:
        raise ValidationFailed(f"Unknown arm {arm!r} in {text!r} (one of {', '.join(arms)}).")
    try:
        value = float(delta)
    except ValueError:
        raise ValidationFailed(f"The difference in {text!r} is not a number.") from None
    if not -4 <= value <= 4:
        raise ValidationFailed(f"The difference in {text!r} must lie between -4 and 4 (a 1-5 scale).")
    return question, arm, value


def _answer(rng: np.random.Generator, centre: float, inattentive: bool) -> int:
    if inattentive:
        return int(rng.integers(1, 6))
    return int(np.clip(round(centre + rng.normal(0, NOISE_SD)), 1, 5))


class _Lists:
    """An arm's list for a participant: the recommendation service when ready, else a draw."""

    def __init__(self, experiment: Experiment, rng: np.random.Generator) -> None:
        self.catalogue = list(Painting.objects.order_by("pk").values_list("pk", flat=True))
        if len(self.catalogue) <= RATED:
            raise ApplicationError(f"The catalogue needs more than {RATED} paintings to simulate.")
        self.n = min(experiment.n_recommendations, len(self.catalogue) - RATED)
        self.ready = {
            arm.recommender: recommender_status(name=arm.recommender).status == "ready"
            for arm in experiment.arms.all()
        }
        self.rng = rng
        self.real = 0

    def of(self, arm: Arm, ratings: dict[int, int]) -> tuple[list[int], dict[str, str]]:
        if self.ready.get(arm.recommender):
            try:
                result = recommend(ratings=ratings, recommender=arm.recommender, n=self.n)
            except ApplicationError:
                pass
            else:
                self.real += 1
                return [item.painting_id for item in result.items], dict(result.versions)
        pool = [pk for pk in self.catalogue if pk not in ratings]
        return [int(pk) for pk in self.rng.choice(pool, size=min(self.n, len(pool)), replace=False)], {}


def _click_and_rate(
    rng: np.random.Generator, exposure: Exposure, key: str, deltas: list[float], ratings: dict[int, int]
) -> None:
    """Click each painting with its arm's probability and rate what was clicked."""
    for pk, delta in zip(exposure.painting_ids, deltas, strict=True):
        if rng.random() < np.clip(BASE_CLICK + BASE_CLICK * delta, 0.005, 0.5):
            services.record_click(exposure=exposure, visitor_key=key, painting_id=pk)
            value = int(np.clip(round(3.5 + delta + rng.normal(0, 0.8)), 1, 5))
            ratings[pk] = value
            services.link_rating(visitor_key=key, painting_id=pk, value=value)


def simulate(
    *, experiment: Experiment, participants: int, seed: int = 0, effects: Effects | None = None
) -> SimulationSummary:
    """Add ``participants`` simulated participants to the running ``experiment``."""
    rng = np.random.default_rng(seed)
    planted = {q: dict(arms) for q, arms in (effects or {}).items() if arms}
    lists = _Lists(experiment, rng)
    arms = list(experiment.arms.order_by("id"))
    delta = {arm.pk: {q: planted.get(q, {}).get(arm.name, 0.0) for q in QUESTIONS} for arm in arms}
    exposures, inattentive = 0, set()
    for i in range(participants):
        key = f"visitor:sim-{seed}-{i}"
        rated = rng.choice(lists.catalogue, size=RATED, replace=False)
        ratings = {int(pk): int(rng.integers(1, 6)) for pk in rated}
        bias = float(rng.normal(0, PERSON_SD))
        careless = bool(rng.random() < INATTENTIVE)
        if careless:
            inattentive.add(key)
        impressions: dict[int, dict[str, float]] = {}
        if experiment.is_interleaved:
            exposures += _interleaved_visits(experiment, rng, lists, key, ratings, arms, delta)
            continue
        answered = False
        extra = int(rng.integers(0, 3))
        while True:
            assignment = services.next_arm_for(experiment=experiment, visitor_key=key)
            if assignment is None or (not experiment.is_within and answered and extra == 0):
                break
            arm = assignment.arm
            ids, versions = lists.of(arm, ratings)
            exposure = services.log_exposure(
                experiment=experiment,
                arm=arm,
                visitor_key=key,
                recommender=arm.recommender,
                versions=versions,
                painting_ids=ids,
                source=Exposure.Source.SIMULATED,
            )
            exposures += 1
            _click_and_rate(rng, exposure, key, [delta[arm.pk]["accuracy"]] * len(ids), ratings)
            if experiment.is_within or not answered:
                impression = impressions.setdefault(
                    arm.pk, {q: float(rng.normal(0, IMPRESSION_SD)) for q in QUESTIONS}
                )
                answers = {
                    q: _answer(rng, 3 + delta[arm.pk][q] + bias + impression[q], careless) for q in QUESTIONS
                }
                services.record_feedback(exposure=exposure, visitor_key=key, answers=answers)
                answered = True
            else:
                extra -= 1
    return SimulationSummary(
        participants=participants,
        exposures=Exposure.objects.filter(
            experiment=experiment, visitor_key__startswith=f"visitor:sim-{seed}-"
        ).count(),
        real_lists=lists.real,
        inattentive=frozenset(inattentive),
        effects=planted,
    )


def _interleaved_visits(
    experiment: Experiment,
    rng: np.random.Generator,
    lists: _Lists,
    key: str,
    ratings: dict[int, int],
    arms: list[Arm],
    delta: dict[int, dict[str, float]],
) -> int:
    """One to three interleaved lists of the first two arms; clicks follow each drafting arm."""
    first, second = arms[:2]
    services.participant_for(experiment=experiment, visitor_key=key)
    shown = 0
    for _ in range(int(rng.integers(1, 4))):
        (a, versions_a), (b, versions_b) = lists.of(first, ratings), lists.of(second, ratings)
        ids, teams = team_draft(a, b, n=lists.n, rng=random.Random(int(rng.integers(2**31))))
        exposure = services.log_exposure(
            experiment=experiment,
            arm=first,
            visitor_key=key,
            recommender=f"{first.recommender}+{second.recommender}",
            versions={**versions_b, **versions_a},
            painting_ids=[int(pk) for pk in ids],
            source=Exposure.Source.SIMULATED,
            teams=[(first.pk, second.pk)[team] for team in teams],
        )
        shown += 1
        drafted = {first.pk: delta[first.pk]["accuracy"], second.pk: delta[second.pk]["accuracy"]}
        _click_and_rate(rng, exposure, key, [drafted[arm] for arm in exposure.teams], ratings)
    return shown
