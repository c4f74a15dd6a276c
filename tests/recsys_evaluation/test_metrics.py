"""The evaluation's metrics on lists small enough to check by hand."""

import math

import numpy as np
import pytest

from recsys.evaluation import metrics

RANKED = [1, 2, 3, 4]
RELEVANT = {2, 4, 9}


def test_precision_divides_hits_by_k():
    assert metrics.precision_at_k(RANKED, RELEVANT, 4) == 0.5
    # a list shorter than k is not rewarded for being short
    assert metrics.precision_at_k([2], RELEVANT, 4) == 0.25


def test_recall_divides_hits_by_the_relevant_count():
    assert metrics.recall_at_k(RANKED, RELEVANT, 4) == pytest.approx(2 / 3)
    assert metrics.recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)


def test_ndcg_by_hand():
    # hits at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677
    # ideal: three relevant at ranks 1-3: 1 + 0.630930 + 0.5
    assert metrics.ndcg_at_k(RANKED, RELEVANT, 4) == pytest.approx(1.061606 / 2.130930, abs=1e-6)


def test_ndcg_is_one_for_the_ideal_list_and_zero_without_hits():
    assert metrics.ndcg_at_k([4, 2, 9, 1], RELEVANT, 4) == pytest.approx(1.0)
    assert metrics.ndcg_at_k([1, 3], RELEVANT, 4) == 0.0


def test_ndcg_needs_a_relevant_item():
    with pytest.raises(ValueError):
        metrics.ndcg_at_k(RANKED, set(), 4)


def test_coverage_counts_distinct_top_k_items():
    assert metrics.catalogue_coverage([[1, 2, 3], [2, 3, 4], [5]], 10, 2) == 0.4  # {1,2,3,5}


def test_intra_list_diversity_is_one_minus_mean_pairwise_cosine():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    # cosines 0, 0.6, 0.8: mean 0.466667
    assert metrics.intra_list_diversity(vectors) == pytest.approx(1 - 1.4 / 3)
    assert math.isnan(metrics.intra_list_diversity(vectors[:1]))


def test_self_information_with_add_one_smoothing():
    assert metrics.self_information(np.array([0, 1, 3]), 3).tolist() == [2.0, 1.0, 0.0]


def test_popularity_rank_shares_ties_and_scales_to_one():
    assert metrics.popularity_rank(np.array([0, 1, 3, 3])).tolist() == [1.0, 0.75, 0.375, 0.375]


def test_mean_ci_is_students_t():
    estimate = metrics.mean_ci([1.0, 2.0, 3.0])
    # s = 1, t(0.975, 2) = 4.302653: half width 4.302653 / sqrt(3) = 2.484138
    assert estimate.mean == 2.0
    assert estimate.low == pytest.approx(2.0 - 2.484138, abs=1e-6)
    assert estimate.high == pytest.approx(2.0 + 2.484138, abs=1e-6)
    assert estimate.n == 3


def test_mean_ci_drops_nan_and_handles_one_value():
    assert metrics.mean_ci([float("nan"), 0.5]).as_dict() == {"mean": 0.5, "ci95": [0.5, 0.5], "n": 1}
    assert metrics.mean_ci([]).n == 0
