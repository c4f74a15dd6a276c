"""Builds across machines: workers and web share only the ``artefacts`` storage.

The storage is ``RemoteStorage`` (a folder reached only through the Storage API, like S3); the
worker and web "machines" are the same process with a different ``RECSYS_ARTEFACT_CACHE`` each
(their local disks); ``RECSYS_ARTEFACT_ROOT`` (the web's default artefact folder) is a path that
must never be created."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from recsys.algorithms import itm
from recsys.artefacts.files import MANIFEST
from recsys.artefacts.reader import artefact_cache
from recsys.build import pipeline, runs
from recsys.build.services import precompute_engine
from recsys.engines.blip import rescore
from recsys.engines.registry import clear_engine_cache, get_engine
from recsys.models import Artefact
from recsys.serving.recommend import recommend
from recsys.serving.selectors import active_artefact
from tests.factories import ArtistFactory, PaintingFactory
from tests.recsys_engines.conftest import tiny_models  # noqa: F401 (fixture)
from tests.recsys_engines.test_precompute import TEXTS, give_image
from tests.recsys_pipeline.conftest import make_painting

pytestmark = pytest.mark.django_db

REMOTE = "tests.recsys_pipeline.remote_storage.RemoteStorage"


@pytest.fixture
def machines(settings, tmp_path):
    """Folders of the shared storage and of each machine's local disk."""
    folders = {name: tmp_path / name for name in ("storage", "web", "worker-a", "worker-b", "web-root")}
    settings.STORAGES = {
        **settings.STORAGES,
        "artefacts": {"BACKEND": REMOTE, "OPTIONS": {"location": str(folders["storage"])}},
    }
    settings.RECSYS_ARTEFACT_ROOT = folders["web-root"]
    settings.RECSYS_RECOMMENDERS = {"fake": {"KIND": "single", "ENGINE": "fake"}}
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["fake"]
    yield folders
    assert not folders["web-root"].exists(), "something read or wrote RECSYS_ARTEFACT_ROOT"


@contextmanager
def on(settings, folder: Path):
    """Run the block as the machine whose local disk is ``folder``."""
    previous = settings.RECSYS_ARTEFACT_CACHE
    settings.RECSYS_ARTEFACT_CACHE = folder
    try:
        yield
    finally:
        settings.RECSYS_ARTEFACT_CACHE = previous


def stored(folders, *parts: str) -> Path:
    return folders["storage"].joinpath(*parts)


def test_published_files_are_in_the_storage_without_the_run_scratch(catalogue, machines, settings):
    with on(settings, machines["worker-a"]):
        row = precompute_engine(engine="fake")
    published = stored(machines, "fake", row.version)
    assert sorted(p.name for p in published.iterdir()) == [
        "content_hashes.json",
        "embeddings.npy",
        "external_ids.json",
        "manifest.json",
        "neighbours_idx.npy",
        "neighbours_sim.npy",
        "painting_ids.npy",
        "similarity.npy",
    ]
    assert sorted(p.name for p in stored(machines, "fake").iterdir()) == [row.version]
    assert np.load(published / "painting_ids.npy").tolist() == sorted(p.pk for p in catalogue)


def test_web_serves_recommendations_from_its_downloaded_copy(catalogue, machines, settings):
    with on(settings, machines["worker-a"]):
        row = precompute_engine(engine="fake")
    assert not (machines["web"] / "fake").exists()
    with on(settings, machines["web"]):
        result = recommend(ratings={catalogue[0].pk: 5}, recommender="fake", n=2)
        loaded = active_artefact(engine="fake")
    assert loaded.path == machines["web"] / "fake" / row.version
    assert isinstance(loaded.embeddings.base, np.memmap)  # read from the map, not loaded
    stored_embeddings = np.load(stored(machines, "fake", row.version, "embeddings.npy"))
    assert np.array_equal(np.asarray(loaded.embeddings), stored_embeddings)
    # the other two sea paintings are the closest to the rated sea painting
    assert [item.painting_id for item in result.items] == [catalogue[1].pk, catalogue[2].pk]
    assert not list((machines["web"] / ".tmp").iterdir())  # the download folder was renamed


def test_web_picks_up_a_new_activation_by_downloading_it(catalogue, machines, settings):
    with on(settings, machines["worker-a"]):
        first = precompute_engine(engine="fake")
    with on(settings, machines["web"]):
        assert active_artefact(engine="fake").version == first.version
    newcomer = make_painting("sea", 9)
    with on(settings, machines["worker-b"]):
        second = precompute_engine(engine="fake")
    assert second.version != first.version
    assert not (machines["web"] / "fake" / second.version).exists()
    with on(settings, machines["web"]):
        loaded = active_artefact(engine="fake")
        result = recommend(ratings={catalogue[0].pk: 5}, recommender="fake", n=3)
    assert loaded.version == second.version
    assert loaded.path == machines["web"] / "fake" / second.version
    assert newcomer.pk in loaded.row_of
    assert newcomer.pk in {item.painting_id for item in result.items}


def test_incremental_build_on_a_fresh_worker_reuses_rows_from_the_storage(catalogue, machines, settings):
    with on(settings, machines["worker-a"]):
        first = precompute_engine(engine="fake")
    make_painting("winter", 9)
    with on(settings, machines["worker-b"]):
        second = precompute_engine(engine="fake")
    assert second.manifest["mode"] == "incremental"
    assert second.manifest["counts"] == {
        "catalogue": 13,
        "items": 13,
        "skipped": 0,
        "encoded": 1,
        "reused": 12,
    }
    assert second.manifest["previous_version"] == first.version


def test_each_step_on_another_machine_gets_the_fitted_state_from_the_storage(catalogue, machines, settings):
    row = runs.create_run(engine=get_engine("fitted"))
    with on(settings, machines["worker-a"]):
        n_batches = pipeline.prepare(row.pk)
    assert n_batches == 4  # 12 paintings, 3 a batch
    scratch = stored(machines, "fitted", f".staging-{row.version}")
    assert (scratch / "plan.json").exists() and (scratch / "state" / "fitted.txt").read_text() == "12"
    with on(settings, machines["worker-b"]):
        for batch_no in range(n_batches):
            assert pipeline.encode_batch(row.pk, batch_no) == 3
    assert (machines["worker-b"] / "fitted" / f".staging-{row.version}" / "state" / "fitted.txt").exists()
    assert sorted(p.name for p in (scratch / "batches").iterdir())[:2] == ["000000.json", "000000.npy"]
    with on(settings, machines["web"]):  # a third machine finalizes
        finished = pipeline.finalize(row.pk)
    assert finished.status == Artefact.Status.READY and finished.is_active
    assert not scratch.exists()
    published = stored(machines, "fitted", row.version)
    assert (published / MANIFEST).exists() and (published / "state" / "fitted.txt").read_text() == "12"


@pytest.fixture
def blip_catalogue(machines, settings, tmp_path, tiny_models):  # noqa: F811
    """Five paintings, four with images, for BLIP on its tiny checkpoint (top-3 ITM lists)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RECSYS_ENGINES = {
        **settings.RECSYS_ENGINES,
        "blip": {
            "BACKEND": "recsys.engines.blip.BlipEngine",
            "MODEL": tiny_models["blip"],
            "OPTIONS": {"batch_size": 8, "itm_top_k": 3},
        },
    }
    settings.RECSYS_NEIGHBOURS_K = 3
    settings.RECSYS_ITM_BATCH_IMAGES = 2  # the four images in two pair batches
    clear_engine_cache()
    artist = ArtistFactory(name="Anonymous")
    paintings = [PaintingFactory(description=text, artist=artist, story_group=None) for text in TEXTS]
    for seed, painting in enumerate(paintings[:4], start=1):
        give_image(painting, seed)
    return paintings


def test_blip_pair_batches_scored_on_another_machine_land_in_the_artefact(blip_catalogue, machines, settings):
    row = runs.create_run(engine=get_engine("blip"))
    with on(settings, machines["worker-a"]):  # prepares, encodes, assembles the rows, plans the pairs
        for batch_no in range(pipeline.prepare(row.pk)):
            pipeline.encode_batch(row.pk, batch_no)
        assert pipeline.plan_pairs(row.pk) == 2
    pairs = stored(machines, "blip", f".staging-{row.version}", "pairs")
    assert (pairs / "plan.json").exists() and (pairs / "candidates.npy").exists()
    with on(settings, machines["worker-b"]):  # never assembled the rows
        assert [pipeline.score_pair_batch(row.pk, n) for n in range(2)] == [2, 2]
        assert pipeline.score_pair_batch(row.pk, 1) == 0  # a redelivered batch does nothing twice
    assert not (machines["worker-b"] / "blip" / f".staging-{row.version}").exists()
    scores = {(int(i), int(j)): p for n in range(2) for i, j, p in np.load(pairs / f"{n:06d}.npy").tolist()}
    expected_idx, expected_prob = rescore(np.load(pairs / "candidates.npy"), scores)
    with on(settings, machines["web"]):  # a third machine finalizes
        finished = pipeline.finalize(row.pk)
    assert finished.status == Artefact.Status.READY and finished.is_active
    assert "pair batch 2/2" in finished.log
    assert finished.manifest["postprocess"]["itm_pairs_scored"] == len(scores) > 0
    published = stored(machines, "blip", row.version)
    assert np.array_equal(np.load(published / itm.ITM_IDX), expected_idx)
    assert np.array_equal(np.load(published / itm.ITM_PROB), expected_prob)
    assert not stored(machines, "blip", f".staging-{row.version}").exists()


def test_a_failed_run_leaves_no_scratch_in_the_storage(catalogue, machines, settings):
    row = runs.create_run(engine=get_engine("fake"))
    with on(settings, machines["worker-a"]):
        pipeline.prepare(row.pk)
        pipeline.encode_batch(row.pk, 0)
        assert runs.mark_failed(row.pk, "stopped by the test")
    assert not stored(machines, "fake", f".staging-{row.version}").exists()
    with on(settings, machines["worker-b"]):
        assert pipeline.encode_batch(row.pk, 1) is None  # a late delivery does nothing


def test_old_versions_are_pruned_from_the_storage_and_the_web_copies(catalogue, machines, settings):
    settings.RECSYS_ARTEFACT_KEEP = 1
    versions = []
    for n in range(2):
        make_painting("flowers", 10 + n)
        with on(settings, machines["worker-a"]):
            versions.append(precompute_engine(engine="fake").version)
        with on(settings, machines["web"]):
            assert active_artefact(engine="fake").version == versions[-1]
    assert sorted(p.name for p in stored(machines, "fake").iterdir()) == [versions[-1]]
    assert sorted(p.name for p in (machines["web"] / "fake").iterdir()) == [versions[-1]]


def test_the_default_storage_is_read_in_place_without_a_copy(catalogue, settings, tmp_path):
    settings.RECSYS_ARTEFACT_CACHE = tmp_path / "cache"
    row = precompute_engine(engine="fake")
    artefact_cache.clear()
    loaded = active_artefact(engine="fake")
    assert loaded.path == settings.RECSYS_ARTEFACT_ROOT / "fake" / row.version
    assert not settings.RECSYS_ARTEFACT_CACHE.exists()
