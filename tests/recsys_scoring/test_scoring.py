"""eq. 1, weights, top-n and explanations on a 5-painting matrix small enough to check by hand.

Unit vectors in 2-d (rows of E) and their cosine similarity A = E @ E.T:

    row  vector       A with rows 0..4
    0    ( 1.0, 0.0)   1.0   0.0   0.6   0.8  -1.0
    1    ( 0.0, 1.0)   0.0   1.0   0.8   0.6   0.0
    2    ( 0.6, 0.8)   0.6   0.8   1.0   0.96 -0.6
    3    ( 0.8, 0.6)   0.8   0.6   0.96  1.0  -0.8
    4    (-1.0, 0.0)  -1.0   0.0  -0.6  -0.8   1.0
"""

import numpy as np
import pytest

from recsys.algorithms import scoring

E = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, 0.6], [-1.0, 0.0]], dtype=np.float32)
A = E @ E.T
PKS = np.array([10, 11, 12, 13, 14], dtype=np.int64)


def scores_for(rows, ratings, weighting="centered", similarity=None):
    weights = scoring.rating_weights(np.array(ratings), weighting=weighting)
    return scoring.eq1_scores(
        embeddings=E, rated_rows=np.array(rows), weights=weights.values, similarity=similarity
    )


def test_centered_weights_map_1_to_5_onto_minus_1_to_1():
    weights = scoring.rating_weights(np.array([1, 2, 3, 4, 5]), weighting="centered")
    assert weights.values.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert weights.scheme == "centered"


def test_minmax_weights_are_the_papers_normalisation():
    weights = scoring.rating_weights(np.array([2, 5, 4]), weighting="minmax")
    assert weights.values == pytest.approx([0.0, 1.0, 2 / 3])
    assert weights.scheme == "minmax"


def test_minmax_with_all_ratings_equal_falls_back_to_centered():
    weights = scoring.rating_weights(np.array([5, 5]), weighting="minmax")
    assert weights.values.tolist() == [1.0, 1.0]
    assert weights.scheme == "centered"


def test_all_neutral_ratings_fall_back_to_equal_weights():
    weights = scoring.rating_weights(np.array([3, 3, 3]), weighting="centered")
    assert weights.values.tolist() == [1.0, 1.0, 1.0]
    assert weights.scheme == "equal"


def test_unknown_weighting_is_an_error():
    with pytest.raises(ValueError, match="Unknown weighting"):
        scoring.rating_weights(np.array([4]), weighting="zscore")


def test_centered_scores_by_hand():
    # ratings 5, 4, 2 on rows 0, 1, 4 -> w = (1, 0.5, -0.5), n = 3
    # S(2) = (0.6 + 0.5*0.8 - 0.5*-0.6) / 3 = 1.3 / 3;  S(3) = (0.8 + 0.3 + 0.4) / 3 = 0.5
    scores = scores_for([0, 1, 4], [5, 4, 2])
    assert scores[2] == pytest.approx(0.4333333, abs=1e-6)
    assert scores[3] == pytest.approx(0.5, abs=1e-6)


def test_minmax_scores_match_the_papers_formula_by_hand():
    # paper: w = (r - 2) / (5 - 2) = (1, 2/3, 0); S(2) = (0.6 + 2/3*0.8 + 0) / 3, S(3) = (0.8 + 0.4) / 3
    scores = scores_for([0, 1, 4], [5, 4, 2], weighting="minmax")
    assert scores[2] == pytest.approx(0.3777778, abs=1e-6)
    assert scores[3] == pytest.approx(0.4, abs=1e-6)


def test_a_one_star_rating_pushes_similar_paintings_down():
    liked_only = scores_for([0], [5])
    # add a 1 for row 1, which row 2 resembles (0.8) more than row 3 does (0.6):
    # S(2) = (0.6 - 0.8) / 2 = -0.1 and S(3) = (0.8 - 0.6) / 2 = 0.1
    with_dislike = scores_for([0, 1], [5, 1])
    assert liked_only[2] == pytest.approx(0.6, abs=1e-6)
    assert with_dislike[2] == pytest.approx(-0.1, abs=1e-6)
    assert with_dislike[3] == pytest.approx(0.1, abs=1e-6)


def test_a_single_dislike_ranks_the_opposite_painting_first():
    scores = scores_for([0], [1])
    candidates = np.array([1, 2, 3, 4])
    best = candidates[scoring.top_n(scores[candidates], PKS[candidates], 4)]
    assert best.tolist() == [4, 1, 2, 3]  # S = 1.0, 0.0, -0.6, -0.8


def test_all_equal_ratings_rank_by_mean_similarity():
    # all 3s: equal weights, S(i) = (A_i0 + A_i1) / 2 -> rows 2 and 3 both 0.7, row 4 -0.5
    scores = scores_for([0, 1], [3, 3])
    assert scores[[2, 3, 4]] == pytest.approx([0.7, 0.7, -0.5], abs=1e-6)


def test_dense_rows_give_the_same_scores_as_the_embeddings():
    # one rating (n=1 < d=2) takes the dense path
    from_dense = scores_for([0], [1], similarity=A)
    from_embeddings = scores_for([0], [1])
    assert from_dense == pytest.approx(from_embeddings, abs=1e-6)
    assert from_dense[4] == pytest.approx(1.0, abs=1e-6)


def test_top_n_breaks_ties_by_pk_not_by_row_order():
    scores = scores_for([0, 1], [3, 3])  # rows 2 and 3 tie at 0.7
    keys = np.array([10, 11, 13, 12, 14])  # row 3 has the smaller pk
    candidates = np.array([2, 3, 4])
    best = candidates[scoring.top_n(scores[candidates], keys[candidates], 2)]
    assert best.tolist() == [3, 2]


def test_top_n_keeps_the_smallest_key_among_ties_at_the_cut():
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1])
    keys = np.array([4, 1, 3, 2, 0])
    assert scoring.top_n(scores, keys, 2).tolist() == [1, 3]
    assert scoring.top_n(scores, keys, 3).tolist() == [1, 3, 2]


def test_top_n_with_more_requested_than_available_returns_all_in_order():
    assert scoring.top_n(np.array([0.1, 0.3]), np.array([7, 5]), 5).tolist() == [1, 0]


def test_rank_all_orders_every_entry():
    scores = np.array([0.2, 0.7, 0.2])
    assert scoring.rank_all(scores, np.array([9, 8, 3])).tolist() == [1, 2, 0]


def test_contributions_by_hand_add_up_to_the_score():
    # item row 3, rated rows 0 (5 -> w=1) and 1 (1 -> w=-1), n=2: 1*0.8/2 = 0.4 and -1*0.6/2 = -0.3
    block = scoring.similarity_block(embeddings=E, item_rows=np.array([3]), rated_rows=np.array([0, 1]))
    contrib = scoring.contributions(block, np.array([1.0, -1.0]))
    assert contrib[0] == pytest.approx([0.4, -0.3], abs=1e-6)
    assert contrib[0].sum() == pytest.approx(scores_for([0, 1], [5, 1])[3], abs=1e-6)


def test_top_contributors_order_by_absolute_contribution():
    block = np.array([[0.1, -0.5, 0.3], [0.2, 0.2, -0.1]])
    assert scoring.top_contributors(block, 2).tolist() == [[1, 2], [0, 1]]
