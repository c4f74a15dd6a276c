"""The ANN index (recsys.algorithms.ann) on a small seeded clustered set: recall against the exact eq. 1,
exclusion and filters, exact scores, save and load."""

import faiss
import numpy as np
import pytest

from recsys.algorithms import ann
from recsys.algorithms.scoring import top_n

SIZE, DIM, CLUSTERS = 4000, 32, 40


@pytest.fixture(scope="module")
def embeddings():
    """Unit vectors around 40 random centres (a Gaussian mixture on the sphere), fixed seed."""
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((CLUSTERS, DIM))
    members = rng.integers(0, CLUSTERS, SIZE)
    vectors = centres[members] / np.linalg.norm(centres[members], axis=1, keepdims=True)
    vectors = vectors + 0.5 * rng.standard_normal((SIZE, DIM)) / np.sqrt(DIM)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def index(embeddings):
    return ann.build_index(embeddings)


def profiles(embeddings, count, seed=9):
    """Eq. 1 profile vectors q = sum_j w_j e_j / n of 9 random ratings each."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        rated = rng.choice(SIZE, 9, replace=False)
        weights = (rng.integers(1, 6, 9) - 3) / 2
        yield rated, weights @ embeddings[rated].astype(np.float64) / 9


def exact_top(embeddings, query, k, rows):
    scores = embeddings[rows].astype(np.float64) @ query
    return set(rows[top_n(scores, rows, k)].tolist())


def test_recall_at_10_against_exact_eq1_is_at_least_095(embeddings, index):
    hits = 0
    for rated, query in profiles(embeddings, 40):
        rows, _ = ann.search(index, query, 10, embeddings=embeddings, exclude=rated)
        candidates = np.setdiff1d(np.arange(SIZE), rated)
        hits += len(set(rows.tolist()) & exact_top(embeddings, query, 10, candidates))
    assert hits / 400 >= 0.95


def test_rated_paintings_are_never_returned(embeddings, index):
    rated = np.arange(0, 9)
    query = embeddings[rated].astype(np.float64).sum(axis=0) / 9  # the rated rows score highest
    rows, _ = ann.search(index, query, 20, embeddings=embeddings, exclude=rated.tolist())
    assert rows.size == 20
    assert not set(rows.tolist()) & set(rated.tolist())


def test_scores_are_exact_and_ordered_like_the_exact_path(embeddings, index):
    _, query = next(profiles(embeddings, 1))
    rows, scores = ann.search(index, query, 10, embeddings=embeddings)
    assert scores == pytest.approx(embeddings[rows].astype(np.float64) @ query, rel=1e-5)
    assert np.all(np.diff(scores) <= 0)


def test_a_broad_filter_is_honoured_through_the_index(embeddings, index):
    allowed = np.flatnonzero(np.arange(SIZE) % 4 != 0)  # 3 in 4 rows
    ivf = faiss.extract_index_ivf(index)
    assert allowed.size > ann.EXACT_FACTOR * SIZE * ivf.nprobe / ivf.nlist  # so through the index
    for rated, query in profiles(embeddings, 10, seed=3):
        rows, _ = ann.search(index, query, 10, embeddings=embeddings, allowed=allowed, exclude=rated)
        assert rows.size == 10
        assert np.all(rows % 4 != 0)
        assert not set(rows.tolist()) & set(rated.tolist())


def test_a_selective_filter_is_answered_exactly(embeddings, index):
    allowed = np.array([5, 17, 300, 301, 2999])  # fewer than the rows one query scans
    _, query = next(profiles(embeddings, 1, seed=4))
    rows, scores = ann.search(index, query, 3, embeddings=embeddings, allowed=allowed, exclude=[17])
    expected = exact_top(embeddings, query, 3, np.array([5, 300, 301, 2999]))
    assert set(rows.tolist()) == expected
    assert scores.size == 3


def test_fewer_qualifying_rows_than_k_returns_them_all(embeddings, index):
    _, query = next(profiles(embeddings, 1))
    rows, _ = ann.search(index, query, 10, embeddings=embeddings, allowed=np.array([1, 2, 3]), exclude=[2])
    assert sorted(rows.tolist()) == [1, 3]


def test_equal_scores_follow_the_keys(embeddings, index):
    # a zero profile scores every row 0: the exact path's order is painting pk ascending
    keys = np.arange(SIZE)[::-1] * 3
    rows, _ = ann.search(index, np.zeros(DIM), 3, embeddings=embeddings, keys=keys)
    assert rows.tolist() == [SIZE - 1, SIZE - 2, SIZE - 3]


def test_saved_index_loads_memory_mapped_and_answers_the_same(embeddings, index, tmp_path):
    path = ann.save_index(index, tmp_path)
    assert path == tmp_path / ann.INDEX_FILE
    loaded = ann.load_index(tmp_path)
    _, query = next(profiles(embeddings, 1, seed=8))
    assert (
        ann.search(loaded, query, 10, embeddings=embeddings)[0].tolist()
        == ann.search(index, query, 10, embeddings=embeddings)[0].tolist()
    )


def test_no_index_file_loads_none(tmp_path):
    assert ann.load_index(tmp_path) is None


def test_embeddings_of_another_size_are_an_error(embeddings, index):
    with pytest.raises(ValueError, match="index holds 4000 rows"):
        ann.search(index, np.ones(DIM), 5, embeddings=embeddings[:10])


def test_default_cells_grow_with_the_catalogue():
    # about 2 sqrt(m) cells, at most m / 39 (faiss wants >= 39 training rows per cell)
    assert [ann.default_nlist(m) for m in (100_000, 1_000_000, 100)] == [632, 2000, 2]
