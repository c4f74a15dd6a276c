"""The visitors of the offline evaluation: simulated ones with a known taste, and real ones held out.

Simulated visitor (``simulate_visitors``), one taste group each (a story group, i.e. a Tate
subject category or a CMA department, or an artist with >= 5 paintings). Group kinds take turns,
so each kind gets the same number of visitors; within a kind the group is drawn uniformly.
The visitor gives ``n_ratings`` (9) ratings as the elicitation would:

* 2-4 paintings of the taste group (at most the group's size - 2, so >= 2 stay held out),
  each rated 4 or 5;
* the rest one painting each from other story groups (the elicitation shows one painting per
  story group), never from the taste group, rated 1, 2 or 3; when there are too few story
  groups (e.g. ``--collection`` of a source without groups) uniform draws from the other
  candidates fill up (a tiny catalogue may leave fewer than 9 ratings);
* noise: each rating moves one star towards the other side (5->4, 4->3; 3->4, 2->3, 1->2) with
  probability ``noise`` (0.1), since people also like a few things outside their taste.

Relevant ("held out") = the taste group's other paintings among the candidates.

Rating patterns (``pattern``): ``mixed`` is the above; ``few-likes`` is a visitor who rates
exactly 2 paintings of the taste group 5 and the other 7 (from other story groups, as above) 1,
without noise: the case where dislikes outnumber likes and a recommender that lets distance from
the dislikes promote a painting fails (issue 17).

Leave-k-out (``leave_k_out_visitors``): every stored user with >= ``min_ratings`` ratings of
candidates; a seeded ``holdout`` share (at least one) of their ratings is hidden, the rest is the
input, and the hidden paintings rated 4-5 are relevant (users without one are skipped).

Everything is drawn from one ``numpy.random.default_rng(seed)``: the same seed gives the same
visitors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MIXED, FEW_LIKES = "mixed", "few-likes"
PATTERNS = (MIXED, FEW_LIKES)
LIKED = (4, 5)
DISLIKED = (1, 2, 3)
MIN_IN_TASTE, MAX_IN_TASTE = 2, 4


@dataclass(frozen=True)
class TasteGroup:
    key: str  # "story-<id>" or "artist-<id>"
    kind: str  # "story:<source>" or "artist"
    label: str
    members: np.ndarray  # sorted candidate pks


@dataclass(frozen=True)
class Visitor:
    id: int
    group: str  # taste group key, or "user-<id>" for a stored user
    kind: str  # the group's kind, or "stored"
    ratings: dict[int, int]  # painting pk -> 1..5, the recommender's input
    relevant: frozenset[int]  # held-out paintings that are right for this visitor
    pattern: str = MIXED  # MIXED or FEW_LIKES (simulated), "stored" for stored users


def _noisy(value: int, liked: bool, rng: np.random.Generator, noise: float) -> int:
    if rng.random() >= noise:
        return value
    return value - 1 if liked else value + 1


def simulate_visitors(
    *,
    groups: Sequence[TasteGroup],
    story_groups: Sequence[np.ndarray],
    candidates: np.ndarray,
    count: int,
    seed: int,
    n_ratings: int = 9,
    noise: float = 0.1,
    pattern: str = MIXED,
    first_id: int = 0,
) -> list[Visitor]:
    if pattern not in PATTERNS:
        raise ValueError(f"unknown rating pattern {pattern!r}")
    few = pattern == FEW_LIKES
    if not groups:
        raise ValueError("no taste group has enough paintings among the candidates")
    rng = np.random.default_rng(seed)
    kinds = sorted({g.kind for g in groups})
    by_kind = {kind: [g for g in groups if g.kind == kind] for kind in kinds}
    visitors = []
    for vid in range(first_id, first_id + count):
        options = by_kind[kinds[vid % len(kinds)]]
        group = options[int(rng.integers(len(options)))]
        members = group.members
        n_in = MIN_IN_TASTE if few else int(rng.integers(MIN_IN_TASTE, MAX_IN_TASTE + 1))
        n_in = min(n_in, members.shape[0] - 2, n_ratings)
        liked = rng.choice(members, size=n_in, replace=False)
        taken = set(members.tolist())
        disliked: list[int] = []
        others = [np.setdiff1d(sg, members, assume_unique=True) for sg in story_groups]
        others = [o for o in others if o.size]
        for index in rng.permutation(len(others))[: n_ratings - n_in]:
            pk = int(rng.choice(others[index]))
            disliked.append(pk)
            taken.add(pk)
        missing = n_ratings - n_in - len(disliked)
        if missing > 0:
            pool = np.setdiff1d(candidates, np.fromiter(taken, dtype=np.int64))
            disliked += [int(pk) for pk in rng.choice(pool, size=min(missing, pool.size), replace=False)]
        if few:
            ratings = dict.fromkeys((int(pk) for pk in liked), 5) | dict.fromkeys(disliked, 1)
        else:
            ratings = {int(pk): _noisy(int(rng.choice(LIKED)), True, rng, noise) for pk in liked}
            ratings |= {pk: _noisy(int(rng.choice(DISLIKED)), False, rng, noise) for pk in disliked}
        relevant = frozenset(set(members.tolist()) - set(ratings))
        visitors.append(Visitor(vid, group.key, group.kind, dict(sorted(ratings.items())), relevant, pattern))
    return visitors


def leave_k_out_visitors(
    *,
    ratings_by_user: Mapping[int, Mapping[int, int]],
    candidates: np.ndarray,
    seed: int,
    holdout: float = 0.2,
    min_ratings: int = 10,
) -> list[Visitor]:
    rng = np.random.default_rng(seed)
    allowed = set(candidates.tolist())
    visitors = []
    for user_id in sorted(ratings_by_user):
        mine = sorted((pk, v) for pk, v in ratings_by_user[user_id].items() if pk in allowed)
        if len(mine) < min_ratings:
            continue
        order = rng.permutation(len(mine))
        k = max(1, round(holdout * len(mine)))
        hidden = [mine[i] for i in order[:k]]
        kept = dict(sorted(mine[i] for i in order[k:]))
        relevant = frozenset(pk for pk, v in hidden if v in LIKED)
        if relevant:
            visitors.append(Visitor(int(user_id), f"user-{user_id}", "stored", kept, relevant, "stored"))
    return visitors
