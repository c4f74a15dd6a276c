"""MMR order on a 4-item pool worked by hand.

pool (best first)  scores  rel    similarity  0    1    2    3
0                  1.0     1.0                1   0.9  0.1   0
1                  0.9     0.9               0.9   1   0.2   0
2                  0.5     0.5               0.1  0.2   1    0
3                  0.0     0.0                0    0    0    1
"""

import numpy as np
import pytest

from recsys.algorithms.diversity import mmr_order, normalised_relevance

SCORES = np.array([1.0, 0.9, 0.5, 0.0])
SIM = np.array(
    [
        [1.0, 0.9, 0.1, 0.0],
        [0.9, 1.0, 0.2, 0.0],
        [0.1, 0.2, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


def test_lambda_one_keeps_the_recommenders_order():
    assert mmr_order(scores=SCORES, similarity=SIM, k=4, lam=1.0).tolist() == [0, 1, 2, 3]


def test_lambda_half_by_hand():
    # pick 0 (0.5 * 1); then 1: 0.45 - 0.45 = 0, 2: 0.25 - 0.05 = 0.2, 3: 0 -> 2;
    # then 1: 0.45 - 0.5 * max(0.9, 0.2) = 0 ties with 3: 0 - 0 = 0 -> the better-ranked 1
    assert mmr_order(scores=SCORES, similarity=SIM, k=3, lam=0.5).tolist() == [0, 2, 1]


def test_lambda_low_prefers_the_unrelated_item():
    # lam 0.3 after 0 and 2: item 1 scores 0.27 - 0.7 * 0.9 = -0.36, item 3 scores 0
    assert mmr_order(scores=SCORES, similarity=SIM, k=3, lam=0.3).tolist() == [0, 2, 3]


def test_relevance_is_min_max_normalised():
    assert normalised_relevance(np.array([0.2, 0.1, 0.3])) == pytest.approx([0.5, 0.0, 1.0])
    assert normalised_relevance(np.array([0.4, 0.4])).tolist() == [1.0, 1.0]


def test_k_larger_than_the_pool_returns_the_whole_pool():
    assert sorted(mmr_order(scores=SCORES[:2], similarity=SIM[:2, :2], k=9, lam=0.7).tolist()) == [0, 1]


def test_lambda_outside_zero_one_is_refused():
    with pytest.raises(ValueError):
        mmr_order(scores=SCORES, similarity=SIM, k=2, lam=1.5)
