"""``recsys.algorithms.tuning.tune_embeddings`` against hand-made spaces (no database)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from recsys.algorithms.tuning import (
    TuningParams,
    build_triplets,
    project,
    triplet_losses,
    tune_embeddings,
    unit_rows,
)

# Two clusters of 6 paintings on a half circle, interleaved every 15 degrees: A at 0, 30, ..., 150,
# B at 15, 45, ..., 165. What tells them apart is a small third coordinate (+0.1 for A, -0.1 for B),
# so in the untuned space every painting's nearest neighbour is in the other cluster (15 degrees
# away, cosine 0.96, against 30 degrees, cosine 0.87, within its own).
ANGLES = np.deg2rad(np.arange(12) * 15.0)
LABEL = np.arange(12) % 2
MIXED = unit_rows(np.stack([np.cos(ANGLES), np.sin(ANGLES), np.where(LABEL == 0, 0.1, -0.1)], axis=1))
FAST = TuningParams(learning_rate=0.05, identity_weight=5.0)


def _visitors(count: int, seed: int = 1) -> list[dict[int, int]]:
    """Each visitor likes 3 paintings of one cluster (5 stars) and dislikes 2 of the other (1 star)."""
    rng = np.random.default_rng(seed)
    out = []
    for v in range(count):
        mine, other = np.flatnonzero(v % 2 == LABEL), np.flatnonzero(v % 2 != LABEL)
        history = {int(r): 5 for r in rng.choice(mine, 3, replace=False)}
        history |= {int(r): 1 for r in rng.choice(other, 2, replace=False)}
        out.append(history)
    return out


def _neighbour_purity(space: np.ndarray) -> float:
    sims = space @ space.T
    np.fill_diagonal(sims, -np.inf)
    return float((LABEL[sims.argmax(axis=1)] == LABEL).mean())


def test_the_untuned_space_mixes_the_clusters():
    assert _neighbour_purity(MIXED) == 0.0


@pytest.mark.parametrize("loss", ["contrastive", "triplet"])
def test_the_tuned_space_separates_the_two_clusters(loss):
    params = TuningParams(learning_rate=0.05, identity_weight=5.0, loss=loss)
    tuned, report = tune_embeddings({"text": MIXED}, _visitors(40), seed=0, params=params)

    assert _neighbour_purity(tuned["text"]) == 1.0
    sims = tuned["text"] @ tuned["text"].T
    same = LABEL[:, None] == LABEL[None, :]
    # nearest neighbours: within-cluster pairs now closer than the closest cross-cluster pair
    assert (
        sims[same & ~np.eye(12, dtype=bool)].reshape(12, 5).max(axis=1)
        > sims[~same].reshape(12, 6).max(axis=1)
    ).all()
    engine = report.engines["text"]
    assert report.trained and engine.trained
    assert report.triplets == 40 * 3 * 2  # 3 liked pairs x 2 negatives per visitor
    assert engine.loss_after < engine.loss_before
    assert engine.order_after > engine.order_before
    assert len(engine.loss_curve) == 20


def test_rows_are_unit_and_the_map_reproduces_them():
    tuned, report = tune_embeddings({"text": MIXED}, _visitors(40), seed=0, params=FAST)

    assert tuned["text"].dtype == np.float32 and tuned["text"].shape == (12, 3)
    np.testing.assert_allclose(np.linalg.norm(tuned["text"], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(project(MIXED, report.projections["text"]), tuned["text"], atol=1e-6)


def test_same_seed_same_space_bit_for_bit():
    first, _ = tune_embeddings({"text": MIXED}, _visitors(40), seed=3, params=FAST)
    second, _ = tune_embeddings({"text": MIXED}, _visitors(40), seed=3, params=FAST)

    np.testing.assert_array_equal(first["text"], second["text"])


def test_little_feedback_changes_little():
    few, few_report = tune_embeddings({"text": MIXED}, _visitors(4), seed=0)
    many, many_report = tune_embeddings({"text": MIXED}, _visitors(200), seed=0)

    assert (
        few_report.engines["text"].distance_from_identity < many_report.engines["text"].distance_from_identity
    )
    assert np.abs(few["text"] - MIXED).max() < np.abs(many["text"] - MIXED).max()


def test_too_few_triplets_trains_nothing_and_says_why():
    histories = [{0: 5, 2: 4, 1: 1}]  # one visitor: 1 triplet
    tuned, report = tune_embeddings({"text": MIXED}, histories, seed=0)

    np.testing.assert_allclose(tuned["text"], MIXED, atol=1e-6)
    assert not report.trained
    assert report.reason.startswith("1 triplets from 1 of 1 visitors (at least 20 needed")
    np.testing.assert_array_equal(report.projections["text"], np.eye(3, dtype=np.float32))


def test_triplets_and_their_rating_distance_weights():
    triplets = build_triplets([{7: 5, 3: 4, 9: 1, 4: 3, 8: 2}], rng=np.random.default_rng(0), cap=100)

    rows = sorted(
        zip(
            triplets.anchor.tolist(),
            triplets.positive.tolist(),
            triplets.negative.tolist(),
            triplets.weight.tolist(),
            strict=True,
        )
    )
    # liked 3 (4 stars) and 7 (5 stars): min 4; negatives 4 (3 stars), 8 (2), 9 (1)
    assert rows == [(3, 7, 4, 0.25), (3, 7, 8, 0.5), (3, 7, 9, 0.75)]


def test_a_visitor_gives_at_most_cap_triplets():
    history = {row: (5 if row < 6 else 1) for row in range(12)}  # 15 liked pairs x 6 negatives
    triplets = build_triplets([history], rng=np.random.default_rng(0), cap=30)

    assert len(triplets) == 30
    assert (
        len(
            set(
                zip(
                    triplets.anchor.tolist(),
                    triplets.positive.tolist(),
                    triplets.negative.tolist(),
                    strict=True,
                )
            )
        )
        == 30
    )


def test_zero_rows_stay_zero_and_are_left_out():
    space = MIXED.copy()
    space[11] = 0.0
    tuned, report = tune_embeddings({"text": space}, _visitors(40), seed=0, params=FAST)

    assert not tuned["text"][11].any()
    assert report.engines["text"].paintings == 11


def test_triplet_loss_by_hand():
    space = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    triplets = build_triplets([{0: 5, 1: 5, 2: 1}], rng=np.random.default_rng(0), cap=10)

    loss, order = triplet_losses(space, triplets, gamma=10.0)
    # s_ap = 0.6, s_an = 0.0: log(1 + e^(10 * (0 - 0.6))) / 10
    assert loss == pytest.approx(np.log1p(np.exp(-6.0)) / 10.0)
    assert order == 1.0


@pytest.mark.parametrize(
    ("histories", "message"),
    [
        ([{12: 5}], r"histories\[0\]: row 12 is not in 0..11"),
        ([{}, {0: 6}], r"histories\[1\]\[0\]: rating 6"),
    ],
)
def test_bad_histories_are_refused(histories, message):
    with pytest.raises(ValueError, match=message):
        tune_embeddings({"text": MIXED}, histories)


def test_engines_must_share_their_paintings():
    with pytest.raises(ValueError, match="same m paintings"):
        tune_embeddings({"a": MIXED, "b": MIXED[:5]}, [])


def test_importing_the_module_imports_no_torch():
    probe = "import sys, recsys.algorithms.tuning; print('torch' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_the_settings_defaults_are_the_functions_defaults():

    from config.settings import recommender

    defaults = TuningParams()
    assert (defaults.identity_weight, defaults.steps, defaults.learning_rate) == (
        recommender.RECSYS_TUNED_IDENTITY_WEIGHT,
        recommender.RECSYS_TUNED_STEPS,
        recommender.RECSYS_TUNED_LEARNING_RATE,
    )
    assert recommender.RECSYS_RECOMMENDERS["learned"]["TUNED"] is True
