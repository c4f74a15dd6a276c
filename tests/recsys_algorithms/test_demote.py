"""Likes pull, dislikes only push down (``recsys.algorithms.demote``), on vectors checked by hand.

Unit vectors in 3-d:

    row  vector            role
    0    (1.0, 0.0, 0.0)   liked (5)
    1    (0.0, 1.0, 0.0)   disliked (1)
    2    (0.0, 0.0, 1.0)   far from everything rated: A = 0 to both (the "rug")
    3    (0.48, 0.6, 0.64) near the like (0.48) and a little nearer the dislike (0.6)
    4    (0.6, 0.48, 0.64) nearer the like (0.6) than the dislike (0.48)
"""

import numpy as np
import pytest

from recsys.algorithms import demote, scoring

E = np.array(
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.48, 0.6, 0.64], [0.6, 0.48, 0.64]],
    dtype=np.float32,
)
A = (E @ E.T).astype(np.float64)
RATED = np.array([0, 1])


def test_weights_split_likes_and_dislikes():
    weights = demote.demote_weights(np.array([5, 4, 3, 2, 1]))
    assert weights.pull == pytest.approx([2 / 3, 1 / 3, 0, 0, 0])
    assert weights.push == pytest.approx([0, 0, 0, 0.5, 1.0])
    assert weights.scheme == "demote"


def test_without_likes_the_pull_is_the_mean_over_the_neutral_ratings():
    weights = demote.demote_weights(np.array([3, 1, 3]))
    assert weights.pull == pytest.approx([0.5, 0, 0.5])
    assert weights.push == pytest.approx([0, 1.0, 0])
    assert weights.scheme == "demote-equal"


def test_only_dislikes_pull_towards_everything_rated():
    weights = demote.demote_weights(np.array([1, 2]))
    assert weights.pull == pytest.approx([0.5, 0.5])
    assert weights.scheme == "demote-equal"


def test_scores_by_hand():
    # L = A[:, 0] = (1, 0, 0, 0.48, 0.6); D = A[:, 1] = (0, 1, 0, 0.6, 0.48)
    # S = L - max(0, D - L) = (1, -1, 0, 0.48 - 0.12, 0.6)
    weights = demote.demote_weights(np.array([5, 1]))
    scores = demote.demote_scores(embeddings=E, rated_rows=RATED, weights=weights)
    assert scores == pytest.approx([1.0, -1.0, 0.0, 0.36, 0.6], abs=1e-6)


def test_a_painting_far_from_everything_no_longer_beats_one_near_the_like():
    weights = demote.demote_weights(np.array([5, 1]))
    scores = demote.demote_scores(embeddings=E, rated_rows=RATED, weights=weights)
    assert scores[3] > scores[2]
    # eq. 1 with centred weights ranks the far painting first: (0.48 - 0.6) / 2 = -0.06 < 0
    centred = scoring.eq1_scores(embeddings=E, rated_rows=RATED, weights=np.array([1.0, -1.0]))
    assert centred[2] == pytest.approx(0.0, abs=1e-6)
    assert centred[3] == pytest.approx(-0.06, abs=1e-6)


def test_two_star_dislike_pushes_half_as_hard():
    # v = 0.5: D(3) = 0.3 < L(3) = 0.48, no push at all
    weights = demote.demote_weights(np.array([5, 2]))
    scores = demote.demote_scores(embeddings=E, rated_rows=RATED, weights=weights)
    assert scores[3] == pytest.approx(0.48, abs=1e-6)


def test_dislikes_never_raise_a_score_above_the_likes_pull():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ratings = np.array([5, 4, 1, 1, 2, 1, 1])
    rows = np.arange(7)
    with_dislikes = demote.demote_scores(
        embeddings=vectors, rated_rows=rows, weights=demote.demote_weights(ratings)
    )
    likes_only = demote.demote_scores(
        embeddings=vectors[:2], rated_rows=np.arange(2), weights=demote.demote_weights(ratings[:2])
    )
    pull = vectors @ (demote.demote_weights(ratings).pull @ vectors[rows])
    assert np.all(with_dislikes <= pull + 1e-12)
    assert likes_only == pytest.approx(pull[:2])


def test_dense_rows_give_the_same_scores_as_the_embeddings():
    weights = demote.demote_weights(np.array([5, 1]))
    a = demote.demote_scores(embeddings=E, rated_rows=RATED, weights=weights)
    b = demote.demote_scores(embeddings=E, rated_rows=RATED, weights=weights, similarity=A)
    assert a == pytest.approx(b, abs=1e-6)
    assert demote.scores_from_block(A[:, RATED], weights) == pytest.approx(a, abs=1e-6)


def test_contributions_add_up_and_dislikes_only_subtract():
    weights = demote.demote_weights(np.array([5, 1]))
    contributions = demote.demote_contributions(A[:, RATED], weights)
    # row 3: +0.48 from the like, -0.12 from the nearest dislike
    assert contributions[3] == pytest.approx([0.48, -0.12], abs=1e-6)
    assert contributions.sum(axis=1) == pytest.approx(demote.scores_from_block(A[:, RATED], weights))
    assert np.all(contributions[:, 1] <= 0)


def test_rated_rows_must_match_the_weights():
    with pytest.raises(ValueError, match="one weight per rated row"):
        demote.demote_scores(
            embeddings=E, rated_rows=np.array([0]), weights=demote.demote_weights(np.array([5, 1]))
        )


def test_scores_at_some_rows_equal_those_of_every_row():
    weights = demote.demote_weights(np.array([5, 1]))
    pull = demote.demote_pull(embeddings=E, rated_rows=RATED, weights=weights)
    assert pull == pytest.approx([1.0, 0.0, 0.0, 0.48, 0.6], abs=1e-6)  # L: cosine to the like
    rows = np.array([4, 2, 3])
    at = demote.demote_scores_at(embeddings=E, rows=rows, pull=pull[rows], rated_rows=RATED, weights=weights)
    assert at == pytest.approx([0.6, 0.0, 0.36], abs=1e-6)  # 3: 0.48 - (0.6 - 0.48)
    every = demote.demote_scores(embeddings=E, rated_rows=RATED, weights=weights)
    assert at.tolist() == every[rows].tolist()
    dense = demote.demote_scores_at(
        embeddings=E, rows=rows, pull=pull[rows], rated_rows=RATED, weights=weights, similarity=A
    )
    assert dense == pytest.approx(at, abs=1e-9)
