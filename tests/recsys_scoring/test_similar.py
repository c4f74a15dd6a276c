"""recsys.serving.similar.similar_paintings on artefacts written to RECSYS_ARTEFACT_ROOT (see conftest.py)."""

import pytest

from config.exceptions import ValidationFailed
from recsys.serving.similar import similar_paintings
from tests.artefact_helpers import write_artefact
from tests.recsys_scoring.vectors import LDA


def test_similar_paintings_from_the_dense_matrix(paintings, lda):
    found = similar_paintings(painting_id=paintings[0].pk, engine="lda", n=3)
    assert [(s.painting_id, s.rank) for s in found] == [
        (paintings[i].pk, r) for r, i in ((1, 1), (2, 2), (3, 3))
    ]
    assert [s.similarity for s in found] == pytest.approx([0.96, 0.8, 0.6], abs=1e-6)


@pytest.mark.parametrize("layout", [{"dense": False, "neighbours_k": 4}, {"dense": False}])
def test_similar_paintings_without_a_dense_matrix_agree(paintings, layout):
    write_artefact(engine="lda", paintings=paintings, vectors=LDA, **layout)
    found = similar_paintings(painting_id=paintings[0].pk, engine="lda", n=3)
    assert [s.painting_id for s in found] == [paintings[1].pk, paintings[2].pk, paintings[3].pk]
    assert [s.similarity for s in found] == pytest.approx([0.96, 0.8, 0.6], abs=1e-6)


@pytest.mark.parametrize("layout", [{}, {"dense": False, "neighbours_k": 4}])
def test_similar_paintings_skip_deleted_paintings(paintings, layout):
    write_artefact(engine="lda", paintings=paintings, vectors=LDA, **layout)
    paintings[2].delete()
    found = similar_paintings(painting_id=paintings[0].pk, engine="lda", n=3)
    assert [s.painting_id for s in found] == [paintings[1].pk, paintings[3].pk, paintings[4].pk]
    assert [s.rank for s in found] == [1, 2, 3]


def test_similar_paintings_of_a_painting_the_engine_lacks(paintings, resnet):
    with pytest.raises(ValidationFailed, match="not in the resnet artefact") as raised:
        similar_paintings(painting_id=paintings[6].pk, engine="resnet", n=3)
    assert raised.value.field == "painting"
