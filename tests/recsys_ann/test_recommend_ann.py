"""Single and early recommenders answered from the artefact's ANN index (RECSYS_ANN_MIN_ITEMS
lowered): a small clustered catalogue of 2,000 paintings, against the exact path."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from catalog.models import Painting
from recsys.algorithms import ann
from recsys.artefacts import files, reader
from recsys.artefacts.reader import artefact_cache
from recsys.serving.recommend import recommend
from recsys.serving.selectors import active_artefact
from tests.artefact_helpers import write_artefact
from tests.factories import ArtistFactory, PaintingFactory, StoryGroupFactory

SIZE, DIM, CLUSTERS = 2000, 32, 40
EXACT = 10**9  # RECSYS_ANN_MIN_ITEMS that keeps every request on the exact path


def clustered(seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLUSTERS, DIM))
    members = np.arange(SIZE) % CLUSTERS  # painting i belongs to cluster i % 40
    vectors = centres[members] / np.linalg.norm(centres[members], axis=1, keepdims=True)
    return vectors + 0.5 * rng.standard_normal((SIZE, DIM)) / np.sqrt(DIM)


@pytest.fixture(autouse=True)
def ann_settings(settings, tmp_path):
    settings.RECSYS_ARTEFACT_ROOT = tmp_path / "artefacts"
    settings.RECSYS_ANN_MIN_ITEMS = 100
    artefact_cache.clear()
    yield
    artefact_cache.clear()


@pytest.fixture
def paintings(db):
    """2,000 paintings: even ones in story group "even", odd ones in "odd"; 20 by one artist."""
    groups = [StoryGroupFactory(slug="even"), StoryGroupFactory(slug="odd")]
    artists = [ArtistFactory(name="Anonymous"), ArtistFactory(name="Vermeer")]
    built = [
        PaintingFactory.build(story_group=groups[i % 2], artist=artists[int(i % 100 == 1)])
        for i in range(SIZE)
    ]
    return Painting.objects.bulk_create(built)


@pytest.fixture
def minilm(paintings):
    row = write_artefact(engine="minilm", paintings=paintings, vectors=clustered(), dense=False)
    art = reader.open_artefact(files.final_dir("minilm", row.version))
    ann.save_index(ann.build_index(np.asarray(art.embeddings)), art.path)
    return row


@pytest.fixture
def calls(monkeypatch):
    """Counts the requests the index answered."""
    seen = []
    original = ann.profile_top_n

    def counting(*args, **kwargs):
        seen.append(kwargs["n"])
        return original(*args, **kwargs)

    monkeypatch.setattr(ann, "profile_top_n", counting)
    return seen


def same_cluster_ratings(paintings, cluster: int = 3) -> dict[int, int]:
    """Five liked paintings of one cluster, two disliked of another (an easy profile)."""
    liked = {paintings[cluster + CLUSTERS * j].pk: 5 for j in range(5)}
    return liked | {paintings[cluster + 1 + CLUSTERS * j].pk: 1 for j in range(2)}


def answer(settings, minimum: int, **kwargs):
    settings.RECSYS_ANN_MIN_ITEMS = minimum
    artefact_cache.clear()
    return recommend(recommender="minilm", **kwargs)


def test_the_index_answers_the_same_top_n_as_the_exact_path(settings, paintings, minilm, calls):
    ratings = same_cluster_ratings(paintings)
    exact = answer(settings, EXACT, ratings=ratings, n=10)
    approximate = answer(settings, 100, ratings=ratings, n=10)
    assert calls == [10]
    assert [i.painting_id for i in approximate.items] == [i.painting_id for i in exact.items]
    assert [i.score for i in approximate.items] == pytest.approx([i.score for i in exact.items], abs=1e-6)
    liked_cluster = {p.pk for p in paintings[3::CLUSTERS]}
    assert {i.painting_id for i in approximate.items} <= liked_cluster


def test_explanations_and_external_ids_come_with_index_answers(paintings, minilm, calls):
    result = recommend(recommender="minilm", ratings=same_cluster_ratings(paintings), n=3)
    by_pk = {p.pk: p.external_id for p in paintings}
    assert [i.external_id for i in result.items] == [by_pk[i.painting_id] for i in result.items]
    top = result.items[0].contributions[0]
    assert (top.rating, top.engine, top.external_id) == (5, "minilm", by_pk[top.painting_id])


def test_rated_paintings_are_never_returned_by_the_index(paintings, minilm, calls):
    # every liked painting of cluster 7 rated: they are the best scores of the profile
    ratings = {p.pk: 5 for p in paintings[7::CLUSTERS][:30]}
    result = recommend(recommender="minilm", ratings=ratings, n=40)
    assert calls == [40]
    returned = [i.painting_id for i in result.items]
    assert len(returned) == 40 and not set(returned) & set(ratings)


def test_excluded_paintings_are_never_returned_by_the_index(settings, paintings, minilm, calls):
    ratings = same_cluster_ratings(paintings)
    first = [i.painting_id for i in answer(settings, EXACT, ratings=ratings, n=5).items]
    result = answer(settings, 100, ratings=ratings, n=5, exclude=first[:3])
    assert calls == [5]
    returned = [i.painting_id for i in result.items]
    assert returned[:2] == first[3:] and not set(returned) & set(first[:3])


def test_a_story_group_filter_is_honoured_through_the_index(settings, paintings, minilm, calls):
    art = active_artefact(engine="minilm")
    ivf = faiss.extract_index_ivf(art.ann_index)
    assert ann.EXACT_FACTOR * SIZE * ivf.nprobe / ivf.nlist < SIZE / 2  # half the catalogue: through faiss
    ratings = same_cluster_ratings(paintings)
    exact = answer(settings, EXACT, ratings=ratings, n=10, story_group="odd")
    result = answer(settings, 100, ratings=ratings, n=10, story_group="odd")
    assert calls == [10]
    odd = {p.pk for p in paintings[1::2]}
    assert {i.painting_id for i in result.items} <= odd
    assert [i.painting_id for i in result.items] == [i.painting_id for i in exact.items]


def test_an_artist_filter_is_honoured_with_the_index(paintings, minilm, calls):
    result = recommend(recommender="minilm", ratings=same_cluster_ratings(paintings), n=30, artist="Vermeer")
    vermeer = {p.pk for p in paintings[1::100]}
    assert calls == [30]
    assert {i.painting_id for i in result.items} == vermeer  # all 20 of them, nothing else


def test_an_artefact_without_an_index_is_answered_exactly(paintings, calls):
    write_artefact(engine="minilm", paintings=paintings, vectors=clustered(), dense=False)
    result = recommend(recommender="minilm", ratings=same_cluster_ratings(paintings), n=5)
    assert calls == [] and len(result.items) == 5


def test_below_the_size_setting_the_exact_path_answers(settings, paintings, minilm, calls):
    settings.RECSYS_ANN_MIN_ITEMS = SIZE
    recommend(recommender="minilm", ratings=same_cluster_ratings(paintings), n=5)
    assert calls == []


def test_the_index_is_opened_once_per_artefact_version(paintings, minilm):
    first = active_artefact(engine="minilm").ann_index
    assert active_artefact(engine="minilm").ann_index is first
    newer = write_artefact(engine="minilm", paintings=paintings, vectors=clustered(seed=6), dense=False)
    art = active_artefact(engine="minilm")
    assert art.version == newer.version and art.ann_index is None  # the new version has none


def test_loading_an_index_limits_faiss_threads_once(settings, paintings, minilm, monkeypatch):
    monkeypatch.setattr(ann, "_threads_limited", False)
    settings.RECSYS_ANN_THREADS = 1
    faiss.omp_set_num_threads(2)
    assert active_artefact(engine="minilm").ann_index is not None
    assert faiss.omp_get_max_threads() == 1


def test_demote_from_the_index_equals_the_exact_path(settings, paintings, minilm, calls):
    # the likes' profile finds a pool of POOL_FACTOR * n, re-scored exactly with the push
    settings.RECSYS_WEIGHTING = "demote"
    ratings = same_cluster_ratings(paintings)
    exact = answer(settings, EXACT, ratings=ratings, n=10)
    approximate = answer(settings, 100, ratings=ratings, n=10)
    assert calls == [50]
    assert [i.painting_id for i in approximate.items] == [i.painting_id for i in exact.items]
    assert [i.score for i in approximate.items] == pytest.approx([i.score for i in exact.items], abs=1e-6)
    assert approximate.applied_weighting == {"minilm": "demote"}
