"""The served "demote" weighting through ``recommend()``: the issue-17 case of a painting far from
everything rated, explanations, and the paper's eq. 1 kept as ``paper:*`` recommenders.

Five paintings with 3-d unit vectors (the hand-worked example of tests/recsys_algorithms):
0 liked, 1 disliked, 2 far from both ("the rug"), 3 near the like but nearer the dislike,
4 nearer the like.
"""

import pytest

from recsys.serving.recommend import recommend
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory

VECTORS = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.48, 0.6, 0.64], [0.6, 0.48, 0.64]]


@pytest.fixture
def five(db):
    paintings = [PaintingFactory() for _ in VECTORS]
    write_artefact(engine="minilm", paintings=paintings, vectors=VECTORS)
    return paintings


def order(result, paintings):
    index = {p.pk: i for i, p in enumerate(paintings)}
    return [index[item.painting_id] for item in result.items]


@pytest.mark.parametrize("dense", [True, False])
def test_demote_keeps_the_far_painting_last(db, settings, dense):
    settings.RECSYS_WEIGHTING = "demote"
    paintings = [PaintingFactory() for _ in VECTORS]
    write_artefact(engine="minilm", paintings=paintings, vectors=VECTORS, dense=dense)
    result = recommend(ratings={paintings[0].pk: 5, paintings[1].pk: 1}, recommender="minilm", n=3)
    assert order(result, paintings) == [4, 3, 2]
    assert [item.score for item in result.items] == pytest.approx([0.6, 0.36, 0.0], abs=1e-6)
    assert result.weighting == "demote" and result.applied_weighting == {"minilm": "demote"}


def test_centred_eq1_puts_the_far_painting_above_one_near_the_like(five, settings):
    result = recommend(
        ratings={five[0].pk: 5, five[1].pk: 1}, recommender="minilm", n=3, weighting="centered"
    )
    assert order(result, five) == [4, 2, 3]  # 0.06, 0, -0.06: what issue 17 reported


def test_a_dislike_explains_only_a_push_down(five, settings):
    settings.RECSYS_WEIGHTING = "demote"
    result = recommend(ratings={five[0].pk: 5, five[1].pk: 1}, recommender="minilm", n=3)
    near_both = next(item for item in result.items if item.painting_id == five[3].pk)
    by_painting = {c.painting_id: c for c in near_both.contributions}
    assert by_painting[five[0].pk].contribution == pytest.approx(0.48, abs=1e-6)
    assert by_painting[five[1].pk].contribution == pytest.approx(-0.12, abs=1e-6)
    for item in result.items:
        for c in item.contributions:
            if c.rating < 3:
                assert c.contribution <= 0


def test_paper_recommender_is_eq1_with_minmax_weights(five, settings):
    settings.RECSYS_WEIGHTING = "demote"
    result = recommend(ratings={five[0].pk: 5, five[1].pk: 1}, recommender="paper:minilm", n=3)
    # min-max: w = (1, 0), S = A[:, 0] / 2 = (0, 0.24, 0.3) for rows 2, 3, 4
    assert order(result, five) == [4, 3, 2]
    assert [item.score for item in result.items] == pytest.approx([0.3, 0.24, 0.0], abs=1e-6)
    assert result.applied_weighting == {"minilm": "minmax"}
