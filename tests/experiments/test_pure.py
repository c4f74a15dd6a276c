"""stats, overlap and assignment: the pure modules, against hand-worked numbers."""

import math
from collections import Counter

import pytest

from experiments.assignment import (
    balanced_latin_square_row,
    pick_weighted,
    repeated_arm,
    unit_hash,
    within_sequence,
)
from experiments.overlap import iou, mean_pairwise, rbo
from experiments.stats import effect_size_r, holm, summarize, two_proportion_test


def test_summary_uses_the_t_interval():
    s = summarize([1, 2, 3, 4, 5])
    # sd = sqrt(2.5); t(0.975, 4) = 2.776445; half width = 2.776445 * 1.581139 / sqrt(5)
    assert (s.n, s.mean) == (5, 3.0)
    assert s.sd == pytest.approx(1.5811388, abs=1e-6)
    assert (s.ci_low, s.ci_high) == pytest.approx((1.0367568, 4.9632432), abs=1e-6)


def test_summary_of_one_answer_has_no_interval():
    s = summarize([4])
    assert s.n == 1 and s.mean == 4 and math.isnan(s.sd) and math.isnan(s.ci_low)


def test_holm_steps_down_and_keeps_input_order():
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, 2*0.03, max(1*0.04, 0.06)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_two_proportion_test_by_hand():
    t = two_proportion_test(x1=45, n1=100, x2=30, n2=100)
    # pooled 0.375, se = sqrt(0.375 * 0.625 * 0.02) = 0.0684653, z = 0.15 / se
    assert (t.p1, t.p2) == (0.45, 0.30)
    assert t.z == pytest.approx(2.1908902, abs=1e-6)
    assert t.p_value == pytest.approx(0.0284597, abs=1e-6)


def test_two_proportion_test_without_variance():
    t = two_proportion_test(x1=0, n1=10, x2=0, n2=5)
    assert (t.z, t.p_value) == (0.0, 1.0)


def test_effect_size_r():
    assert effect_size_r(2.0, 16) == 0.5


def test_iou():
    assert iou([1, 2, 3], [2, 3, 4]) == 0.5
    assert iou([], []) == 1.0


def test_rbo_of_equal_length_lists_by_hand():
    # X = 1, 1, 3: (0.1/0.9) * (0.9 + 0.405 + 0.729) + 1 * 0.729 = 0.955
    assert rbo([1, 2, 3], [1, 3, 2], p=0.9) == pytest.approx(0.955)


def test_rbo_of_uneven_lists_by_hand():
    # s = 2, l = 3, p = 0.5: X = 1, 1, 2 -> 0.5 + 0.125 + 2/3 * 0.125 + 1/6 * 0.125 + (1/3 + 1/2) * 0.125
    assert rbo([1, 2], [1, 3, 2], p=0.5) == pytest.approx(5 / 6)
    assert rbo([1, 3, 2], [1, 2], p=0.5) == pytest.approx(5 / 6)


def test_rbo_bounds():
    assert rbo([4, 5, 6, 7], [4, 5, 6, 7]) == pytest.approx(1.0)
    assert rbo([1, 2, 3], [4, 5, 6]) == 0.0


def test_mean_pairwise():
    assert mean_pairwise([[1, 2], [2, 3], [1, 2]], iou) == pytest.approx((1 / 3 + 1 + 1 / 3) / 3)
    assert mean_pairwise([[1]], iou) is None


def test_hash_assignment_is_deterministic():
    u = unit_hash("salt", "visitor:abc")
    assert u == unit_hash("salt", "visitor:abc") and 0 <= u < 1
    assert u != unit_hash("other-salt", "visitor:abc")


def test_weights_split_10000_visitors_in_proportion():
    weights = [1.0, 2.0, 1.0]
    counts = Counter(pick_weighted(unit_hash("exp-salt", f"visitor:{i}"), weights) for i in range(10_000))
    shares = [counts[i] / 10_000 for i in range(3)]
    assert shares == pytest.approx([0.25, 0.5, 0.25], abs=0.015)


def test_pick_weighted_edges():
    assert pick_weighted(0.0, [1, 1]) == 0
    assert pick_weighted(0.4999, [1, 1]) == 0
    assert pick_weighted(0.5, [1, 1]) == 1
    with pytest.raises(ValueError):
        pick_weighted(0.5, [1, 0])


def test_balanced_latin_square_of_four():
    rows = [balanced_latin_square_row(4, j) for j in range(4)]
    assert rows[0] == [0, 1, 3, 2]
    for position in range(4):  # every arm once in every position
        assert sorted(row[position] for row in rows) == [0, 1, 2, 3]
    follows = Counter((row[i], row[i + 1]) for row in rows for i in range(3))
    assert len(follows) == 12 and set(follows.values()) == {1}  # each ordered pair exactly once


def test_balanced_latin_square_of_three_needs_six_rows():
    rows = [balanced_latin_square_row(3, j) for j in range(6)]
    for position in range(3):
        assert Counter(row[position] for row in rows) == {0: 2, 1: 2, 2: 2}
    follows = Counter((row[i], row[i + 1]) for row in rows for i in range(2))
    assert len(follows) == 6 and set(follows.values()) == {2}


@pytest.mark.parametrize("index", range(8))
def test_within_sequence_shows_every_arm_and_repeats_one(index):
    u = unit_hash("s", str(index))
    sequence = within_sequence(4, index, u_repeat=u, u_position=1 - u)
    assert len(sequence) == 5 and set(sequence) == {0, 1, 2, 3}
    repeated = repeated_arm(sequence)
    first, second = (i for i, arm in enumerate(sequence) if arm == repeated)
    assert second - first >= 2 or first == 3  # not back to back unless shown last
    assert [arm for i, arm in enumerate(sequence) if i != second] == balanced_latin_square_row(4, index)
