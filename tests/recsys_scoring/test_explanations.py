"""What a visitor is told (``recsys.serving.explanations``): likes pull up, dislikes only push down."""

from recsys.serving.explanations import reasons
from recsys.serving.results import Contribution


def c(pk, rating, contribution):
    return Contribution(pk, f"p-{pk}", rating, 0.0, 0.0, contribution, "minilm")


def test_liked_paintings_explain_largest_first_and_a_dislike_only_pushes_down():
    found = reasons([c(1, 5, 0.1), c(2, 4, 0.3), c(3, 1, -0.2), c(4, 5, 0.05), c(5, 2, -0.05)])
    assert [(r.painting_id, r.effect) for r in found] == [
        (2, "pulled_up"),
        (1, "pulled_up"),
        (3, "pushed_down"),
    ]


def test_a_one_star_rating_never_explains_a_recommendation():
    # centred eq. 1: weight -1 times a negative similarity adds +0.2 to the rug's score
    assert reasons([c(1, 1, 0.2), c(2, 3, 0.1)]) == ()
