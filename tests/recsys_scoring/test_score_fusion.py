"""Weighted score fusion with missing modalities (recsys.algorithms.score_fusion), hand-worked numbers."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.algorithms.score_fusion import score_fusion

IMAGE = (np.array([1, 3]), np.array([0.8, 0.9]))  # painting 2 has no image
TEXT = (np.array([1, 2]), np.array([0.4, 0.6]))  # painting 3 has no text


def test_the_docstrings_worked_example():
    fused = score_fusion({"image": IMAGE, "text": TEXT}, weights={"image": 0.25, "text": 0.75})
    # 1: 0.25 * 0.8 + 0.75 * 0.4 = 0.5; 2: text alone 0.6; 3: image alone 0.9
    assert fused.keys.tolist() == [3, 2, 1]
    np.testing.assert_allclose(fused.scores, [0.9, 0.6, 0.5])


def test_a_missing_modality_is_renormalised_not_zeroed():
    fused = score_fusion({"image": IMAGE, "text": TEXT}, weights={"image": 0.9, "text": 0.1})
    by_key = dict(zip(fused.keys.tolist(), fused.scores.tolist(), strict=True))
    assert by_key[2] == pytest.approx(0.6)  # not 0.1 * 0.6
    assert by_key[1] == pytest.approx(0.9 * 0.8 + 0.1 * 0.4)


def test_only_the_weights_ratios_matter():
    a = score_fusion({"image": IMAGE, "text": TEXT}, weights={"image": 1.0, "text": 3.0})
    b = score_fusion({"image": IMAGE, "text": TEXT}, weights={"image": 0.25, "text": 0.75})
    assert a.keys.tolist() == b.keys.tolist()
    np.testing.assert_allclose(a.scores, b.scores)


def test_parts_keep_each_engines_own_score():
    fused = score_fusion({"image": IMAGE, "text": TEXT}, weights={"image": 0.5, "text": 0.5})
    assert fused.keys.tolist() == [3, 1, 2]  # 0.9, 0.6, 0.6: ties by key
    assert fused.engine_scores(0) == {"image": 0.9, "text": None}
    assert fused.engine_scores(2) == {"image": None, "text": 0.6}


def test_first_n_and_ties_by_key():
    fused = score_fusion({"x": (np.array([5, 4, 9]), np.array([0.2, 0.2, 0.1]))}, weights={"x": 1.0}, n=2)
    assert fused.keys.tolist() == [4, 5]


def test_nothing_scored_is_an_empty_ranking():
    fused = score_fusion({"x": (np.array([], dtype=np.int64), np.array([]))}, weights={"x": 1.0})
    assert fused.keys.size == 0


@pytest.mark.parametrize("weights", [{"image": 1.0}, {"image": 1.0, "text": 0.0}])
def test_every_engine_needs_a_positive_weight(weights):
    with pytest.raises(ValueError, match="weight"):
        score_fusion({"image": IMAGE, "text": TEXT}, weights=weights)
