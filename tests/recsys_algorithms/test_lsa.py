"""TF-IDF and LSA (recsys.algorithms.lsa) against hand-worked numbers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.algorithms import lsa

DOCUMENTS = [["river", "river", "boat"], ["boat", "sea"], ["sea"]]


def test_document_frequencies_count_each_document_once() -> None:
    assert lsa.document_frequencies(DOCUMENTS) == {"river": 1, "boat": 2, "sea": 2}


def test_vocabulary_keeps_terms_between_min_df_and_max_df_sorted() -> None:
    df = {"rare": 1, "boat": 2, "sea": 2, "everywhere": 4}

    assert lsa.vocabulary(df, 4, min_df=2, max_df=0.5) == ["boat", "sea"]


def test_idf_is_smoothed_log_plus_one() -> None:
    # n = 3: ln(4/2) + 1 = 1.69315 for df 1, ln(4/3) + 1 = 1.28768 for df 2, ln(4/4) + 1 = 1 for df 3
    assert lsa.idf_weights([1, 2, 3], 3) == pytest.approx([1.693147, 1.287682, 1.0], abs=1e-6)


def test_tfidf_rows_are_sublinear_idf_weighted_and_unit_length() -> None:
    terms = {"boat": 0, "river": 1, "sea": 2}
    idf = lsa.idf_weights([2, 1, 2], 3)

    rows = lsa.tfidf_rows([*DOCUMENTS, ["unknown"]], terms, idf).toarray()

    # d1: boat 1 * 1.28768, river (1 + ln 2) * 1.69315 = 2.86676; norm 3.14266
    assert rows[0] == pytest.approx([0.409742, 0.912202, 0.0], abs=1e-6)
    assert rows[1] == pytest.approx([0.707107, 0.0, 0.707107], abs=1e-6)
    assert rows[2] == pytest.approx([0.0, 0.0, 1.0])
    assert rows[3] == pytest.approx([0.0, 0.0, 0.0])  # no known term: an empty row, not a NaN


def test_randomized_svd_finds_the_top_singular_triplets() -> None:
    matrix = sp.csr_matrix(np.diag([5.0, 3.0, 1.0, 0.5]))

    u, s, vt = lsa.randomized_svd(matrix, 2, oversamples=2, seed=1)

    assert s == pytest.approx([5.0, 3.0])
    # signs fixed: each right singular vector's largest component is positive
    assert vt == pytest.approx(np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]), abs=1e-9)
    assert u == pytest.approx(np.array([[1.0, 0], [0, 1.0], [0, 0], [0, 0]]), abs=1e-9)


def test_randomized_svd_matches_the_exact_svd_on_a_low_rank_matrix() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((40, 6)) @ rng.standard_normal((6, 30))

    _, s, vt = lsa.randomized_svd(sp.csr_matrix(matrix), 6, seed=3)
    exact = np.linalg.svd(matrix, compute_uv=False)[:6]

    assert s == pytest.approx(exact, rel=1e-8)
    assert vt @ vt.T == pytest.approx(np.eye(6), abs=1e-9)


def test_rank_is_capped_by_the_matrix_shape() -> None:
    _, s, vt = lsa.randomized_svd(sp.csr_matrix(np.diag([2.0, 1.0])), 10)

    assert s == pytest.approx([2.0, 1.0])
    assert vt.shape == (2, 2)


def test_projection_of_a_catalogue_row_is_its_row_of_u_times_s() -> None:
    rng = np.random.default_rng(1)
    matrix = sp.csr_matrix(rng.random((12, 9)))
    u, s, vt = lsa.randomized_svd(matrix, 4, seed=0)

    # z = x V_k; for a catalogue row that is U_k S_k up to the rank-k truncation (exact here:
    # a random 12 x 9 matrix is not rank 4, so compare against the definition instead)
    z = lsa.project(matrix, vt)
    assert z == pytest.approx(matrix.toarray() @ vt.T)
    assert np.abs(z - u * s).max() < 0.5 * s[-1]


def test_orthonormal_columns_spans_the_input() -> None:
    y = np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])

    q = lsa.orthonormal_columns(y)

    assert q.T @ q == pytest.approx(np.eye(2), abs=1e-12)
    coefficients, *_ = np.linalg.lstsq(q, y, rcond=None)
    assert q @ coefficients == pytest.approx(y, abs=1e-12)
