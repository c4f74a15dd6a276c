"""recsys.algorithms.similarity against hand-worked numbers."""

from __future__ import annotations

import numpy as np

from recsys.algorithms import similarity
from recsys.algorithms.similarity import dense_similarity, l2_normalise, top_k_neighbours


def test_l2_normalise_divides_by_the_length_and_flags_zero_and_non_finite_rows():
    vectors, ok = l2_normalise(np.array([[3, 4], [0, 0], [np.nan, 1], [0, -2]], dtype=np.float32))
    assert ok.tolist() == [True, False, False, True]
    np.testing.assert_allclose(vectors, [[0.6, 0.8], [0, 0], [0, 0], [0, -1]])


def test_dense_similarity_is_the_cosine_matrix_with_an_exact_unit_diagonal():
    # u0 = (0.6, 0.8), u1 = (1, 0), u2 = (0, -1): u0.u1 = 0.6, u0.u2 = -0.8, u1.u2 = 0
    units = np.array([[0.6, 0.8], [1, 0], [0, -1]], dtype=np.float32)
    sim = dense_similarity(units)
    np.testing.assert_allclose(sim, [[1, 0.6, -0.8], [0.6, 1, 0], [-0.8, 0, 1]], atol=1e-7)
    assert np.array_equal(sim, sim.T) and np.all(np.diag(sim) == 1.0)


def test_top_k_breaks_ties_by_row_and_excludes_self():
    embeddings = np.array([[1, 0], [1, 0], [0, 1], [1, 0]], dtype=np.float32)
    idx, sim = top_k_neighbours(embeddings, 2)
    assert idx.tolist() == [[1, 3], [0, 3], [0, 1], [0, 1]]
    assert sim.tolist() == [[1, 1], [1, 1], [0, 0], [1, 1]]


def test_top_k_orders_by_similarity_and_caps_k_at_m_minus_one():
    units = np.array([[0.6, 0.8], [1, 0], [0, -1]], dtype=np.float32)
    idx, sim = top_k_neighbours(units, 5)
    assert idx.tolist() == [[1, 2], [0, 2], [1, 0]]  # row 2: 0 (u1) before -0.8 (u0)
    np.testing.assert_allclose(sim, [[0.6, -0.8], [0.6, 0], [0, -0.8]], atol=1e-7)


def test_top_k_in_small_blocks_equals_one_block(monkeypatch):
    embeddings, _ = l2_normalise(np.random.default_rng(3).normal(size=(50, 8)))
    whole = top_k_neighbours(embeddings, 7)
    monkeypatch.setattr(similarity, "BLOCK_ELEMENTS", 50 * 4)  # blocks of 4 rows
    blocked = top_k_neighbours(embeddings, 7)
    assert np.array_equal(whole[0], blocked[0])
    np.testing.assert_allclose(whole[1], blocked[1], atol=1e-6)
    assert np.array_equal(dense_similarity(embeddings), dense_similarity(embeddings).T)
