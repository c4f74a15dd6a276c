"""GET /api/v1/elicitation/ without curated story groups: one painting per cluster of the
collection, and the adaptive option that takes the ratings so far (issue 17).

40 paintings with images in 4 themes of 10 (unit vectors near the 4 axes of 4-d, MiniLM), in
story groups an import made (not flagged for elicitation), plus 5 without an image."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.artefacts.reader import artefact_cache
from recsys.serving import elicitation
from tests.api.conftest import give_image
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, StoryGroupFactory

URL = "/api/v1/elicitation/"


@pytest.fixture
def themes(db):
    artefact_cache.clear()
    elicitation._memo.clear()
    rng = np.random.default_rng(3)
    century = StoryGroupFactory(slug="17th-century", use_in_elicitation=False)
    paintings, vectors, theme_of = [], [], {}
    for theme in range(4):
        for i in range(10):
            painting = give_image(PaintingFactory(external_id=f"t{theme}-{i}", story_group=century))
            v = np.zeros(4)
            v[theme] = 1.0
            vectors.append(v + rng.normal(scale=0.05, size=4))
            paintings.append(painting)
            theme_of[painting.external_id] = theme
    for i in range(5):  # no image: never shown
        paintings.append(PaintingFactory(external_id=f"blind-{i}", story_group=century))
        vectors.append(rng.normal(size=4))
    write_artefact(engine="minilm", paintings=paintings, vectors=vectors)
    yield theme_of
    artefact_cache.clear()
    elicitation._memo.clear()


def test_without_curated_groups_a_set_spans_the_clusters(api_client, themes):
    body = api_client.get(URL, {"seed": 1}).json()
    # the default strategy, adaptive, shows the clusters' set until something is rated
    assert (body["strategy"], body["engine"]) == ("adaptive", "minilm")
    assert [p["id"] for p in body["results"]] == [
        p["id"] for p in api_client.get(URL, {"seed": 1, "strategy": "clusters"}).json()["results"]
    ]
    ids = [p["id"] for p in body["results"]]
    assert len(ids) == 9 and len(set(ids)) == 9
    assert {themes[i] for i in ids} == {0, 1, 2, 3}  # 4 clusters: every theme in one set
    assert all(p["image_url"] for p in body["results"])


def test_sets_rotate_and_repeat_with_the_seed(api_client, themes):
    first = [p["id"] for p in api_client.get(URL, {"seed": 1}).json()["results"]]
    again = [p["id"] for p in api_client.get(URL, {"seed": 1}).json()["results"]]
    second = [p["id"] for p in api_client.get(URL, {"seed": 1, "set": 1}).json()["results"]]
    assert first == again
    assert set(first).isdisjoint(second)


def test_curated_story_groups_win(api_client, themes):
    flagged = StoryGroupFactory(slug="curated", use_in_elicitation=True)
    give_image(PaintingFactory(external_id="curated-1", story_group=flagged))
    body = api_client.get(URL, {"seed": 1, "strategy": "adaptive"}).json()
    assert body["strategy"] == "story-groups" and body["engine"] is None
    assert [p["id"] for p in body["results"]] == ["curated-1"]


def test_adaptive_goes_where_the_ratings_say_least(api_client, themes):
    rated = {"t0-0": 5, "t0-1": 1, "t1-0": 4, "t1-1": 2}
    query = {
        "seed": 2,
        "set": 1,
        "strategy": "adaptive",
        "ratings": ",".join(f"{k}:{v}" for k, v in rated.items()),
    }
    body = api_client.get(URL, query).json()
    ids = [p["id"] for p in body["results"]]
    assert body["strategy"] == "adaptive"
    assert not set(ids) & set(rated)
    # themes 2 and 3 are far from everything rated: the model is least sure there, so they come first
    assert {themes[i] for i in ids[:2]} == {2, 3}


def test_adaptive_without_ratings_is_the_clusters_set(api_client, themes):
    adaptive = api_client.get(URL, {"seed": 4, "strategy": "adaptive"}).json()["results"]
    clusters = api_client.get(URL, {"seed": 4, "strategy": "clusters"}).json()["results"]
    assert [p["id"] for p in adaptive] == [p["id"] for p in clusters]


@pytest.mark.parametrize("ratings", ["t0-0", "t0-0:6", "t0-0:5,t0-0:4", "bad id:5"])
def test_malformed_ratings_are_a_400_naming_ratings(api_client, themes, ratings):
    response = api_client.get(URL, {"strategy": "adaptive", "ratings": ratings})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ratings"


def test_an_unknown_rated_painting_is_a_400(api_client, themes):
    response = api_client.get(URL, {"strategy": "adaptive", "ratings": "nope-1:5"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ratings"


def test_the_clusters_are_shared_through_the_cache(api_client, themes, monkeypatch):
    first = api_client.get(URL, {"seed": 1}).json()["results"]
    elicitation._memo.clear()  # another process: nothing in its memory

    def never(*args, **kwargs):
        raise AssertionError("k-means ran again")

    monkeypatch.setattr(elicitation.maths, "kmeans", never)
    again = api_client.get(URL, {"seed": 1}).json()["results"]
    assert [p["id"] for p in again] == [p["id"] for p in first]
