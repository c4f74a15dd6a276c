"""Reciprocal rank fusion against worked examples (numbers computed by hand)."""

import numpy as np
import pytest

from recsys.algorithms.fusion import reciprocal_rank_fusion


def fuse(lists, weights=None, k=60):
    arrays = {engine: np.array(keys) for engine, keys in lists.items()}
    return reciprocal_rank_fusion(arrays, weights=weights or dict.fromkeys(lists, 1.0), k=k)


def test_worked_example_with_k_60():
    # lda: 10, 20, 30   resnet: 30, 40, 10
    # 10: 1/61 + 1/63 = 0.0163934 + 0.0158730 = 0.0322665   30: 1/63 + 1/61 = the same
    # 20: 1/62 = 0.0161290                                   40: 1/62 = the same
    fused = fuse({"lda": [10, 20, 30], "resnet": [30, 40, 10]})
    assert fused.keys.tolist() == [10, 30, 20, 40]  # equal scores: smaller pk first
    assert fused.scores == pytest.approx([0.0322665, 0.0322665, 0.0161290, 0.0161290], abs=1e-7)


def test_worked_example_reports_each_engines_rank():
    fused = fuse({"lda": [10, 20, 30], "resnet": [30, 40, 10]})
    assert fused.engine_ranks(0) == {"lda": 1, "resnet": 3}  # painting 10
    assert fused.engine_ranks(3) == {"lda": None, "resnet": 2}  # painting 40


def test_weights_and_k_change_the_order():
    # k=1, lda weight 2: 1 -> 2/2 = 1.0; 2 -> 2/3 + 1/2 = 1.1667; 3 -> 1/3 = 0.3333
    fused = fuse({"lda": [1, 2], "resnet": [2, 3]}, weights={"lda": 2.0, "resnet": 1.0}, k=1)
    assert fused.keys.tolist() == [2, 1, 3]
    assert fused.scores == pytest.approx([1.1666667, 1.0, 0.3333333], abs=1e-7)


def test_partial_lists_drop_an_item_that_total_ranks_third():
    # Both engines rank painting 3 third of five. Partial (top-2 lists): 3 gets nothing.
    # Total: 1 = 1/61 + 1/64 = 0.0320184, 4 = the same, 3 = 2/63 = 0.0317460,
    #        2 = 1/62 + 1/65 = 0.0315136, 5 = the same.
    lda, resnet = [1, 2, 3, 4, 5], [4, 5, 3, 1, 2]
    partial = fuse({"lda": lda[:2], "resnet": resnet[:2]})
    total = fuse({"lda": lda, "resnet": resnet})
    assert partial.keys.tolist() == [1, 4, 2, 5]
    assert total.keys.tolist() == [1, 4, 3, 2, 5]
    assert total.scores == pytest.approx([0.0320184, 0.0320184, 0.0317460, 0.0315136, 0.0315136], abs=1e-7)


def test_an_engine_without_weight_is_an_error():
    with pytest.raises(ValueError, match="no weight"):
        reciprocal_rank_fusion({"lda": np.array([1])}, weights={"resnet": 1.0})


def test_three_engines_with_exact_ties_are_ordered_by_key():
    # Items 10, 20 and 30 take ranks (1, 2, 7), (2, 7, 1) and (7, 1, 2) from lda, resnet, clip:
    # each scores 1/61 + 1/62 + 1/67 = 0.0163934 + 0.0161290 + 0.0149254 = 0.0474478.
    # Added in engine order these sums differ in the last bit; ties must still go by key.
    # Fillers at ranks 3..6 score 1/63 = 0.0158730, 1/64 = 0.0156250, 1/65, 1/66 (once each).
    lists = {
        "lda": [10, 20, 91, 92, 93, 94, 30],
        "resnet": [30, 10, 95, 96, 97, 98, 20],
        "clip": [20, 30, 81, 82, 83, 84, 10],
    }
    for rotation in range(3):  # whichever engine lists which, the same answer
        engines = list(lists)
        rotated = {engine: lists[engines[(i + rotation) % 3]] for i, engine in enumerate(engines)}
        fused = fuse(rotated)
        assert fused.keys[:3].tolist() == [10, 20, 30]
        assert fused.scores[0] == fused.scores[1] == fused.scores[2]
        assert fused.scores[0] == pytest.approx(0.0474478, abs=1e-7)
        # then the rank-3 fillers (1/63) in key order, then rank 4 (1/64), ...
        assert fused.keys[3:6].tolist() == [81, 91, 95]
        assert fused.scores[3:6] == pytest.approx([1 / 63] * 3, abs=1e-12)
    assert fuse(lists).engine_ranks(2) == {"lda": 7, "resnet": 1, "clip": 2}  # painting 30


def test_three_engines_with_weights_tie_exactly_when_their_terms_match():
    # weights lda 2, resnet 1, clip 1, k = 0: 1 -> 2/1 + 1/2 = 2.5 (lda, resnet);
    # 2 -> 2/2 + 1/1 + 1/2 = 2.5 (all three); 3 -> 2/3 + 1/1 = 1.6666667 (lda, clip)
    fused = fuse(
        {"lda": [1, 2, 3], "resnet": [2, 1], "clip": [3, 2]},
        weights={"lda": 2.0, "resnet": 1.0, "clip": 1.0},
        k=0,
    )
    assert fused.keys.tolist() == [1, 2, 3]
    assert fused.scores.tolist() == pytest.approx([2.5, 2.5, 1.6666667], abs=1e-7)
