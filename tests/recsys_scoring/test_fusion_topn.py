"""Top-n reciprocal rank fusion without full sorts (``fuse_top_n``) against the full-sort fusion."""

import numpy as np
import pytest

from recsys.algorithms.fusion import fuse_top_n, reciprocal_rank_fusion
from recsys.algorithms.scoring import rank_all


def full_sort(scored, weights, n, k):
    """Today's total path: every engine's whole ranking sorted, fused, first n kept."""
    lists = {engine: keys[rank_all(scores, keys)] for engine, (keys, scores) in scored.items()}
    fused = reciprocal_rank_fusion(lists, weights=weights, k=k)
    return fused.keys[:n], fused.scores[:n], {e: r[:n] for e, r in fused.ranks.items()}


def assert_same(scored, weights, n, k):
    expected_keys, expected_scores, expected_ranks = full_sort(scored, weights, n, k)
    got = fuse_top_n(scored, weights=weights, n=n, k=k)
    assert got.keys.tolist() == expected_keys.tolist()
    assert got.scores.tolist() == expected_scores.tolist()  # bit for bit, not approximately
    assert {e: r.tolist() for e, r in got.ranks.items()} == {e: r.tolist() for e, r in expected_ranks.items()}


def test_worked_example_matches_the_hand_computed_total_ranking():
    # scores give lda: 1, 2, 3, 4, 5 and resnet: 4, 5, 3, 1, 2 (see test_fusion.py):
    # 1 = 1/61 + 1/64 = 0.0320184, 4 = the same (smaller pk first), 3 = 2/63 = 0.0317460
    keys = np.array([5, 4, 3, 2, 1])
    scored = {
        "lda": (keys, np.array([0.1, 0.2, 0.3, 0.4, 0.5])),
        "resnet": (keys, np.array([0.4, 0.5, 0.3, 0.1, 0.2])),
    }
    got = fuse_top_n(scored, weights={"lda": 1.0, "resnet": 1.0}, n=3)
    assert got.keys.tolist() == [1, 4, 3]
    assert got.scores == pytest.approx([0.0320184, 0.0320184, 0.0317460], abs=1e-7)
    assert got.engine_ranks(1) == {"lda": 4, "resnet": 1}


def test_equal_scores_rank_the_smaller_pk_first_within_an_engine():
    # one engine, all scores equal: ranks follow the pks, 10 -> 1, 20 -> 2, 30 -> 3
    scored = {"lda": (np.array([30, 10, 20]), np.zeros(3))}
    got = fuse_top_n(scored, weights={"lda": 1.0}, n=2, k=0)
    assert got.keys.tolist() == [10, 20]
    assert got.scores.tolist() == [1.0, 0.5]


@pytest.mark.parametrize("seed", range(300))
def test_same_output_as_the_full_sort_on_random_inputs_with_ties(seed):
    rng = np.random.default_rng(seed)
    engines = ["lda", "resnet", "clip"][: rng.integers(1, 4)]
    size = int(rng.integers(1, 400))
    universe = rng.choice(10 * size + 10, size=size, replace=False).astype(np.int64)
    ties = rng.random() < 0.6  # few distinct scores: many ties, broken by pk
    scored = {}
    for engine in engines:
        keys = rng.permutation(universe)
        if rng.random() < 0.3:  # an engine may miss some paintings (general RRF semantics)
            keys = keys[: int(rng.integers(0, size + 1))]
        scores = rng.integers(0, 5, keys.size).astype(float) if ties else rng.standard_normal(keys.size)
        scored[engine] = (keys, scores)
    weights = {engine: float(rng.choice([0.0, 0.5, 1.0, 2.0, rng.random()])) for engine in engines}
    k = float(rng.choice([0, 1, 60, 1000]))
    n = int(rng.integers(1, size + 5))
    assert_same(scored, weights, n, k)


def test_correlated_large_lists_stop_early_and_agree():
    rng = np.random.default_rng(7)
    keys = np.arange(20_000, dtype=np.int64) * 3
    base = rng.standard_normal(keys.size)
    scored = {"lda": (keys, base + 0.3 * rng.standard_normal(keys.size)), "resnet": (keys, base)}
    assert_same(scored, {"lda": 1.0, "resnet": 1.0}, 9, 60)


def test_n_larger_than_the_union_returns_every_item():
    scored = {"lda": (np.array([1, 2]), np.array([0.5, 0.1])), "resnet": (np.array([3]), np.array([0.2]))}
    got = fuse_top_n(scored, weights={"lda": 1.0, "resnet": 1.0}, n=10, k=60)
    assert got.keys.tolist() == [1, 3, 2]  # 1/61, 1/61 (pk 1 first), 1/62


def test_negative_weight_is_an_error():
    with pytest.raises(ValueError, match="non-negative"):
        fuse_top_n({"lda": (np.array([1]), np.array([0.0]))}, weights={"lda": -1.0}, n=1)


def test_keys_and_scores_of_different_length_are_an_error():
    with pytest.raises(ValueError, match="same length"):
        fuse_top_n({"lda": (np.array([1, 2]), np.array([0.0]))}, weights={"lda": 1.0}, n=1)
