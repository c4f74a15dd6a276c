"""Simulated participants for a running experiment (``manage.py simulate_experiment``), so the
analysis page can be seen working on a fresh install and tested.

Each participant rates 5 random paintings; each list comes from the real recommendation service
when the arm's recommender is ready (active artefacts), else from a seeded random draw of the
catalogue (logged with no artefact versions). Answers follow a seeded model

    answer = clip(round(3 + q_arm,question + b_participant + e), 1, 5),
    q ~ N(0, 0.5) per arm (seeded by the arm's name), b ~ N(0, 0.5), e ~ N(0, 0.7),

and a share of inattentive participants (``INATTENTIVE``) answer uniformly at random, which the
repeated arm usually exposes. Between subjects each participant sees 1-3 lists, clicks a painting
of a list with probability clip(0.3 + 0.2 q_arm,accuracy, 0.02, 0.95) and rates what they click.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog.models import Painting
from config.exceptions import ApplicationError
from experiments import services
from experiments.assignment import unit_hash
from experiments.models import QUESTIONS, Arm, Experiment, Exposure
from recsys.serving.recommend import recommend
from recsys.serving.selectors import recommender_status

INATTENTIVE = 0.1
RATED = 5


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    participants: int
    exposures: int
    real_lists: int  # lists from the recommendation service (the rest: random draws)


def _quality(arm: Arm) -> dict[str, float]:
    rng = np.random.default_rng(int(unit_hash("quality", arm.recommender, arm.name) * 2**32))
    return {q: float(rng.normal(0, 0.5)) for q in QUESTIONS}


def _answer(rng: np.random.Generator, quality: float, bias: float, inattentive: bool) -> int:
    if inattentive:
        return int(rng.integers(1, 6))
    return int(np.clip(round(3 + quality + bias + rng.normal(0, 0.7)), 1, 5))


def simulate(*, experiment: Experiment, participants: int, seed: int = 0) -> SimulationSummary:
    """Add ``participants`` simulated participants to the running ``experiment``."""
    rng = np.random.default_rng(seed)
    catalogue = list(Painting.objects.order_by("pk").values_list("pk", flat=True))
    if len(catalogue) <= RATED:
        raise ApplicationError(f"The catalogue needs more than {RATED} paintings to simulate.")
    n = min(experiment.n_recommendations, len(catalogue) - RATED)
    ready = {
        arm.recommender: recommender_status(name=arm.recommender).status == "ready"
        for arm in experiment.arms.all()
    }
    qualities: dict[int, dict[str, float]] = {}
    exposures = real = 0
    for i in range(participants):
        key = f"visitor:sim-{seed}-{i}"
        rated = rng.choice(catalogue, size=RATED, replace=False)
        ratings = {int(pk): int(rng.integers(1, 6)) for pk in rated}
        bias, inattentive = float(rng.normal(0, 0.5)), bool(rng.random() < INATTENTIVE)
        lists = 1 if experiment.is_within else int(rng.integers(1, 4))
        while True:
            assignment = services.next_arm_for(experiment=experiment, visitor_key=key)
            if assignment is None or (not experiment.is_within and lists == 0):
                break
            lists -= 1
            arm = assignment.arm
            quality = qualities.setdefault(arm.pk, _quality(arm))
            ids, versions = None, {}
            if ready.get(arm.recommender):
                try:
                    result = recommend(ratings=ratings, recommender=arm.recommender, n=n)
                    ids, versions = [item.painting_id for item in result.items], result.versions
                    real += 1
                except ApplicationError:
                    ids = None
            if ids is None:
                pool = [pk for pk in catalogue if pk not in ratings]
                ids = [int(pk) for pk in rng.choice(pool, size=n, replace=False)]
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
            if not experiment.is_within and rng.random() < np.clip(
                0.3 + 0.2 * quality["accuracy"], 0.02, 0.95
            ):
                clicked = int(rng.choice(ids))
                services.record_click(exposure=exposure, visitor_key=key, painting_id=clicked)
                value = int(np.clip(round(3.5 + quality["accuracy"] + rng.normal(0, 0.8)), 1, 5))
                services.link_rating(visitor_key=key, painting_id=clicked, value=value)
            answers = {q: _answer(rng, quality[q], bias, inattentive) for q in QUESTIONS}
            services.record_feedback(exposure=exposure, visitor_key=key, answers=answers)
    return SimulationSummary(participants=participants, exposures=exposures, real_lists=real)
