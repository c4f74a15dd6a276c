"""``recsys.algorithms.scan_codes``: the pull's bound from 8-bit codes, against hand-worked numbers
and against the float32 pull of every row."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.algorithms import bounded, demote, scan_codes, scoring

GAMMA_2 = 2 * 2.0**-24 / (1 - 2 * 2.0**-24)


def codes_of(rows: np.ndarray) -> scan_codes.ScanCodes:
    return scan_codes.encode(np.asarray(rows, dtype=np.float32))


# the docstring's example: L~ = [0.90, 0.50, 0.80, 0.30] with p = (1, 0)
EXAMPLE = np.array([[0.90, 0.0], [0.50, 0.0], [0.80, 0.0], [0.30, 0.0]])
PROFILE = np.array([1.0, 0.0], dtype=np.float32)


class Counting:
    def __init__(self, values: np.ndarray) -> None:
        self.values, self.calls = values, 0

    def __call__(self) -> np.ndarray:
        self.calls += 1
        return self.values


def test_slack_is_the_profile_norm_times_error_and_rounding():
    codes = scan_codes.ScanCodes(index=codes_of(EXAMPLE).index, max_error=0.01, max_norm=1.0)
    assert codes.slack(np.array([0.0, 2.0])) == pytest.approx(2 * (0.01 + GAMMA_2 * 2.01), rel=1e-12)


def example_bound(monkeypatch, pull: np.ndarray) -> tuple[scan_codes.ScanBound, Counting]:
    monkeypatch.setattr(scan_codes, "MIN_POOL", 2)
    codes = scan_codes.ScanCodes(index=codes_of(EXAMPLE).index, max_error=0.01, max_norm=0.9)
    full = Counting(pull)
    scan = codes.bound(profile=PROFILE, candidates=np.arange(4), full=full)
    assert scan is not None
    return scan, full


def test_the_pool_is_the_rows_with_the_largest_coded_pull(monkeypatch):
    scan, full = example_bound(monkeypatch, EXAMPLE[:, 0])
    positions, outside = scan.largest(2)
    assert positions.tolist() == [0, 2]
    assert outside == pytest.approx(0.50 + 0.01, abs=0.002)  # row 1's coded pull (0.9 / 255 a step)
    assert full.calls == 0


def test_a_pool_that_clears_the_bound_answers_without_the_float32_pull(monkeypatch):
    scan, full = example_bound(monkeypatch, EXAMPLE[:, 0])
    exact = np.array([0.85, 0.5, 0.40, 0.3])
    positions, scores = bounded.bounded_top_n(
        bound=scan, keys=np.arange(4), n=1, exact=lambda at: exact[at], pool=2
    )
    assert (positions.tolist(), scores.tolist(), full.calls) == ([0], [0.85], 0)


def pushed_example(monkeypatch) -> tuple[scan_codes.ScanBound, Counting, np.ndarray, np.ndarray]:
    monkeypatch.setattr(scan_codes, "MIN_POOL", 2)
    rows = np.vstack([EXAMPLE, np.tile([[0.1, 0.0]], (8, 1))])  # 12 rows: the pool grows to 8 of them
    full = Counting(rows[:, 0])
    scan = codes_of(rows).bound(profile=PROFILE, candidates=np.arange(12), full=full)
    exact = np.concatenate([[0.45, 0.5, 0.40, 0.3], np.full(8, 0.05)])  # row 1 (outside the pool) is best
    positions, scores = bounded.bounded_top_n(
        bound=scan, keys=np.arange(12), n=2, exact=lambda at: exact[at], pool=2
    )
    return scan, full, positions, scores


def test_a_pool_pushed_below_the_bound_reads_the_float32_pull_once(monkeypatch):
    scan, full, positions, scores = pushed_example(monkeypatch)  # 8 rows: more than 1/8 of them
    assert (positions.tolist(), scores.tolist(), full.calls, scan.scans) == ([1, 0], [0.5, 0.45], 1, 1)


def test_a_larger_pool_of_a_small_share_is_read_from_the_codes_again(monkeypatch):
    monkeypatch.setattr(scan_codes, "MAX_POOL_SHARE", 1.0)
    scan, full, positions, scores = pushed_example(monkeypatch)
    assert (positions.tolist(), scores.tolist(), full.calls, scan.scans) == ([1, 0], [0.5, 0.45], 0, 2)


def test_excluded_rows_never_enter_the_pool_and_positions_index_the_candidates(monkeypatch):
    monkeypatch.setattr(scan_codes, "MIN_POOL", 1)
    rows = np.array(
        [[0.9, 0.0], [0.5, 0.0], [0.8, 0.0], [0.3, 0.0], [0.1, 0.0], [0.2, 0.0], [0.0, 1.0], [0.6, 0.0]]
    )
    codes = codes_of(rows)
    scan = codes.bound(
        profile=PROFILE, candidates=np.array([1, 2, 3, 4, 5, 6, 7]), full=Counting(rows[1:, 0])
    )
    positions, outside = scan.largest(1)  # row 0 (the best) is excluded: row 2 is position 1
    assert positions.tolist() == [1]
    assert outside == pytest.approx(0.6 + scan.slack, abs=0.005)  # row 7's


def test_a_filter_keeping_few_rows_reads_the_float32_pull():
    rows = np.eye(8)
    assert (
        codes_of(rows).bound(
            profile=PROFILE[:1].repeat(8), candidates=np.arange(5), full=Counting(rows[:, 0])
        )
        is None
    )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [1, 9, 40])
def test_demote_through_the_codes_ranks_as_every_float32_score(seed, n):
    rng = np.random.default_rng(seed)
    clusters = rng.normal(size=(6, 24))
    embeddings = (clusters[rng.integers(0, 6, 600)] + 0.5 * rng.normal(size=(600, 24))).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    rated = rng.choice(600, 9, replace=False)
    weights = demote.demote_weights(np.array([5, 4, 5, 1, 1, 2, 1, 1, 3]))  # dislikes push the top
    keys = rng.permutation(600) + 1000
    full = demote.demote_scores(embeddings=embeddings, rated_rows=rated, weights=weights)
    candidates = np.setdiff1d(np.arange(600), rated)
    expected = candidates[scoring.top_n(full[candidates], keys[candidates], n)]

    profile = demote.pull_profile(embeddings=embeddings, rated_rows=rated, weights=weights)
    pull = np.asarray(embeddings @ profile, dtype=np.float64)
    scan = codes_of(embeddings).bound(profile=profile, candidates=candidates, full=lambda: pull[candidates])

    def exact(at: np.ndarray) -> np.ndarray:
        rows = candidates[at]
        return demote.demote_scores_at(
            embeddings=embeddings, rows=rows, pull=pull[rows], rated_rows=rated, weights=weights
        )

    positions, scores = bounded.bounded_top_n(bound=scan, keys=keys[candidates], n=n, exact=exact)
    assert candidates[positions].tolist() == expected.tolist()
    np.testing.assert_allclose(scores, full[expected], rtol=0, atol=1e-12)


def test_the_codes_round_trip_through_the_artefact_folder(tmp_path):
    embeddings = np.random.default_rng(0).normal(size=(2000, 140)).astype(np.float32)  # 1.1 MB
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    facts = scan_codes.build_into(embeddings, tmp_path)
    codes = scan_codes.load(tmp_path, facts, size=2000, dim=140)
    assert (facts["file"], facts["bytes"]) == ("scan.faiss", (tmp_path / "scan.faiss").stat().st_size)
    decoded = codes.index.reconstruct_n(0, 2000)
    error = np.linalg.norm(decoded - embeddings, axis=1).max()
    assert codes.max_error == facts["max_error"] == pytest.approx(error)
    step = (embeddings.max() - embeddings.min()) / 255  # one range, 256 levels
    assert np.abs(decoded - embeddings).max() <= step / 2 + 1e-6
    with pytest.raises(ValueError, match="codes of 2000 x 140"):
        scan_codes.load(tmp_path, facts, size=1999, dim=140)
    assert scan_codes.load(tmp_path, None, size=2000, dim=140) is None


def test_small_embeddings_get_no_codes(tmp_path):
    assert scan_codes.build_into(np.eye(16, dtype=np.float32), tmp_path) is None
    assert not (tmp_path / "scan.faiss").exists()
