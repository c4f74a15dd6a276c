"""``recsys.algorithms.corating`` by hand."""

import numpy as np
import pytest

from recsys.algorithms.corating import corating_matrix, corating_scores, fused


def test_co_rating_cosine_by_hand():
    # visitor 0 liked 0 (5) and 1 (5); visitor 1 liked 0 (4) and 2 (5); painting 3 only disliked
    matrix = corating_matrix([{0: 5, 1: 5, 3: 1}, {0: 4, 2: 5}], 4).toarray()

    # L columns: 0 -> (1, 0.5), 1 -> (1, 0), 2 -> (0, 1), 3 -> (0, 0)
    norm0 = np.sqrt(1.25)
    assert matrix[0, 1] == pytest.approx(1.0 / norm0)
    assert matrix[0, 2] == pytest.approx(0.5 / norm0)
    assert matrix[1, 2] == 0.0
    assert not matrix[3].any() and not np.diag(matrix).any()
    np.testing.assert_allclose(matrix, matrix.T)


def test_scores_add_what_was_liked_and_subtract_what_was_disliked():
    matrix = corating_matrix([{0: 5, 1: 5, 3: 1}, {0: 4, 2: 5}], 4)
    co = corating_scores(matrix, {1: 5, 2: 1})  # y = 1 for painting 1, -1 for painting 2

    assert co[0] == pytest.approx(1.0 / np.sqrt(1.25) - 0.5 / np.sqrt(1.25))
    assert co[3] == 0.0


def test_fused_scales_both_terms():
    content = np.array([0.0, 2.0, 4.0])  # std sqrt(8/3)
    co = np.array([0.0, -2.0, 1.0])
    np.testing.assert_allclose(fused(content, co, 0.5), content / np.sqrt(8 / 3) + 0.5 * co / 2.0)
    np.testing.assert_allclose(fused(content, np.zeros(3), 0.5), content / np.sqrt(8 / 3))
