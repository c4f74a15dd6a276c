"""The pipeline written once for all engines, exercised with the deterministic fake engine."""

from __future__ import annotations

import numpy as np
import pytest

from catalog import snapshot
from catalog.hashes import paintings_refresh_content_hash
from catalog.models import Painting
from config.exceptions import ModelNotAvailable, RunInProgress, UnknownEngine
from recsys.artefacts.files import SIMILARITY, engine_dir, final_dir, publish_local, staging_dir
from recsys.build import finalizing as finalize_step
from recsys.build import pipeline, runs
from recsys.build.services import precompute_engine
from recsys.engines.base import PaintingInput
from recsys.engines.registry import get_engine
from recsys.models import Artefact
from tests.factories import PaintingFactory
from tests.recsys_pipeline.conftest import loaded, make_painting
from tests.recsys_pipeline.fakes import FakeEngine, bag_of_words

pytestmark = pytest.mark.django_db


def test_rows_are_unit_vectors_of_the_engine_output_in_pk_order(catalogue):
    row = precompute_engine(engine="fake")
    art = loaded(row)
    assert art.painting_ids.tolist() == sorted(p.pk for p in catalogue)
    np.testing.assert_allclose(np.linalg.norm(art.embeddings, axis=1), 1.0, atol=1e-6)
    text = snapshot.painting_input(catalogue[0]).text
    expected = bag_of_words(text) / np.linalg.norm(bag_of_words(text))
    np.testing.assert_allclose(art.embeddings[art.row_of[catalogue[0].pk]], expected, atol=1e-6)


def test_dense_similarity_is_symmetric_cosine_with_unit_diagonal(catalogue):
    art = loaded(precompute_engine(engine="fake"))
    sim = np.asarray(art.similarity)
    assert sim.dtype == np.float32
    assert np.array_equal(sim, sim.T)
    assert np.all(np.diag(sim) == 1.0)
    assert sim.min() >= -1.0 and sim.max() <= 1.0
    np.testing.assert_allclose(sim, art.embeddings @ art.embeddings.T, atol=1e-6)


def test_same_theme_is_more_similar_than_another_theme(catalogue):
    art = loaded(precompute_engine(engine="fake"))
    sea_a, sea_b, flowers = (art.row_of[p.pk] for p in (catalogue[0], catalogue[1], catalogue[3]))
    assert art.similarity[sea_a, sea_b] > art.similarity[sea_a, flowers]


def test_top_k_lists_above_the_dense_limit_match_the_dense_matrix(catalogue, settings):
    dense = loaded(precompute_engine(engine="fake"))
    settings.RECSYS_DENSE_MAX_ITEMS = len(catalogue) - 1
    top_k = loaded(precompute_engine(engine="fake", full=True))
    assert top_k.similarity is None and not (top_k.path / SIMILARITY).exists()
    assert top_k.manifest["neighbour_structure"] == "top_k"
    assert np.array_equal(dense.neighbours_idx, top_k.neighbours_idx)
    rows = np.arange(len(catalogue))[:, None]
    np.testing.assert_allclose(top_k.neighbours_sim, dense.similarity[rows, dense.neighbours_idx], atol=1e-6)


def test_skipped_paintings_are_reported_with_reasons(catalogue):
    skip = make_painting("sea", 9, description="SKIPME")
    zero = make_painting("sea", 10, description="ZEROVEC")
    row = precompute_engine(engine="fake")
    art = loaded(row)
    assert skip.pk not in art.row_of and zero.pk not in art.row_of
    reasons = {s["pk"]: s["reason"] for s in art.manifest["skipped"]}
    assert reasons == {
        skip.pk: "fake: asked to skip",
        zero.pk: "the engine returned a zero or non-finite vector",
    }
    assert (row.n_items, row.n_skipped) == (len(catalogue), 2)


def test_missing_modality_reasons():
    text_engine = get_engine("fake")
    no_text = PaintingInput(pk=1, external_id="a", text="  ", image_path="/x.jpg")
    assert pipeline.missing_modality(text_engine, no_text) == "no text"
    assert pipeline.missing_modality(text_engine, PaintingInput(pk=2, external_id="b", text="sea")) is None


def test_first_build_is_active_and_replaces_nothing(catalogue):
    row = precompute_engine(engine="fake")
    assert (row.status, row.is_active, row.processed, row.total) == ("ready", True, 12, 12)
    assert row.manifest["counts"] == {"catalogue": 12, "items": 12, "skipped": 0, "encoded": 12, "reused": 0}
    assert not staging_dir("fake", row.version).exists()


def test_unchanged_catalogue_keeps_the_active_artefact(catalogue):
    first = precompute_engine(engine="fake")
    FakeEngine.calls.clear()
    again = precompute_engine(engine="fake")
    assert again.pk == first.pk and again.is_active
    assert FakeEngine.calls == []
    assert Artefact.objects.filter(engine="fake").count() == 1


def test_incremental_build_encodes_only_new_paintings(catalogue):
    first = precompute_engine(engine="fake")
    new = make_painting("winter", 7)
    FakeEngine.calls.clear()
    second = precompute_engine(engine="fake")
    assert FakeEngine.calls == [[new.pk]]
    assert second.manifest["counts"]["reused"] == 12 and second.manifest["mode"] == "incremental"
    old, fresh = loaded(first), loaded(second)
    for painting in catalogue:
        assert np.array_equal(
            old.embeddings[old.row_of[painting.pk]], fresh.embeddings[fresh.row_of[painting.pk]]
        )
    first.refresh_from_db()
    assert not first.is_active and second.is_active


def test_changed_painting_is_encoded_again(catalogue):
    precompute_engine(engine="fake")
    changed = catalogue[4]
    changed.description = "A completely different description about horses"
    changed.content_hash = ""
    changed.save()
    FakeEngine.calls.clear()
    precompute_engine(engine="fake")
    assert FakeEngine.calls == [[changed.pk]]


def test_full_build_encodes_everything_again(catalogue):
    precompute_engine(engine="fake")
    FakeEngine.calls.clear()
    row = precompute_engine(engine="fake", full=True)
    assert sorted(pk for call in FakeEngine.calls for pk in call) == sorted(p.pk for p in catalogue)
    assert row.manifest["mode"] == "full"


def test_changed_engine_parameters_disable_reuse(catalogue, settings):
    precompute_engine(engine="fake")
    settings.RECSYS_ENGINES = {
        **settings.RECSYS_ENGINES,
        "fake": {**settings.RECSYS_ENGINES["fake"], "OPTIONS": {"scale": 2.0}},
    }
    FakeEngine.calls.clear()
    row = precompute_engine(engine="fake")
    assert row.manifest["counts"]["reused"] == 0 and len(FakeEngine.calls) == 4


def test_removed_paintings_leave_the_next_artefact(catalogue):
    precompute_engine(engine="fake")
    gone = catalogue[0].pk
    catalogue[0].delete()
    art = loaded(precompute_engine(engine="fake"))
    assert gone not in art.row_of and art.size == 11


def test_failure_midway_keeps_the_previous_artefact_active(catalogue):
    first = precompute_engine(engine="fake")
    make_painting("sea", 8, description="BOOM")
    with pytest.raises(RuntimeError, match="exploded"):
        precompute_engine(engine="fake", full=True)
    failed = Artefact.objects.exclude(pk=first.pk).get()
    first.refresh_from_db()
    assert first.is_active and first.status == "ready"
    assert failed.status == "failed" and not failed.is_active
    assert "RuntimeError: fake engine exploded" in failed.error and "Traceback" in failed.log
    assert not staging_dir("fake", failed.version).exists() and not final_dir("fake", failed.version).exists()


def test_an_empty_result_is_never_activated(db):
    make_painting("sea", description="SKIPME")
    with pytest.raises(ValueError, match="No painting could be encoded"):
        precompute_engine(engine="fake")
    assert not Artefact.objects.filter(is_active=True).exists()


def test_old_versions_beyond_the_keep_count_are_pruned(catalogue, settings):
    settings.RECSYS_ARTEFACT_KEEP = 2
    rows = [precompute_engine(engine="fake", full=True) for _ in range(3)]
    for row in rows:
        row.refresh_from_db()
    assert [r.status for r in rows] == ["pruned", "ready", "ready"]
    assert [r.is_active for r in rows] == [False, False, True]
    assert sorted(p.name for p in engine_dir("fake").iterdir()) == sorted(r.version for r in rows[1:])


def test_fitted_engine_refits_only_when_asked_or_after_large_changes(catalogue, settings):
    settings.RECSYS_INCREMENTAL_MAX_CHANGE = 0.25
    from tests.recsys_pipeline.fakes import FakeFittedEngine

    precompute_engine(engine="fitted")
    make_painting("sea", 20)  # 1 of 13 changed: infer with the kept state
    second = precompute_engine(engine="fitted")
    for n in range(21, 26):  # 5 of 18: above a quarter
        make_painting("winter", n)
    third = precompute_engine(engine="fitted")
    assert FakeFittedEngine.fits == 2
    assert second.manifest["fit"] == {"fitted_on": 12, "refit": False}
    assert third.manifest["fit"] == {"fitted_on": 18, "refit": True} and third.manifest["mode"] == "full"


def test_a_second_synchronous_build_is_refused_while_one_is_open(catalogue):
    runs.create_run(engine=get_engine("fake"))
    with pytest.raises(RunInProgress):
        precompute_engine(engine="fake")


def test_unknown_and_unavailable_engines_are_refused(db):
    with pytest.raises(UnknownEngine):
        precompute_engine(engine="nope")
    with pytest.raises(ModelNotAvailable, match="RECSYS_MISSING_MODEL"):
        precompute_engine(engine="missing")
    assert not Artefact.objects.exists()


def test_progress_is_reported_per_batch(catalogue):
    seen = []
    precompute_engine(engine="fake", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 12), (3, 12), (6, 12), (9, 12), (12, 12)]


def test_catalogue_hash_changes_with_content_only(catalogue):
    first = snapshot.catalogue_snapshot().catalogue_hash
    assert snapshot.catalogue_snapshot().catalogue_hash == first
    PaintingFactory(description="new")
    assert snapshot.catalogue_snapshot().catalogue_hash != first


def test_pruning_removes_folders_that_no_run_owns(catalogue):
    failed = runs.create_run(engine=get_engine("fake"))
    runs.mark_failed(failed.pk, "died after publishing")
    orphan = final_dir("fake", failed.version)
    (orphan / "embeddings.npy").parent.mkdir(parents=True)
    (staging_dir("fake", "dead-run")).mkdir()
    row = precompute_engine(engine="fake")
    assert [p.name for p in engine_dir("fake").iterdir()] == [row.version]


def test_finalize_activates_a_folder_published_before_a_crash(catalogue):
    row = runs.create_run(engine=get_engine("fake"))
    for batch_no in range(pipeline.prepare(row.pk)):
        pipeline.encode_batch(row.pk, batch_no)
    finalize_step._build(row, staging_dir("fake", row.version))
    finalize_step.drop_scratch(staging_dir("fake", row.version))
    publish_local(staging_dir("fake", row.version), final_dir("fake", row.version))
    # the worker died here; the redelivered finalize only activates
    activated = pipeline.finalize(row.pk)
    assert activated.status == "ready" and activated.is_active and loaded(activated).size == 12


def test_current_catalogue_hash_matches_the_snapshot(catalogue):
    paintings_refresh_content_hash(paintings=Painting.objects.all())  # as the import stores them
    assert all(Painting.objects.values_list("content_hash", flat=True))
    assert snapshot.current_catalogue_hash() == snapshot.catalogue_snapshot().catalogue_hash
    PaintingFactory(content_hash="")  # a row written without the catalogue services
    assert snapshot.current_catalogue_hash() == snapshot.catalogue_snapshot().catalogue_hash
