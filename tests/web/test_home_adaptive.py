"""The rating page without curated story groups: clusters of the collection, and the adaptive
set, which stays the same while the visitor rates it (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from recsys.artefacts.reader import artefact_cache
from recsys.serving import elicitation
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, StoryGroupFactory
from tests.web.conftest import viewable
from web.selectors import SESSION_RATINGS_KEY

pytestmark = pytest.mark.django_db

HOME = reverse("web:home")


def shown(response) -> list[str]:
    return [painting.external_id for painting, _field, _thumb in response.context["rows"]]


@pytest.fixture
def themes(db):
    """40 viewable paintings in 4 themes (MiniLM vectors near 4 axes), in an imported group."""
    artefact_cache.clear()
    elicitation._memo.clear()
    rng = np.random.default_rng(2)
    group = StoryGroupFactory(slug="century", use_in_elicitation=False)
    paintings, vectors = [], []
    for theme in range(4):
        for i in range(10):
            paintings.append(PaintingFactory(external_id=f"t{theme}-{i}", story_group=group, **viewable()))
            v = np.zeros(4)
            v[theme] = 1.0
            vectors.append(v + rng.normal(scale=0.05, size=4))
    write_artefact(engine="minilm", paintings=paintings, vectors=vectors)
    yield
    artefact_cache.clear()
    elicitation._memo.clear()


def test_without_curated_groups_the_set_spans_the_clusters(client, themes):
    ids = shown(client.get(HOME))
    assert len(ids) == 9
    assert {i.split("-")[0] for i in ids} == {"t0", "t1", "t2", "t3"}


def test_the_adaptive_set_ignores_rated_paintings_and_stays_put_while_rated(client, themes, settings):
    settings.RECSYS_ELICITATION = "adaptive"
    session = client.session
    session[SESSION_RATINGS_KEY] = {"t0-0": 5, "t0-1": 1, "t1-0": 4, "t1-1": 2}
    session.save()
    client.post(reverse("web:another_set"))
    second = shown(client.get(HOME))
    assert not set(second) & {"t0-0", "t0-1", "t1-0", "t1-1"}
    assert {i.split("-")[0] for i in second[:2]} == {"t2", "t3"}  # least sure: far from all rated
    session = client.session
    session[SESSION_RATINGS_KEY] |= {second[0]: 5}  # a star saved from the page
    session.save()
    assert shown(client.get(HOME)) == second
