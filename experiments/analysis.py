"""The analysis of one experiment, as the staff page shows it (and as JSON).

Which answers count: flagged participants (intra-rater disagreement on the repeated arm) are
left out unless ``include_flagged``; within subjects only each participant's first list of each
arm counts (the second showing of the repeated arm is the attention check); between subjects
every answered list counts, the participant random effect absorbing repeats. Lists a stand-in
recommender answered (the arm's was unavailable: ``Exposure.fallback_reason``) are shown per arm
and left out of the questionnaire analysis, since they say nothing about the arm.

Multiple comparisons: Holm's correction runs once over every question x contrast of the
experiment (the paper's family), replacing the per-question values the model fit returns.
Between subjects the participants per arm are checked against the traffic weights
(sample-ratio mismatch, ``stats.sample_ratio``). Interleaved experiments are analysed by the
share of participants whose clicks and liked ratings favour each arm (``interleaving``).

Ranking overlap (the paper's tables 1-2): cell (a, a) is the mean IoU / RBO between different
visitors' lists of arm a (each visitor's first list, at most ``OVERLAP_MAX_LISTS`` lists);
cell (a, b) the mean over visitors who saw both arms of their first lists of a and b.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from catalog.models import Painting
from experiments import interleaving, overlap, selectors
from experiments.findings import Finding, finding
from experiments.mixed import MixedResult, ModelError, fit_mixed
from experiments.models import QUESTIONS, Arm, Experiment, Exposure
from experiments.offline import offline_rows
from experiments.stats import (
    ProportionTest,
    RatioCheck,
    Summary,
    holm,
    participants_for_proportions,
    participants_for_share,
    sample_ratio,
    summarize,
    two_proportion_test,
)

OVERLAP_MAX_LISTS = 200
LIKED = 4  # a linked rating this high or higher counts as liked


@dataclass(frozen=True, slots=True)
class ProportionRow:
    arm: str
    successes: int
    trials: int


@dataclass(frozen=True, slots=True)
class PairTest:
    a: str
    b: str
    test: ProportionTest
    p_holm: float


@dataclass(frozen=True, slots=True)
class InterleavingResult:
    a: str
    b: str
    share: interleaving.WinShare
    participants_needed: int | None  # for 80% power at the observed share (None: no preference)
    more_needed: int | None


@dataclass
class Report:
    experiment: str
    design: str
    arms: list[str]
    recommenders: dict[str, str]  # arm -> recommender
    participants: int
    flagged: int
    included_flagged: bool
    exposures: int
    answered: int
    descriptives: dict[str, dict[str, Summary]] = field(default_factory=dict)  # question -> arm -> summary
    distributions: dict[str, dict[str, list[int]]] = field(
        default_factory=dict
    )  # question -> arm -> counts 1..5
    models: dict[str, MixedResult | str] = field(default_factory=dict)  # question -> fit or why not
    clicks: list[ProportionRow] = field(default_factory=list)
    click_tests: list[PairTest] = field(default_factory=list)
    liked: list[ProportionRow] = field(default_factory=list)
    liked_tests: list[PairTest] = field(default_factory=list)
    mean_rating: dict[str, float | None] = field(default_factory=dict)
    iou: dict[str, dict[str, float | None]] = field(default_factory=dict)
    rbo: dict[str, dict[str, float | None]] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)  # arm (and "all") -> share of catalogue
    offline: list[dict[str, Any]] = field(default_factory=list)
    offline_note: str | None = None
    fallbacks: dict[str, int] = field(default_factory=dict)  # arm -> lists a stand-in answered
    findings: dict[str, list[Finding]] = field(default_factory=dict)  # question -> per contrast
    holm_family: int = 0  # tests Holm's correction ran over (questions x contrasts)
    sample_ratio: RatioCheck | None = None
    interleaving: InterleavingResult | None = None
    click_participants_needed: int | None = None  # two arms between subjects: 80% power on click-through

    def as_json(self) -> dict[str, Any]:
        return _finite(asdict(self))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _pair_tests(rows: list[ProportionRow]) -> list[PairTest]:
    usable = [row for row in rows if row.trials > 0]
    tests = [
        (a.arm, b.arm, two_proportion_test(x1=a.successes, n1=a.trials, x2=b.successes, n2=b.trials))
        for a, b in itertools.combinations(usable, 2)
    ]
    adjusted = holm([t.p_value for _, _, t in tests])
    return [PairTest(a, b, t, p) for (a, b, t), p in zip(tests, adjusted, strict=True)]


def _counted(exposures: list[Exposure], *, within: bool) -> list[Exposure]:
    """The answered exposures that enter the questionnaire analysis (the arm's own lists)."""
    answered = [e for e in exposures if hasattr(e, "feedback") and not e.fallback_reason]
    if not within:
        return answered
    seen: set[tuple[int, int]] = set()
    first = []
    for exposure in sorted(answered, key=lambda e: (e.participant_id, e.step, e.pk)):
        key = (exposure.participant_id, exposure.arm_id)
        if key not in seen:
            seen.add(key)
            first.append(exposure)
    return first


def _questionnaire(report: Report, counted: list[Exposure]) -> None:
    names = report.arms
    for question in QUESTIONS:
        by_arm: dict[str, list[int]] = defaultdict(list)
        for exposure in counted:
            by_arm[exposure.arm.name].append(getattr(exposure.feedback, question))
        report.descriptives[question] = {arm: summarize(by_arm[arm]) for arm in names}
        report.distributions[question] = {arm: [by_arm[arm].count(v) for v in range(1, 6)] for arm in names}
        try:
            report.models[question] = fit_mixed(
                scores=[getattr(e.feedback, question) for e in counted],
                arms=[e.arm.name for e in counted],
                participants=[str(e.participant_id) for e in counted],
                order=names,
            )
        except (ModelError, ValueError, ArithmeticError) as exc:  # numpy's LinAlgError is a ValueError
            report.models[question] = f"no model: {exc}"
    _holm_across(report)


def _holm_across(report: Report) -> None:
    """Holm over every question x contrast, then each contrast's finding."""
    fitted = {q: m for q, m in report.models.items() if isinstance(m, MixedResult)}
    family = [(q, i) for q, m in fitted.items() for i in range(len(m.contrasts))]
    adjusted = dict(zip(family, holm([fitted[q].contrasts[i].p for q, i in family]), strict=True))
    report.holm_family = len(family)
    for question, model in fitted.items():
        contrasts = [replace(c, p_holm=adjusted[(question, i)]) for i, c in enumerate(model.contrasts)]
        report.models[question] = replace(model, contrasts=contrasts)
        report.findings[question] = [
            finding(question=question, contrast=c, participants=model.n_participants, tests=len(family))
            for c in contrasts
        ]


def _behaviour(report: Report, exposures: list[Exposure], *, tests: bool) -> None:
    """Clicks and linked ratings per arm; the two-proportion tests only between subjects (within
    subjects the lists of one participant are not independent samples of each arm)."""
    shown: dict[str, int] = defaultdict(int)
    clicked: dict[str, int] = defaultdict(int)
    ratings: dict[str, list[int]] = defaultdict(list)
    for exposure in exposures:
        shown[exposure.arm.name] += 1
        clicked[exposure.arm.name] += bool(exposure.clicks.all())
        ratings[exposure.arm.name].extend(link.value for link in exposure.ratings.all())
    report.clicks = [ProportionRow(arm, clicked[arm], shown[arm]) for arm in report.arms]
    report.click_tests = _pair_tests(report.clicks) if tests else []
    visitors = len({exposure.participant_id for exposure in exposures})
    if tests and len(report.clicks) == 2 and all(row.trials for row in report.clicks) and visitors:
        a, b = report.clicks
        report.click_participants_needed = participants_for_proportions(
            p1=a.successes / a.trials,
            p2=b.successes / b.trials,
            lists_per_participant=len(exposures) / visitors,
        )
    report.liked = [
        ProportionRow(arm, sum(v >= LIKED for v in ratings[arm]), len(ratings[arm])) for arm in report.arms
    ]
    report.liked_tests = _pair_tests(report.liked) if tests else []
    report.mean_rating = {
        arm: (sum(ratings[arm]) / len(ratings[arm]) if ratings[arm] else None) for arm in report.arms
    }


def _overlap(report: Report, exposures: list[Exposure]) -> None:
    first: dict[tuple[str, str], list[int]] = {}  # (arm, visitor) -> first list
    for exposure in exposures:  # oldest first
        first.setdefault((exposure.arm.name, exposure.visitor_key), exposure.painting_ids)
    lists: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for (arm, visitor), ids in first.items():
        lists[arm][visitor] = ids
    for name, measure in (("iou", overlap.iou), ("rbo", overlap.rbo)):
        table: dict[str, dict[str, float | None]] = {}
        for a in report.arms:
            table[a] = {}
            for b in report.arms:
                if a == b:
                    table[a][b] = overlap.mean_pairwise(list(lists[a].values())[:OVERLAP_MAX_LISTS], measure)
                else:
                    both = sorted(set(lists[a]) & set(lists[b]))
                    values = [measure(lists[a][v], lists[b][v]) for v in both]
                    table[a][b] = sum(values) / len(values) if values else None
        setattr(report, name, table)


def _coverage(report: Report, exposures: list[Exposure]) -> None:
    size = Painting.objects.count()
    per_arm: dict[str, set[int]] = defaultdict(set)
    for exposure in exposures:
        per_arm[exposure.arm.name].update(exposure.painting_ids)
    every = set().union(*per_arm.values()) if per_arm else set()
    report.coverage = {arm: (len(per_arm[arm]) / size if size else 0.0) for arm in report.arms}
    report.coverage["all"] = len(every) / size if size else 0.0


def _interleaving(report: Report, exposures: list[Exposure], arms: list[Arm]) -> None:
    """Each participant's preference from the team credit of all of their interleaved lists."""
    if len(arms) < 2:
        return
    first, second = arms[0].pk, arms[1].pk
    points: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for exposure in exposures:
        if len(exposure.teams) != len(exposure.painting_ids):
            continue
        teams = [0 if team == first else 1 for team in exposure.teams if team in (first, second)]
        if len(teams) != len(exposure.teams):
            continue
        position = {pk: i for i, pk in enumerate(exposure.painting_ids)}
        clicked = {position[c.painting_id] for c in exposure.clicks.all() if c.painting_id in position}
        liked = {position[r.painting_id] for r in exposure.ratings.all() if r.value >= LIKED}
        points[exposure.participant_id].append(interleaving.credit(teams=teams, clicked=clicked, liked=liked))
    share = interleaving.win_share(interleaving.preference(p) for p in points.values())
    needed = None
    if share.share_b is not None:
        needed = participants_for_share(
            n=len(points), decided=share.wins_a + share.wins_b, share=share.share_b
        )
    report.interleaving = InterleavingResult(
        arms[0].name, arms[1].name, share, needed, None if needed is None else max(0, needed - len(points))
    )


def analyse(*, experiment: Experiment, include_flagged: bool = False) -> Report:
    """Everything the analysis page shows (a handful of queries whatever the data size)."""
    arms = selectors.experiment_arms(experiment=experiment)
    exposures = list(selectors.exposures_for_analysis(experiment=experiment))
    participants = experiment.participants.all()
    flagged_ids = set(participants.filter(flagged=True).values_list("id", flat=True))
    kept = exposures if include_flagged else [e for e in exposures if e.participant_id not in flagged_ids]
    counted = _counted(kept, within=experiment.is_within)
    report = Report(
        experiment=experiment.name,
        design=experiment.design,
        arms=[arm.name for arm in arms],
        recommenders={arm.name: arm.recommender for arm in arms},
        participants=participants.count(),
        flagged=len(flagged_ids),
        included_flagged=include_flagged,
        exposures=len(exposures),
        answered=len(counted),
    )
    for exposure in kept:
        if exposure.fallback_reason:
            report.fallbacks[exposure.arm.name] = report.fallbacks.get(exposure.arm.name, 0) + 1
    _questionnaire(report, counted)
    if experiment.is_interleaved:
        _interleaving(report, kept, arms)
    else:
        _behaviour(report, kept, tests=experiment.design == Experiment.Design.BETWEEN)
    if experiment.design == Experiment.Design.BETWEEN:
        counts = dict.fromkeys((arm.name for arm in arms), 0)
        for arm_name in participants.exclude(arm=None).values_list("arm__name", flat=True):
            counts[arm_name] = counts.get(arm_name, 0) + 1
        report.sample_ratio = sample_ratio(counts, {arm.name: arm.weight for arm in arms})
    _overlap(report, kept)
    _coverage(report, kept)
    report.offline, report.offline_note = offline_rows(arm.recommender for arm in arms)
    return report
