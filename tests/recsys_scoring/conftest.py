"""Seven paintings with small lda and resnet artefacts (vectors in vectors.py)."""

import pytest

from recsys.artefacts.reader import artefact_cache
from tests.artefact_helpers import write_artefact
from tests.factories import ArtistFactory, PaintingFactory, StoryGroupFactory
from tests.recsys_scoring.vectors import LDA, RESNET


@pytest.fixture(autouse=True)
def _fresh_artefact_cache():
    artefact_cache.clear()
    yield
    artefact_cache.clear()


@pytest.fixture
def paintings(db):
    early = StoryGroupFactory(slug="early")
    late = StoryGroupFactory(slug="late")
    vermeer = ArtistFactory(name="Vermeer")
    groups = [early, early, early, late, late, late, late]
    return [
        PaintingFactory(story_group=group, **({"artist": vermeer} if i == 4 else {}))
        for i, group in enumerate(groups)
    ]


@pytest.fixture
def lda(paintings):
    return write_artefact(engine="lda", paintings=paintings, vectors=LDA)


@pytest.fixture
def resnet(paintings):
    return write_artefact(engine="resnet", paintings=paintings[:6], vectors=RESNET)
