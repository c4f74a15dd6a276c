"""``recsys.algorithms.scan_codes``: the pull's bound from 8-bit codes, against hand-worked numbers
and against the float32 pull of every row."""

from __future__ import annotations

from dataclasses import replace

import faiss
import numpy as np
import pytest

from recsys.algorithms import bounded, demote, scan_codes, scoring
from recsys.algorithms.ann import save_index

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


def test_the_query_is_the_profile_in_integers_with_its_rounding_in_the_slack():
    codes = replace(codes_of(EXAMPLE), max_error=0.01, max_norm=1.0)  # K = 127 / 0.9
    query, divisor, slack = codes.query(np.array([0.5, 2.0]))  # K_p = 127 / 2: q = (round(31.75), 127)
    assert query.tolist() == [[32.0, 127.0]] and divisor == pytest.approx(127 / 0.9 * 127 / 2)
    delta = np.hypot(0.5 - 32 / 63.5, 0.0)  # 0.5 - 0.50394 = -0.00394
    rounding = delta + GAMMA_2 * np.hypot(32, 127) / 63.5
    assert slack == pytest.approx(np.hypot(0.5, 2) * (0.01 + GAMMA_2) + 1.01 * rounding, rel=1e-12)


def test_the_integer_scan_gives_the_coded_pull_exactly():
    codes = codes_of(EXAMPLE)
    query, divisor, _ = codes.query(PROFILE)
    scores, rows = codes.index.search(query, 4)
    coded = codes.decoded(0, 4) @ np.asarray(query[0], dtype=np.float64) * codes.scale
    assert rows[0].tolist() == [0, 2, 1, 3]
    assert scores[0].tolist() == coded[rows[0]].round().tolist()  # integers, exactly
    np.testing.assert_allclose(scores[0] / divisor, EXAMPLE[rows[0], 0], atol=0.5 / codes.scale)


def example_bound(monkeypatch, pull: np.ndarray) -> tuple[scan_codes.ScanBound, Counting]:
    monkeypatch.setattr(scan_codes, "MIN_POOL", 2)
    codes = replace(codes_of(EXAMPLE), max_error=0.01, max_norm=0.9)
    full = Counting(pull)
    scan = codes.bound(profile=PROFILE, candidates=np.arange(4), full=full)
    assert scan is not None
    return scan, full


def test_the_pool_is_the_rows_with_the_largest_coded_pull(monkeypatch):
    scan, full = example_bound(monkeypatch, EXAMPLE[:, 0])
    positions, outside = scan.largest(2)
    assert positions.tolist() == [0, 2]
    assert outside == pytest.approx(0.50 + 0.01, abs=0.004)  # row 1's coded pull (0.9 / 127 a step)
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
@pytest.mark.parametrize(("size", "dim"), [(600, 24), (3000, 384)])  # 384: MiniLM's
def test_demote_through_the_codes_ranks_as_every_float32_score(seed, n, size, dim):
    rng = np.random.default_rng(seed)
    clusters = rng.normal(size=(6, dim))
    embeddings = (clusters[rng.integers(0, 6, size)] + 0.5 * rng.normal(size=(size, dim))).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    rated = rng.choice(size, 9, replace=False)
    weights = demote.demote_weights(np.array([5, 4, 5, 1, 1, 2, 1, 1, 3]))  # dislikes push the top
    keys = rng.permutation(size) + 1000
    full = demote.demote_scores(embeddings=embeddings, rated_rows=rated, weights=weights)
    candidates = np.setdiff1d(np.arange(size), rated)
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
    decoded = codes.decoded(0, 2000)
    error = np.linalg.norm(decoded - embeddings, axis=1).max()
    assert codes.max_error == facts["max_error"] == pytest.approx(error)
    assert (facts["codes"], codes.scale) == ("sq8-signed", pytest.approx(127 / np.abs(embeddings).max()))
    assert np.abs(decoded - embeddings).max() <= 0.5 / codes.scale + 1e-9  # one scale, 255 levels
    with pytest.raises(ValueError, match="codes of 2000 x 140"):
        scan_codes.load(tmp_path, facts, size=1999, dim=140)
    assert scan_codes.load(tmp_path, None, size=2000, dim=140) is None


def test_small_embeddings_get_no_codes(tmp_path):
    assert scan_codes.build_into(np.eye(16, dtype=np.float32), tmp_path) is None
    assert not (tmp_path / "scan.faiss").exists()


def uniform_codes(rows: np.ndarray, folder) -> dict:
    """Codes as artefacts were first built with (QT_8bit_uniform, decoded by faiss itself)."""
    index = faiss.IndexScalarQuantizer(
        rows.shape[1], faiss.ScalarQuantizer.QT_8bit_uniform, faiss.METRIC_INNER_PRODUCT
    )
    index.train(rows)
    index.add(rows)
    save_index(index, folder, name=scan_codes.SCAN_FILE)
    error = np.linalg.norm(index.reconstruct_n(0, rows.shape[0]) - rows, axis=1).max()
    return {"file": scan_codes.SCAN_FILE, "codes": "sq8-uniform", "max_error": float(error), "max_norm": 1.0}


def test_codes_of_the_first_kind_are_not_read(tmp_path):
    facts = uniform_codes(np.asarray(EXAMPLE, dtype=np.float32), tmp_path)
    assert not scan_codes.is_current(facts)
    assert scan_codes.load(tmp_path, facts, size=4, dim=2) is None  # the float32 pull answers
    mislabelled = facts | {"codes": scan_codes.CODES, "scale": 1.0}  # faiss would decode, not sum integers
    assert scan_codes.load(tmp_path, mislabelled, size=4, dim=2) is None


def test_codes_faiss_would_not_scan_in_integers_are_not_read(tmp_path, monkeypatch, caplog):
    facts = scan_codes.build_into(np.asarray(EXAMPLE, dtype=np.float32), tmp_path, min_bytes=0)
    assert scan_codes.load(tmp_path, facts, size=4, dim=2) is not None
    monkeypatch.setattr(scan_codes, "_scans_in_integers", lambda index: False)
    assert scan_codes.load(tmp_path, facts, size=4, dim=2) is None
    assert "exact integers" in caplog.text
