"""Simulated and leave-k-out visitors: what they rate, what is held out, reproducibility."""

import numpy as np

from recsys.evaluation.visitors import TasteGroup, leave_k_out_visitors, simulate_visitors

CANDIDATES = np.arange(1, 41, dtype=np.int64)
STORY = [np.arange(1, 11), np.arange(11, 21), np.arange(21, 31), np.arange(31, 41)]
GROUPS = [
    TasteGroup("story-1", "story:A", "one", STORY[0]),
    TasteGroup("story-2", "story:A", "two", STORY[1]),
    TasteGroup("artist-1", "artist", "Vermeer", np.array([21, 22, 23, 24, 25])),
]


def simulate(seed=3, noise=0.0, count=12):
    return simulate_visitors(
        groups=GROUPS, story_groups=STORY, candidates=CANDIDATES, count=count, seed=seed, noise=noise
    )


def test_each_visitor_rates_nine_liking_only_their_group():
    for visitor in simulate():
        members = {g.key: set(g.members.tolist()) for g in GROUPS}[visitor.group]
        liked = {pk for pk, v in visitor.ratings.items() if v >= 4}
        assert len(visitor.ratings) == 9
        assert 2 <= len(liked) <= 4 and liked <= members
        assert all(v in (1, 2, 3) for pk, v in visitor.ratings.items() if pk not in members)
        assert visitor.relevant == frozenset(members - set(visitor.ratings))
        assert len(visitor.relevant) >= 2


def test_group_kinds_take_turns():
    assert [v.kind for v in simulate(count=4)] == ["artist", "story:A", "artist", "story:A"]


def test_disliked_paintings_cover_every_other_story_group_before_uniform_draws():
    visitor = simulate(count=1)[0]  # an artist visitor (21-25): 4 story groups hold other paintings
    disliked = [pk for pk in visitor.ratings if pk not in range(21, 26)]
    assert len(disliked) >= 5
    assert {next(i for i, sg in enumerate(STORY) if pk in sg) for pk in disliked} == {0, 1, 2, 3}


def test_the_same_seed_gives_the_same_visitors_and_another_seed_others():
    assert simulate(seed=5) == simulate(seed=5)
    assert [v.ratings for v in simulate(seed=5)] != [v.ratings for v in simulate(seed=6)]


def test_noise_moves_ratings_one_star_towards_the_other_side():
    noisy = simulate(noise=1.0)
    for visitor in noisy:
        members = {g.key: set(g.members.tolist()) for g in GROUPS}[visitor.group]
        assert all(v in (3, 4) for pk, v in visitor.ratings.items() if pk in members)
        assert all(v in (2, 3, 4) for pk, v in visitor.ratings.items() if pk not in members)


def test_leave_k_out_hides_a_fifth_and_keeps_liked_hidden_ones_as_relevant():
    ratings = {7: {pk: (5 if pk % 2 else 2) for pk in range(1, 11)}, 8: {1: 5, 2: 4}}
    (visitor,) = leave_k_out_visitors(ratings_by_user=ratings, candidates=CANDIDATES, seed=1)
    hidden = set(range(1, 11)) - set(visitor.ratings)
    assert visitor.id == 7 and visitor.kind == "stored"
    assert len(hidden) == 2
    assert visitor.relevant == frozenset(pk for pk in hidden if pk % 2)
