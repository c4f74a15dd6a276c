"""recsys.algorithms.itm against a hand-worked example (the numbers are derived in the comments).

Four paintings, unit vectors e0 = (1, 0), e1 = (0.8, 0.6), e2 = (0.6, -0.8), e3 = (0, 1), K = 1:

    itm_idx = [[1], [0], [0], [1]], itm_prob = [[0.9], [0.9], [0.7], [0.6]]
    G = {(0,1): 0.9 (cos 0.8), (0,2): 0.7 (cos 0.6), (1,3): 0.6 (cos 0.6)}

Least squares through (0.8, 0.9), (0.6, 0.7), (0.6, 0.6): mean cos 2/3, mean p 11/15,
b = (1/30) / (2/75) = 1.25, a = 11/15 - 1.25 * 2/3 = -0.1. Pairs outside G:
A03 = A12 = -0.1 + 1.25 * 0 = -0.1, A23 = -0.1 + 1.25 * (-0.8) = -1.1.
"""

import numpy as np
import pytest

from recsys.algorithms import itm

E = np.array([(1, 0), (0.8, 0.6), (0.6, -0.8), (0, 1)], dtype=np.float32)
IDX = np.array([[1], [0], [0], [1]], dtype=np.int32)
PROB = np.array([[0.9], [0.9], [0.7], [0.6]], dtype=np.float32)


@pytest.fixture
def graph():
    return itm.itm_graph(IDX, PROB)


@pytest.fixture
def line(graph):
    return itm.calibrate(itm.graph_cosines(E, graph), graph.probs)


def test_graph_is_symmetric_with_each_pair_once(graph):
    assert graph.indptr.tolist() == [0, 2, 4, 5, 6]
    assert graph.indices.tolist() == [1, 2, 0, 3, 0, 1]
    assert graph.probs == pytest.approx([0.9, 0.7, 0.9, 0.6, 0.7, 0.6])


def test_padding_and_self_pairs_are_not_in_the_graph():
    graph = itm.itm_graph(np.array([[-1, 0], [0, -1]]), np.array([[0.0, 0.5], [0.4, 0.0]]))
    # (0, 0) is a self pair, -1 is padding: only the pair {0, 1}, stored in both rows
    assert (graph.indptr.tolist(), graph.indices.tolist()) == ([0, 1, 2], [1, 0])
    assert graph.probs == pytest.approx([0.4, 0.4])


def test_calibration_is_the_least_squares_line(line):
    assert (line.a, line.b, line.pairs) == (pytest.approx(-0.1), pytest.approx(1.25), 3)


def test_negative_slope_falls_back_to_the_mean_probability():
    line = itm.calibrate(np.array([0.9, 0.5, 0.9, 0.5]), np.array([0.2, 0.8, 0.2, 0.8]))
    assert (line.a, line.b) == (pytest.approx(0.5), 0.0)


def test_no_pair_means_a_zero_fallback():
    assert itm.calibrate(np.array([]), np.array([])) == itm.Calibration(a=0.0, b=0.0, pairs=0)


def test_one_liked_painting_scores_are_its_itm_probabilities(graph, line):
    scores = itm.itm_scores(embeddings=E, graph=graph, calibration=line, rated_rows=[0], weights=[1.0])
    assert scores[1:] == pytest.approx([0.9, 0.7, -0.1])


def test_scores_mix_itm_and_fallback_by_eq1(graph, line):
    # painting 0 rated 5 (w 1), painting 3 rated 1 (w -1), n = 2:
    # S(1) = (A01 - A31) / 2 = (0.9 - 0.6) / 2 = 0.15;  S(2) = (A02 - A32) / 2 = (0.7 + 1.1) / 2 = 0.9
    scores = itm.itm_scores(
        embeddings=E, graph=graph, calibration=line, rated_rows=[0, 3], weights=[1.0, -1.0]
    )
    assert scores[[1, 2]] == pytest.approx([0.15, 0.9])


def test_block_holds_the_same_a_ij(graph, line):
    block = itm.itm_block(embeddings=E, graph=graph, calibration=line, item_rows=[2, 1], rated_rows=[0, 3])
    assert block == pytest.approx(np.array([[0.7, -1.1], [0.9, 0.6]]))


def test_row_is_itm_in_the_graph_and_the_line_outside(graph, line):
    row = itm.itm_row(embeddings=E, graph=graph, calibration=line, row=3)
    assert row[[0, 1, 2]] == pytest.approx([-0.1, 0.6, -1.1])


def test_dense_cosine_rows_give_the_same_scores(graph, line):
    dense = itm.itm_scores(
        embeddings=E,
        graph=graph,
        calibration=line,
        rated_rows=[0, 3],
        weights=[1.0, -1.0],
        similarity=E @ E.T,
    )
    assert dense[[1, 2]] == pytest.approx([0.15, 0.9])
