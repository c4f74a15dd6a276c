"""The learned recommender (kernel ridge) on a 3-painting example worked by hand.

    painting  lda vector   rating   y = (r - 3) / 2
    p1        (1, 0)       5        1.0
    p2        (0, 1)       -        -
    p3        (0.6, 0.8)   4        0.5

K over the rated (p1, p3) = [[1, 0.6], [0.6, 1]]; lambda = 1:
(K + I)^-1 = 1/3.64 [[2, -0.6], [-0.6, 2]], alpha = 1/3.64 (2 - 0.3, -0.6 + 1) = (0.467033, 0.109890)
s(p1) = 0.467033 + 0.6 * 0.109890 = 0.532967
s(p2) = 0 * 0.467033 + 0.8 * 0.109890 = 0.087912
s(p3) = 0.6 * 0.467033 + 0.109890 = 0.390110
"""

import numpy as np
import pytest

from recsys.algorithms.learned import (
    NoKnownRatings,
    centred_targets,
    kernel_ridge_alpha,
    learned_scores,
    mean_kernel,
)
from recsys.serving.selectors import active_artefact
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory

LDA = [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]


@pytest.fixture
def paintings(db):
    return [PaintingFactory() for _ in range(3)]


@pytest.fixture
def lda(paintings):
    write_artefact(engine="lda", paintings=paintings, vectors=LDA, dense=False)
    return active_artefact(engine="lda")


def test_ridge_solution_by_hand():
    alpha = kernel_ridge_alpha(np.array([[1.0, 0.6], [0.6, 1.0]]), np.array([1.0, 0.5]), 1.0)
    assert alpha == pytest.approx([1.7 / 3.64, 0.4 / 3.64])


def test_lambda_must_be_positive():
    with pytest.raises(ValueError):
        kernel_ridge_alpha(np.eye(2), np.ones(2), 0.0)


def test_targets_are_centred_ratings_and_all_threes_become_ones():
    assert centred_targets(np.array([5, 4, 1])).tolist() == [1.0, 0.5, -1.0]
    assert centred_targets(np.array([3, 3])).tolist() == [1.0, 1.0]


def test_scores_by_hand(paintings, lda):
    p1, p2, p3 = paintings
    fit = learned_scores(artefacts={"lda": lda}, ratings={p1.pk: 5, p3.pk: 4}, lam=1.0)
    assert fit.painting_ids.tolist() == [p1.pk, p2.pk, p3.pk]
    assert fit.scores == pytest.approx([0.532967, 0.087912, 0.390110], abs=1e-6)
    assert fit.alpha == pytest.approx([0.467033, 0.109890], abs=1e-6)
    assert fit.ignored_ratings == {}


def test_explanations_name_the_rated_painting_that_moved_the_item_most(paintings, lda):
    p1, _, p3 = paintings
    fit = learned_scores(artefacts={"lda": lda}, ratings={p1.pk: 5, p3.pk: 4}, lam=1.0)
    # p2: alpha_j K_2j = (0.467033 * 0, 0.109890 * 0.8): only p3 moved it
    ((first, second),) = fit.explain(np.array([1]), 2)
    assert first == (p3.pk, pytest.approx(0.087912, abs=1e-6))
    assert second == (p1.pk, 0.0)
    assert fit.contributions(np.array([1])).sum() == pytest.approx(fit.scores[1])


def test_a_large_lambda_ranks_as_eq1_with_centred_weights(paintings, lda):
    p1, p2, _ = paintings
    fit = learned_scores(artefacts={"lda": lda}, ratings={p1.pk: 5, p2.pk: 1}, lam=1e6)
    # eq. 1: (1 * A_i1 - 1 * A_i2) / 2 -> p1 0.5, p2 -0.5, p3 -0.1; ridge: the same / (lambda / 2)
    assert (fit.scores * 1e6 / 2) == pytest.approx([0.5, -0.5, -0.1], abs=1e-5)


def test_two_engines_average_their_cosines_and_missing_blocks_are_zero(paintings, lda):
    p1, p2, p3 = paintings
    write_artefact(engine="minilm", paintings=[p1, p2], vectors=[[1.0, 0.0], [1.0, 0.0]], dense=False)
    arts = {"lda": lda, "minilm": active_artefact(engine="minilm")}
    kernel = mean_kernel(artefacts=arts, pks=np.array([p1.pk, p2.pk, p3.pk]))
    # lda cosines [[1,0,.6],[0,1,.8],[.6,.8,1]]; minilm [[1,1,0],[1,1,0],[0,0,0]] (p3 absent)
    assert kernel == pytest.approx(np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 0.5]]))
    fit = learned_scores(artefacts=arts, ratings={p3.pk: 5}, lam=1.0)
    # K = 0.5, alpha = 1 / 1.5; s(i) = alpha * k(i, p3)
    assert fit.scores == pytest.approx([0.3 / 1.5, 0.4 / 1.5, 0.5 / 1.5])


def test_ratings_no_engine_knows_are_ignored_and_none_left_is_refused(paintings, lda):
    stranger = PaintingFactory()
    fit = learned_scores(artefacts={"lda": lda}, ratings={paintings[0].pk: 5, stranger.pk: 1})
    assert fit.rated_pks.tolist() == [paintings[0].pk]
    assert list(fit.ignored_ratings) == [stranger.pk]
    with pytest.raises(NoKnownRatings) as caught:
        learned_scores(artefacts={"lda": lda}, ratings={stranger.pk: 4})
    assert list(caught.value.ignored) == [stranger.pk]
