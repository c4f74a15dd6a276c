"""``manage.py evaluate --end-to-end``: the whole loop, from what the elicitation shows to what is
recommended, per elicitation strategy x served recommender (issue 17).

Simulated visitor: a hidden taste (a story group: a period or a department; an artist with >= 5
paintings; a subject read from titles, ``selectors.SUBJECTS``: landscape, portrait, ...), kinds
taking turns. Each visitor sees ``sets`` (2) elicitation sets of 9 paintings, as the web's
"Show another set" gives them, and rates *whatever is shown*: 4 or 5 for a painting of the taste,
1, 2 or 3 otherwise, each moved one star towards the other side with probability ``noise`` (0.1).
The adaptive strategy chooses the second set from the ratings of the first. Then every served
recommender (``settings.RECSYS_RECOMMENDERS`` whose engines are ready) recommends 9 paintings
among those with a viewable image (what the web recommends), and nDCG@9 counts the taste's
other viewable paintings as relevant.

Strategies (``recsys.serving.elicitation``): ``story-groups`` (every story group with a viewable
painting, as when an import flagged them all), ``clusters`` and ``adaptive`` (k-means clusters
of the elicitation engine's space). The visitors, their tastes and their noise are the same for
every strategy (paired): the strategy decision (``recsys.evaluation.decision.decide``) compares
strategies on the default recommender's nDCG@9, visitor by visitor.

    {"visitors": int, "sets": int, "by_kind": {kind: visitors}, "candidates": int,
     "engine": str | null,                      # the clusters' engine
     "recommender": str,                        # the default the strategies are decided on
     "strategies": {strategy: {"in_taste_shown": Estimate,     # in-taste paintings rated
                               "liked_shown": Estimate,        # of them rated 4-5
                               "recommenders": {name: {"ndcg@9": Estimate,
                                                       "ndcg@9_by_kind": {kind: Estimate}}}}},
     "decision": decide(...)}                   # which strategy becomes the default
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from django.conf import settings

from catalog.selectors import ELICITATION_SIZE, elicitation_set
from recsys.artefacts.reader import LoadedArtefact
from recsys.evaluation import metrics, selectors
from recsys.evaluation.decision import decide
from recsys.evaluation.recommenders import core_ranking
from recsys.evaluation.visitors import TasteGroup
from recsys.serving.elicitation import (
    CLUSTERS,
    STORY_GROUPS,
    STRATEGIES,
    adaptive_pks,
    cluster_pks,
    space_of,
)
from recsys.serving.recommenders import preferred_recommender, settings_recommenders

K = 9
NOISE = 0.1


def _estimate(values: Sequence[float]) -> dict[str, Any]:
    estimate = metrics.mean_ci(values).as_dict()
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in estimate.items()}


def _answer(pk: int, taste: frozenset[int], rng: np.random.Generator) -> int:
    liked = pk in taste
    value = int(rng.choice((4, 5))) if liked else int(rng.choice((1, 2, 3)))
    if rng.random() < NOISE:
        value = value - 1 if liked else value + 1
    return value


def _elicit(
    strategy: str,
    *,
    visitor_seed: int,
    sets: int,
    taste: frozenset[int],
    rng: np.random.Generator,
    space: Any,
) -> dict[int, int]:
    ratings: dict[int, int] = {}
    for number in range(sets):
        if strategy == STORY_GROUPS:
            shown = [p.pk for p in elicitation_set(seed=visitor_seed, set_number=number, curated_only=False)]
        elif strategy == CLUSTERS:
            shown = cluster_pks(space, seed=visitor_seed, set_number=number, size=ELICITATION_SIZE)
        else:
            shown = adaptive_pks(
                space, ratings=ratings, seed=visitor_seed, set_number=number, size=ELICITATION_SIZE
            )
        for pk in shown:
            if pk not in ratings:
                ratings[pk] = _answer(pk, taste, rng)
    return ratings


def end_to_end(
    *,
    artefacts: Mapping[str, LoadedArtefact],
    seed: int = 0,
    visitors: int = 150,
    sets: int = 2,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Run the loop on the ready ``artefacts`` (see the module docstring for the result)."""
    candidates = selectors.viewable_pks()
    groups: list[TasteGroup] = selectors.taste_groups(candidates=candidates)
    groups += selectors.subject_groups(candidates=candidates)
    groups = [g for g in groups if g.members.size >= 3]
    if not groups or candidates.size == 0:
        raise ValueError("no taste group has enough paintings with a viewable image")
    engine = next((e for e in settings.RECSYS_ELICITATION_ENGINES if e in artefacts), None)
    space = space_of(artefacts[engine], engine, candidates) if engine else None
    strategies = [s for s in STRATEGIES if s == STORY_GROUPS or space is not None]
    served = {
        name: config
        for name, config in settings_recommenders().items()
        if all(e in artefacts for e in config.engines)
    }
    default = preferred_recommender(artefacts)
    kinds = sorted({g.kind for g in groups})
    by_kind_groups = {kind: [g for g in groups if g.kind == kind] for kind in kinds}
    rng = np.random.default_rng(seed)
    plan = []
    for v in range(visitors):
        options = by_kind_groups[kinds[v % len(kinds)]]
        plan.append((v, options[int(rng.integers(len(options)))], int(rng.integers(2**31))))

    ndcg: dict[str, dict[str, list[float]]] = {s: defaultdict(list) for s in strategies}
    kind_of: list[str] = []
    shown: dict[str, list[float]] = defaultdict(list)
    liked: dict[str, list[float]] = defaultdict(list)
    for strategy in strategies:
        progress(f"end to end: {strategy}, {visitors} visitors x {len(served)} recommenders")
        for v, group, visitor_seed in plan:
            taste = frozenset(group.members.tolist())
            answers = np.random.default_rng([seed, v])  # the same noise for every strategy
            ratings = _elicit(
                strategy, visitor_seed=visitor_seed, sets=sets, taste=taste, rng=answers, space=space
            )
            shown[strategy].append(sum(1 for pk in ratings if pk in taste))
            liked[strategy].append(sum(1 for pk, r in ratings.items() if pk in taste and r >= 4))
            relevant = taste - set(ratings)
            if strategy == strategies[0]:
                kind_of.append(group.kind)
            for name, config in served.items():
                ranked = core_ranking(
                    config=config,
                    artefacts=artefacts,
                    ratings=dict(sorted(ratings.items())),
                    n=K,
                    allowed=candidates,
                    weighting=config.weighting or settings.RECSYS_WEIGHTING,
                )
                ndcg[strategy][name].append(metrics.ndcg_at_k(ranked.pks.tolist(), relevant, K))

    def by_kind(values: list[float]) -> dict[str, Any]:
        split: dict[str, list[float]] = defaultdict(list)
        for value, kind in zip(values, kind_of, strict=True):
            split[kind].append(value)
        return {kind: _estimate(vals) for kind, vals in sorted(split.items())}

    counts: dict[str, int] = defaultdict(int)
    for kind in kind_of:
        counts[kind] += 1
    decided_on = default if default in served else next(iter(served))
    return {
        "visitors": visitors,
        "sets": sets,
        "candidates": int(candidates.size),
        "by_kind": dict(sorted(counts.items())),
        "engine": engine,
        "recommender": decided_on,
        "strategies": {
            s: {
                "in_taste_shown": _estimate(shown[s]),
                "liked_shown": _estimate(liked[s]),
                "recommenders": {
                    name: {"ndcg@9": _estimate(values), "ndcg@9_by_kind": by_kind(values)}
                    for name, values in ndcg[s].items()
                },
            }
            for s in strategies
        },
        "decision": decide(
            {s: ndcg[s][decided_on] for s in strategies},
            candidates=strategies,
            current=settings.RECSYS_ELICITATION,
        ),
    }


def end_to_end_table(report: Mapping[str, Any]) -> str:
    """nDCG@9 (95% CI) per recommender (rows) and strategy (columns), as Markdown."""
    strategies = list(report["strategies"])
    lines = ["| recommender | " + " | ".join(strategies) + " |", "|---" * (len(strategies) + 1) + "|"]
    names = list(report["strategies"][strategies[0]]["recommenders"])
    for name in names:
        cells = []
        for s in strategies:
            est = report["strategies"][s]["recommenders"][name]["ndcg@9"]
            cells.append(f"{est['mean']:.3f} [{est['ci95'][0]:.3f}, {est['ci95'][1]:.3f}]")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    shown = [f"{report['strategies'][s]['in_taste_shown']['mean']:.2f}" for s in strategies]
    lines.append("| *in-taste paintings rated (of 18)* | " + " | ".join(shown) + " |")
    return "\n".join(lines)
