"""Team-draft interleaving (Radlinski, Kurup & Joachims, CIKM 2008), pure Python (no Django).

Two rankings A and B are merged into one list of n: in each round the team that has drafted
fewer paintings picks next (a fair coin decides when both have drafted as many), taking its
highest-ranked painting not yet in the list; when one ranking runs out the other fills the
list. Every position remembers the team that drafted it.

Credit: a painting of the list earns its team one point for a click and one for a liked rating
(>= 4); a participant prefers the team with more points over all of their interleaved lists
(no preference on a tie). With w_A and w_B participants preferring A and B, the share of wins
of B is

    s = w_B / (w_A + w_B),

tested against s = 1/2 with an exact two-sided binomial test (scipy.stats.binomtest), with a
Clopper-Pearson 95% interval. Participants, not lists, are the units: one visitor's lists are
not independent.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from scipy import stats as sstats

LIKED = 4


def team_draft(
    a: Sequence[Hashable], b: Sequence[Hashable], *, n: int, rng: random.Random
) -> tuple[list[Hashable], list[int]]:
    """The interleaved list of at most ``n`` items and, per position, 0 (team A) or 1 (team B)."""
    rankings = (list(a), list(b))
    cursor = [0, 0]
    drafted = [0, 0]
    items: list[Hashable] = []
    teams: list[int] = []
    taken: set[Hashable] = set()

    def next_of(team: int) -> Hashable | None:
        ranking = rankings[team]
        while cursor[team] < len(ranking) and ranking[cursor[team]] in taken:
            cursor[team] += 1
        return ranking[cursor[team]] if cursor[team] < len(ranking) else None

    while len(items) < n:
        heads = (next_of(0), next_of(1))
        if heads[0] is None and heads[1] is None:
            break
        if heads[0] is None or heads[1] is None:
            team = 1 if heads[0] is None else 0
        elif drafted[0] != drafted[1]:
            team = 0 if drafted[0] < drafted[1] else 1
        else:
            team = rng.randrange(2)
        item = heads[team]
        items.append(item)
        teams.append(team)
        taken.add(item)
        drafted[team] += 1
    return items, teams


def credit(*, teams: Sequence[int], clicked: Iterable[int], liked: Iterable[int]) -> tuple[int, int]:
    """Points of team A and team B in one list: ``clicked`` and ``liked`` are 0-based positions."""
    points = [0, 0]
    for position in (*clicked, *liked):
        if 0 <= position < len(teams):
            points[teams[position]] += 1
    return points[0], points[1]


@dataclass(frozen=True, slots=True)
class WinShare:
    wins_a: int
    wins_b: int
    ties: int
    share_b: float | None  # wins of B / decided participants (None: none decided)
    ci_low: float | None
    ci_high: float | None
    p_value: float | None


def win_share(preferences: Iterable[int | None]) -> WinShare:
    """``preferences``: per participant 0 (prefers A), 1 (prefers B) or None (tie / no credit)."""
    values = list(preferences)
    wins_a, wins_b = values.count(0), values.count(1)
    ties = len(values) - wins_a - wins_b
    decided = wins_a + wins_b
    if decided == 0:
        return WinShare(wins_a, wins_b, ties, None, None, None, None)
    test = sstats.binomtest(wins_b, decided, 0.5)
    interval = test.proportion_ci(confidence_level=0.95, method="exact")
    return WinShare(
        wins_a, wins_b, ties, wins_b / decided, float(interval.low), float(interval.high), float(test.pvalue)
    )


def preference(points: Iterable[tuple[int, int]]) -> int | None:
    """A participant's preference from the points of each of their lists."""
    total_a = total_b = 0
    for a, b in points:
        total_a += a
        total_b += b
    if total_a == total_b:
        return None
    return 0 if total_a > total_b else 1
