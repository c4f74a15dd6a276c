"""Twenty paintings in two story groups, interleaved on one arc of a small MiniLM artefact, and
visitors whose ratings teach which group goes with which."""

import numpy as np
import pytest

from recsys.artefacts.reader import artefact_cache
from recsys.serving.tuned_view import forget_views
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, RatingFactory, StoryGroupFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_caches(settings, tmp_path):
    settings.RECSYS_ARTEFACT_ROOT = tmp_path / "artefacts"
    settings.RECSYS_RECOMMENDERS = {
        "minilm": {"KIND": "single", "ENGINE": "minilm"},
        "learned": {"KIND": "learned", "ENGINES": ["minilm"], "TUNED": True},
    }
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["minilm"]
    settings.RECSYS_TUNED_ENGINES = ["minilm"]
    settings.RECSYS_TUNED_MIN_VISITORS = 5
    settings.RECSYS_TUNED_IDENTITY_WEIGHT = 5.0  # a small catalogue: let a few visitors move it
    settings.RECSYS_TUNED_LEARNING_RATE = 0.05
    artefact_cache.clear()
    forget_views()
    yield
    artefact_cache.clear()
    forget_views()


@pytest.fixture
def paintings(db):
    sea, flowers = StoryGroupFactory(slug="sea"), StoryGroupFactory(slug="flowers")
    return [PaintingFactory(story_group=sea if i % 2 == 0 else flowers) for i in range(20)]


@pytest.fixture
def minilm(paintings):
    angles = np.deg2rad(np.arange(20) * 9.0)
    vectors = np.stack([np.cos(angles), np.sin(angles), np.where(np.arange(20) % 2 == 0, 0.1, -0.1)], axis=1)
    return write_artefact(engine="minilm", paintings=paintings, vectors=vectors, dense=False)


def rate_like_a_group(paintings, count, seed=0):
    """``count`` users, each liking 3 paintings of one group and rating 2 of the other 1."""
    rng = np.random.default_rng(seed)
    for v in range(count):
        user = UserFactory()
        mine = [p for i, p in enumerate(paintings) if i % 2 == v % 2]
        other = [p for i, p in enumerate(paintings) if i % 2 != v % 2]
        for index in rng.choice(len(mine), 3, replace=False):
            RatingFactory(user=user, painting=mine[index], value=5)
        for index in rng.choice(len(other), 2, replace=False):
            RatingFactory(user=user, painting=other[index], value=1)
