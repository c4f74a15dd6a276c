"""Writes of the experiments app: taking part (assignment), exposures, clicks, linked ratings,
feedback, intra-rater flags, signing up after taking part as a guest, starting and stopping.

``recommend_for_visitor`` is the one call the web views and the recommendation API make: it
answers with the arm's recommender while an experiment runs, and logs the exposure.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import transaction

from config.exceptions import EngineUnavailable, ValidationFailed
from experiments import selectors
from experiments.assignment import pick_weighted, unit_hash, within_sequence
from experiments.exceptions import NO_SUCH_LIST, ExperimentNotRunning, NotYourExposure

# the feedback writes live in experiments.feedback; callers keep importing them from here
from experiments.feedback import FLAG_TOTAL, inconsistent, record_feedback, update_flag  # noqa: F401
from experiments.interleaving import team_draft
from experiments.models import (
    Arm,
    Click,
    Experiment,
    Exposure,
    ExposureRating,
    Participant,
)
from recsys.serving.recommend import RecommendationResult, recommend
from recsys.serving.recommenders import default_recommender_name, get_recommender
from recsys.serving.selectors import recommender_status


@dataclass(frozen=True, slots=True)
class Assignment:
    experiment: Experiment
    participant: Participant
    arm: Arm
    step: int  # 0-based position in the participant's sequence (always 0 between subjects)
    steps: int  # length of the sequence (1 between subjects)


@dataclass(frozen=True, slots=True)
class VisitorRecommendation:
    result: RecommendationResult
    exposure: Exposure | None  # None: no experiment running, or the participant has finished it


# -- taking part -----------------------------------------------------------------------------------
def _new_participant(*, experiment: Experiment, visitor_key: str, arms: Sequence[Arm]) -> Participant:
    index = Participant.objects.filter(experiment=experiment).count()
    if experiment.is_within:
        order = within_sequence(
            len(arms),
            index,
            u_repeat=unit_hash(experiment.salt, "repeat", visitor_key),
            u_position=unit_hash(experiment.salt, "position", visitor_key),
        )
        return Participant.objects.create(
            experiment=experiment, visitor_key=visitor_key, index=index, sequence=[arms[i].pk for i in order]
        )
    chosen = arms[pick_weighted(unit_hash(experiment.salt, visitor_key), [arm.weight for arm in arms])]
    return Participant.objects.create(experiment=experiment, visitor_key=visitor_key, index=index, arm=chosen)


def participant_for(*, experiment: Experiment, visitor_key: str, now: datetime | None = None) -> Participant:
    """The visitor's participation, created on first contact while the experiment runs.

    Between subjects the arm is ``pick_weighted(H(salt, visitor key), weights)``: the same for
    the same visitor whenever asked, and stored, so it also survives weight changes and sign-up.
    Within subjects the sequence is row ``index`` of the balanced Latin square plus the repeat.
    """
    participant = selectors.participant_get(experiment=experiment, visitor_key=visitor_key)
    if participant is not None:
        return participant
    if not selectors.is_running(experiment, now=now):
        raise ExperimentNotRunning(f"Experiment {experiment.name!r} is not running.", field="experiment")
    arms = selectors.experiment_arms(experiment=experiment)
    if not arms:
        raise ExperimentNotRunning(f"Experiment {experiment.name!r} has no arms.", field="experiment")
    with transaction.atomic():
        Experiment.objects.select_for_update().filter(pk=experiment.pk).first()  # serialises the index
        participant = selectors.participant_get(experiment=experiment, visitor_key=visitor_key)
        return participant or _new_participant(experiment=experiment, visitor_key=visitor_key, arms=arms)


def next_arm_for(
    *, experiment: Experiment, visitor_key: str, now: datetime | None = None
) -> Assignment | None:
    """What the visitor is shown next: their arm (between subjects) or the arm of the first
    unanswered step of their sequence (within subjects; None once every step has feedback)."""
    participant = participant_for(experiment=experiment, visitor_key=visitor_key, now=now)
    if not experiment.is_within:
        return Assignment(experiment, participant, participant.arm, 0, 1)
    step = selectors.answered_steps(participant=participant)
    if step >= len(participant.sequence):
        return None
    arm = Arm.objects.get(pk=participant.sequence[step])
    return Assignment(experiment, participant, arm, step, len(participant.sequence))


def assign(*, experiment: Experiment, visitor_key: str, now: datetime | None = None) -> Arm | None:
    """The arm to show the visitor now (see ``next_arm_for``)."""
    assignment = next_arm_for(experiment=experiment, visitor_key=visitor_key, now=now)
    return assignment.arm if assignment else None


# -- exposures, clicks, ratings -------------------------------------------------------------------
def log_exposure(
    *,
    experiment: Experiment,
    arm: Arm,
    visitor_key: str,
    recommender: str,
    versions: Mapping[str, str],
    painting_ids: Sequence[int],
    source: str = Exposure.Source.WEB,
    fallback_reason: str = "",
    teams: Sequence[int] = (),
) -> Exposure:
    """Record one list shown to the visitor (ordered painting pks, artefact versions), or return
    the visitor's latest list when this is a reload of it (same step, arm and paintings): one
    exposure per list actually shown. ``teams``: interleaved, the arm id drafting each position."""
    if arm.experiment_id != experiment.pk:
        raise ValidationFailed(f"Arm {arm.name!r} is not an arm of {experiment.name!r}.", field="arm")
    if source not in Exposure.Source.values:
        raise ValidationFailed(f"Unknown source {source!r}.", field="source")
    ids = [int(pk) for pk in painting_ids]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("A list shows each painting once.", field="painting_ids")
    if teams and len(teams) != len(ids):
        raise ValidationFailed("One team per painting of the list.", field="teams")
    participant = participant_for(experiment=experiment, visitor_key=visitor_key)
    step = selectors.answered_steps(participant=participant) if experiment.is_within else 0
    with transaction.atomic():
        Participant.objects.select_for_update().filter(pk=participant.pk).first()  # one list per reload
        shown = selectors.reusable_exposure(participant=participant, step=step, arm=arm, painting_ids=ids)
        if shown is not None:
            return shown
        return Exposure.objects.create(
            experiment=experiment,
            participant=participant,
            arm=arm,
            visitor_key=visitor_key,
            step=step,
            recommender=recommender,
            fallback_reason=fallback_reason[:300],
            versions=dict(versions),
            painting_ids=ids,
            teams=list(teams),
            source=source,
        )


def _owned(exposure: Exposure, visitor_key: str) -> None:
    if exposure.visitor_key != visitor_key:
        raise NotYourExposure(NO_SUCH_LIST, field="exposure")


def record_click(*, exposure: Exposure, visitor_key: str, painting_id: int) -> Click:
    """The visitor opened a painting of the list."""
    _owned(exposure, visitor_key)
    if painting_id not in exposure.painting_ids:
        raise ValidationFailed("That painting was not in this list.", field="painting")
    return Click.objects.create(
        exposure=exposure, painting_id=painting_id, rank=exposure.painting_ids.index(painting_id) + 1
    )


#: a later rating is linked to the most recent of the visitor's last lists that showed the painting
RECENT_EXPOSURES = 50


def link_ratings(*, visitor_key: str, ratings: Mapping[int, int]) -> dict[int, ExposureRating]:
    """Link the visitor's ratings (painting pk -> value) to the latest list that recommended
    each painting; paintings no recent list showed are skipped. Rating again updates the link's
    value. One query to find the lists, one write per linked rating."""
    if not ratings:
        return {}
    recent = list(
        Exposure.objects.filter(visitor_key=visitor_key).only("id", "painting_ids")[:RECENT_EXPOSURES]
    )
    links: dict[int, ExposureRating] = {}
    for painting_id, value in ratings.items():
        exposure = next((e for e in recent if painting_id in e.painting_ids), None)
        if exposure is None:
            continue
        links[painting_id], _ = ExposureRating.objects.update_or_create(
            exposure=exposure,
            painting_id=painting_id,
            defaults={"value": int(value), "rank": exposure.painting_ids.index(painting_id) + 1},
        )
    return links


def link_rating(*, visitor_key: str, painting_id: int, value: int) -> ExposureRating | None:
    """Link the visitor's rating of ``painting_id`` to the latest list that recommended it
    (None: no such list). Rating again updates the link's value."""
    return link_ratings(visitor_key=visitor_key, ratings={painting_id: value}).get(painting_id)


# -- accounts and lifecycle ------------------------------------------------------------------------
def adopt_visitor(*, visitor_id: str, user: Any) -> int:
    """At sign-up: the guest's participations become the account's (same arm, same sequence).

    Experiments the account already takes part in keep the account's. Returns how many
    participations moved.
    """
    guest, member = f"visitor:{visitor_id}", f"user:{user.pk}"
    with transaction.atomic():
        taken = Participant.objects.filter(visitor_key=member).values_list("experiment_id", flat=True)
        moving = Participant.objects.filter(visitor_key=guest).exclude(experiment_id__in=list(taken))
        ids = list(moving.values_list("id", flat=True))
        Exposure.objects.filter(participant_id__in=ids).update(visitor_key=member)
        return Participant.objects.filter(id__in=ids).update(visitor_key=member)


def experiment_start(*, experiment: Experiment) -> Experiment:
    """Run a draft (or stopped) experiment. It needs two arms (exactly two when interleaved)
    whose recommenders are all ready now (the error names each arm that is not, and why), and
    no other running experiment whose time window overlaps its own: visitors take part in one
    experiment at a time, so two running at once would leave one without visitors."""
    arms = selectors.experiment_arms(experiment=experiment)
    if len(arms) < 2:
        raise ValidationFailed("An experiment compares at least two arms.", field="arms")
    if experiment.is_interleaved and len(arms) != 2:
        raise ValidationFailed("Interleaving compares exactly two arms.", field="arms")
    not_ready = []
    for arm in arms:
        state = recommender_status(name=arm.recommender)
        if state.status != "ready":
            why = f": {state.reason}" if state.reason else ""
            not_ready.append(f"arm {arm.name!r} ({arm.recommender}) is {state.status}{why}")
    if not_ready:
        raise ValidationFailed(
            "Every arm must be ready to start: " + "; ".join(not_ready) + ".", field="arms"
        )
    clashes = selectors.overlapping_running(experiment=experiment)
    if clashes:
        names = ", ".join(repr(other.name) for other in clashes)
        raise ValidationFailed(
            f"Another running experiment overlaps this one's time window ({names}); stop it or set "
            "the windows apart, so that visitors are not silently split between experiments.",
            field="status",
        )
    experiment.status = Experiment.Status.RUNNING
    experiment.save(update_fields=["status"])
    return experiment


def experiment_stop(*, experiment: Experiment) -> Experiment:
    experiment.status = Experiment.Status.STOPPED
    experiment.save(update_fields=["status"])
    return experiment


# -- the integration point -------------------------------------------------------------------------
def recommend_for_visitor(
    *,
    visitor_key: str | Callable[[], str | None] | None,
    ratings: Mapping[int, int],
    source: str = Exposure.Source.WEB,
    recommender: str | None = None,
    n: int = 9,
    exclude: Collection[int] = (),
    weighting: str | None = None,
    story_group: str | None = None,
    artist: int | str | None = None,
    now: datetime | None = None,
    mmr_lambda: float | None = None,
    collection: str | None = None,
    viewable_only: bool = False,
    catalogued: Callable[[list[int]], Collection[int]] | None = None,
) -> VisitorRecommendation:
    """``recsys.serving.recommend.recommend`` for a visitor, inside the running experiment if any.

    While an experiment runs and the visitor has a list still to see, the arm's recommender
    answers (its own weighting if it defines one, the experiment's list length) and the list is
    logged as an exposure; otherwise ``recommender`` answers and nothing is logged. The request's
    ``mmr_lambda`` applies only outside an experiment (an arm is scored as its recommender is
    defined, MMR lambda included); ``viewable_only`` and ``catalogued`` are passed on in both
    cases (the web UI recommends only paintings with an image). Errors are those of ``recommend``.

    ``visitor_key`` is the participant's key, None for a caller who names no one (they take no
    part), or a function giving the key, called only while an experiment runs (so a web guest's
    session id is created only then). With nothing running this costs no query beyond
    ``recommend``'s (``selectors.active_experiment`` answers from the cache).
    """
    checks = {} if catalogued is None else {"catalogued": catalogued}
    experiment = selectors.active_experiment(now=now)
    key = visitor_key() if callable(visitor_key) and experiment else visitor_key
    assignment = None
    if experiment is not None and isinstance(key, str):
        assignment = next_arm_for(experiment=experiment, visitor_key=key, now=now)
    if assignment is None:
        result = recommend(
            ratings=ratings,
            recommender=recommender,
            n=n,
            exclude=exclude,
            weighting=weighting,
            story_group=story_group,
            artist=artist,
            mmr_lambda=mmr_lambda,
            collection=collection,
            viewable_only=viewable_only,
            **checks,
        )
        return VisitorRecommendation(result=result, exposure=None)
    options = {
        "exclude": exclude,
        "story_group": story_group,
        "artist": artist,
        "collection": collection,
        "viewable_only": viewable_only,
        **checks,
    }
    n_list = assignment.experiment.n_recommendations
    if assignment.experiment.is_interleaved:
        return _interleaved(assignment, key, ratings, weighting, options, source)
    served = _arm_list(assignment.arm, ratings=ratings, n=n_list, weighting=weighting, options=options)
    exposure = log_exposure(
        experiment=assignment.experiment,
        arm=assignment.arm,
        visitor_key=key,
        recommender=served.result.recommender,
        versions=served.result.versions,
        painting_ids=[item.painting_id for item in served.result.items],
        source=source,
        fallback_reason=served.fallback_reason,
    )
    return VisitorRecommendation(result=served.result, exposure=exposure)


@dataclass(frozen=True, slots=True)
class _Served:
    result: RecommendationResult
    fallback_reason: str  # empty: the arm's own recommender answered


def _arm_list(
    arm: Arm, *, ratings: Mapping[int, int], n: int, weighting: str | None, options: dict[str, Any]
) -> _Served:
    """The arm's list; if its recommender cannot serve now (an engine's artefact went away), the
    first ready recommender's list, with the reason (the exposure records both)."""
    config = get_recommender(arm.recommender)
    try:
        result = recommend(
            ratings=ratings, recommender=config.name, n=n, weighting=config.weighting or weighting, **options
        )
        return _Served(result, "")
    except EngineUnavailable as exc:
        stand_in = default_recommender_name()
        if stand_in == config.name:
            raise
        fallback = get_recommender(stand_in)
        result = recommend(
            ratings=ratings, recommender=stand_in, n=n, weighting=fallback.weighting or weighting, **options
        )
        return _Served(result, f"{config.name} unavailable: {exc.message}")


def _interleaved(
    assignment: Assignment,
    key: str,
    ratings: Mapping[int, int],
    weighting: str | None,
    options: dict[str, Any],
    source: str,
) -> VisitorRecommendation:
    """Team-draft interleaving of the two arms' lists (``experiments.interleaving``), its coin
    seeded by the visitor and their ratings (a reload draws the same list, new ratings a new
    draw), logged as one exposure of the first arm with each position's team."""
    experiment = assignment.experiment
    first, second = selectors.experiment_arms(experiment=experiment)[:2]
    n = experiment.n_recommendations
    lists = [
        _arm_list(arm, ratings=ratings, n=n, weighting=weighting, options=options) for arm in (first, second)
    ]
    # the same visitor with the same ratings gets the same draw: a reload is the same list
    seed = unit_hash(experiment.salt, "draft", key, repr(sorted(ratings.items())))
    ids, teams = team_draft(
        [item.painting_id for item in lists[0].result.items],
        [item.painting_id for item in lists[1].result.items],
        n=n,
        rng=random.Random(seed),
    )
    items = {item.painting_id: item for served in reversed(lists) for item in served.result.items}
    merged = [replace(items[pk], rank=rank) for rank, pk in enumerate(ids, start=1)]
    result = replace(
        lists[0].result,
        recommender=f"{lists[0].result.recommender}+{lists[1].result.recommender}",
        items=tuple(merged),
        versions={**lists[1].result.versions, **lists[0].result.versions},
    )
    arm_ids = (first.pk, second.pk)
    exposure = log_exposure(
        experiment=experiment,
        arm=first,
        visitor_key=key,
        recommender=result.recommender,
        versions=result.versions,
        painting_ids=[int(pk) for pk in ids],
        source=source,
        fallback_reason="; ".join(served.fallback_reason for served in lists if served.fallback_reason),
        teams=[arm_ids[team] for team in teams],
    )
    return VisitorRecommendation(result=result, exposure=exposure)
