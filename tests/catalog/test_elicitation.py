"""The elicitation set: paintings a visitor can see, from the curators' story groups in their order,
9 by default, and "show another set" without repeats."""

from __future__ import annotations

import pytest

from catalog.models import Painting, StoryGroup
from catalog.selectors import elicitation_deal, elicitation_groups, elicitation_set
from tests.factories import PaintingFactory, StoryGroupFactory

pytestmark = pytest.mark.django_db

OK = Painting.ImageStatus.OK


def make_group(slug: str, n: int = 3, *, order: int = 0, use: bool = True, name: str = "") -> StoryGroup:
    """A story group with ``n`` paintings ``<slug>-0..`` that have a stored image."""
    group = StoryGroupFactory(
        slug=slug, name=name or slug.title(), elicitation_order=order, use_in_elicitation=use
    )
    for i in range(n):
        PaintingFactory(
            external_id=f"{slug}-{i}", story_group=group, image=f"paintings/{slug}-{i}.jpg", image_status=OK
        )
    return group


def ids(paintings: list[Painting]) -> list[str]:
    return [p.external_id for p in paintings]


def groups_of(paintings: list[Painting]) -> list[str]:
    return [p.story_group.slug for p in paintings]


# --- dealing (pure) --------------------------------------------------------------------------


def test_deal_goes_round_the_groups_and_each_set_continues_where_the_last_stopped():
    pools = [[1, 2], [3, 4, 5], [6]]

    sets = [elicitation_deal(pools, size=4, per_group=None, set_number=n) for n in range(3)]

    # set 0: g0 g1 g2 g0; set 1 resumes at g1: its next (4), g2 starts over (6), g0 starts over (1), g1 (5)
    assert sets == [[1, 3, 6, 2], [4, 6, 1, 5], [6, 2, 3, 1]]


def test_deal_never_repeats_within_a_set_and_respects_the_cap():
    pools = [[1, 2], [3, 4, 5, 6, 7]]

    assert elicitation_deal(pools, size=9, per_group=None, set_number=0) == [1, 3, 2, 4, 5, 6, 7]
    assert elicitation_deal(pools, size=9, per_group=3, set_number=0) == [1, 3, 2, 4, 5]
    assert elicitation_deal([], size=9, per_group=None, set_number=0) == []


# --- the set from the catalogue --------------------------------------------------------------


def test_only_paintings_with_a_stored_image_are_drawn():
    group = make_group("views", 2)
    for status in ("remote", "unavailable", "missing", "invalid", "none"):
        PaintingFactory(external_id=f"views-{status}", story_group=group, image_status=status)
    PaintingFactory(external_id="views-ok-no-file", story_group=group, image_status=OK, image="")
    PaintingFactory(external_id="loner", story_group=None, image="paintings/loner.jpg", image_status=OK)

    assert ids(elicitation_set(seed=1)) == ["views-0", "views-1"]


def test_groups_without_a_viewable_painting_are_skipped():
    make_group("seen", 2)
    blind = StoryGroupFactory(slug="blind")
    PaintingFactory.create_batch(4, story_group=blind, image_status="remote")

    assert set(groups_of(elicitation_set(seed=1))) == {"seen"}
    assert [g.slug for g in elicitation_groups()] == ["seen"]


def test_nine_by_default_one_from_each_of_the_first_nine_groups_in_curator_order():
    # orders 11..0: the curator reverses the alphabet, so "l" comes first and "a", "b", "c" are left out
    for i, slug in enumerate("abcdefghijkl"):
        make_group(slug, 3, order=11 - i)

    chosen = elicitation_set(seed=5)

    assert len(chosen) == 9
    assert groups_of(chosen) == list("lkjihgfed")


def test_groups_with_the_same_order_come_by_name():
    make_group("x", 1, order=1, name="Alpha")
    make_group("y", 1, order=0, name="Zulu")
    make_group("z", 1, order=1, name="Beta")

    assert ids(elicitation_set(seed=0)) == ["y-0", "x-0", "z-0"]
    assert [g.name for g in elicitation_groups()] == ["Zulu", "Alpha", "Beta"]


def test_groups_not_used_in_elicitation_are_left_out():
    make_group("kept", 2, order=1)
    make_group("first-but-off", 5, order=0, use=False)

    assert groups_of(elicitation_set(seed=3)) == ["kept", "kept"]


def test_fewer_groups_than_nine_share_the_set():
    make_group("a", 10)
    make_group("b", 10)
    make_group("c", 2)

    chosen = elicitation_set(seed=2)

    # round-robin a b c a b c a b a: the small group gives all it has
    assert groups_of(chosen) == ["a"] * 4 + ["b"] * 3 + ["c"] * 2


def test_per_group_caps_each_group():
    make_group("a", 5)
    make_group("b", 5)

    assert groups_of(elicitation_set(seed=2, per_group=3)) == ["a"] * 3 + ["b"] * 3
    assert groups_of(elicitation_set(seed=2, per_group=1)) == ["a", "b"]


def test_size_sets_the_number_of_paintings():
    for slug in "abcdef":
        make_group(slug, 2)

    assert len(elicitation_set(seed=2, size=4)) == 4
    assert len(elicitation_set(seed=2, size=12)) == 12


def test_another_set_shows_new_paintings_until_all_were_shown():
    for slug in "abcdefghijkl":
        make_group(slug, 3)

    sets = [ids(elicitation_set(seed=8, set_number=n)) for n in range(5)]

    assert all(len(s) == 9 and len({i.split("-")[0] for i in s}) == 9 for s in sets)
    assert sorted(i for s in sets[:4] for i in s) == sorted(
        Painting.objects.values_list("external_id", flat=True)
    )
    assert groups_of(elicitation_set(seed=8, set_number=1)) == list("abcdefjkl")  # j k l, then a to f again
    assert sets[4] == sets[0]  # 36 paintings, 4 sets of 9: the fifth starts over


def test_another_set_with_few_groups_differs_from_the_first():
    make_group("a", 10)
    make_group("b", 10)

    first = set(ids(elicitation_set(seed=4)))
    second = set(ids(elicitation_set(seed=4, set_number=1)))

    assert len(first) == len(second) == 9
    assert first.isdisjoint(second)


def test_same_seed_same_set_other_seeds_other_sets():
    for slug in "abcd":
        make_group(slug, 5)

    assert ids(elicitation_set(seed=123)) == ids(elicitation_set(seed=123))
    assert len({tuple(ids(elicitation_set(seed=seed))) for seed in range(20)}) > 10


def test_two_queries_whatever_the_size(django_assert_num_queries):
    for slug in "abcdefghijkl":
        make_group(slug, 8)

    with django_assert_num_queries(2):
        chosen = elicitation_set(seed=5)
        assert [p.story_group.name for p in chosen]  # story group joined in, no extra query
