"""The import: first run, idempotency, story groups and mappings, --strict, interruption and the
change signal (row and file validation: test_import_validation.py)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from catalog.importing import writer
from catalog.models import ImportRun, Painting, StoryGroup
from catalog.signals import catalogue_changed
from catalog.text import painting_content_hash
from config.exceptions import ImportFailed
from tests.catalog.conftest import (
    jpeg_bytes,
    painting_row,
    problems_of,
    run_import,
    stored_files,
    write_csv,
    write_json,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signals():
    """Every ``catalogue_changed`` sent, as a list of painting id lists."""
    calls: list[list[int]] = []

    def receiver(sender, *, painting_ids, **kwargs):
        calls.append(painting_ids)

    catalogue_changed.connect(receiver, dispatch_uid="tests.catalog.receiver")
    yield calls
    catalogue_changed.disconnect(dispatch_uid="tests.catalog.receiver")


# --- a first import ------------------------------------------------------------------------


def test_import_creates_paintings_with_every_field(native_set, media_root):
    report = run_import(native_set(3))

    assert report.summary() == "created 3, updated 0, unchanged 0, problems 0"
    painting = Painting.objects.select_related("artist", "story_group").get(external_id="p-1")
    assert painting.title == "Painting 1"
    assert painting.artist.name == "Artist 1"
    assert (painting.date_text, painting.year_start, painting.year_end) == ("c. 1710", 1710, 1710)
    assert painting.subjects == ["harbour", "boats"]
    assert (painting.story_group.slug, painting.story_group.name) == ("harbours", "Harbours")
    assert painting.image_status == Painting.ImageStatus.OK
    assert (painting.image_width, painting.image_height) == (40, 30)
    assert painting.image_bytes == (media_root / painting.image.name).stat().st_size
    assert painting.content_hash == painting_content_hash(painting)


def test_stored_image_is_the_normalised_file_named_by_id_and_checksum(native_set, media_root):
    run_import(native_set(1))

    painting = Painting.objects.get()
    assert painting.image.name == f"paintings/p-1-{painting.image_sha256[:16]}.jpg"
    assert stored_files(media_root) == [painting.image.name.split("/")[1]]


# --- idempotency ---------------------------------------------------------------------------


def test_second_run_over_unchanged_data_changes_nothing(native_set, media_root):
    manifest = native_set(3)
    run_import(manifest)
    before = {p.external_id: (p.updated_at, p.content_hash) for p in Painting.objects.all()}
    mtimes = {n: (media_root / "paintings" / n).stat().st_mtime_ns for n in stored_files(media_root)}

    report = run_import(manifest)

    assert report.summary() == "created 0, updated 0, unchanged 3, problems 0"
    assert {p.external_id: (p.updated_at, p.content_hash) for p in Painting.objects.all()} == before
    assert {n: (media_root / "paintings" / n).stat().st_mtime_ns for n in stored_files(media_root)} == mtimes


def test_second_run_does_not_decode_unchanged_images(native_set):
    manifest = native_set(2)
    run_import(manifest)

    with mock.patch("catalog.importing.image_fields.normalise_image") as normalise:
        run_import(manifest)

    normalise.assert_not_called()


def test_changed_row_is_updated_and_others_left_alone(native_set):
    rows = [painting_row(i) for i in (1, 2, 3)]
    manifest = native_set(rows=rows)
    run_import(manifest)
    rows[1]["title"] = "Harbour at dusk"
    write_csv(manifest, rows)

    report = run_import(manifest)

    assert report.summary() == "created 0, updated 1, unchanged 2, problems 0"
    assert Painting.objects.get(external_id="p-2").title == "Harbour at dusk"


def test_new_row_is_added_without_duplicating_others(native_set):
    rows = [painting_row(i) for i in (1, 2)]
    manifest = native_set(rows=rows)
    run_import(manifest)

    report = run_import(native_set(rows=[*rows, painting_row(3)]))

    assert report.summary() == "created 1, updated 0, unchanged 2, problems 0"
    assert sorted(Painting.objects.values_list("external_id", flat=True)) == ["p-1", "p-2", "p-3"]


def test_changed_image_replaces_the_file_after_commit(
    native_set, media_root, django_capture_on_commit_callbacks
):
    manifest = native_set(1)
    run_import(manifest)
    old_name = Painting.objects.get().image.name
    (manifest.parent / "images" / "p-1.jpg").write_bytes(jpeg_bytes(color=(0, 0, 250)))

    with django_capture_on_commit_callbacks(execute=True):
        report = run_import(manifest)

    painting = Painting.objects.get()
    assert report.updated == 1
    assert painting.image.name != old_name
    assert stored_files(media_root) == [painting.image.name.split("/")[1]]


# --- story groups --------------------------------------------------------------------------


def test_story_groups_are_created_with_readable_names(native_set):
    run_import(native_set(rows=[painting_row(1, story_group="eighteenth_century")]))

    assert StoryGroup.objects.values_list("slug", "name").get() == (
        "eighteenth_century",
        "Eighteenth century",
    )


def test_declared_story_groups_are_the_only_ones_allowed(tmp_path):
    manifest = write_json(
        tmp_path / "catalogue.json",
        {
            "story_groups": [{"slug": "night", "name": "Night scenes", "description": "Moonlight."}],
            "paintings": [
                {"external_id": "a", "title": "Moon", "story_group": "night", "subjects": ["moon", "sea"]},
                {"external_id": "b", "title": "Noon", "story_group": "daylight"},
            ],
        },
    )

    report = run_import(manifest)

    assert problems_of(report) == [(2, "story_group", "unknown story group 'Daylight' (slug 'daylight')")]
    assert StoryGroup.objects.values_list("slug", "name", "description").get() == (
        "night",
        "Night scenes",
        "Moonlight.",
    )
    assert dict(Painting.objects.values_list("external_id", "story_group__slug")) == {"a": "night", "b": None}
    assert Painting.objects.get(external_id="a").subjects == ["moon", "sea"]


def test_mapping_with_create_false_requires_existing_groups(tmp_path):
    mapping = write_json(
        tmp_path / "m.json",
        {
            "name": "mine",
            "file": "export.csv",
            "id": {"column": "id", "prefix": "mm-"},
            "fields": {"title": "name", "story_group": {"column": "theme", "create": False}},
        },
    )
    StoryGroup.objects.create(slug="portraits", name="Portraits")
    rows = [{"id": "1", "name": "A", "theme": "Portraits"}, {"id": "2", "name": "B", "theme": "Ships"}]
    manifest = write_csv(tmp_path / "export.csv", rows, ["id", "name", "theme"])

    report = run_import(manifest, mapping=str(mapping))

    assert problems_of(report) == [(3, "theme", "unknown story group 'Ships' (slug 'ships')")]
    assert dict(Painting.objects.values_list("external_id", "story_group__slug")) == {
        "mm-1": "portraits",
        "mm-2": None,
    }


def test_custom_mapping_joins_fallbacks_splits_and_cleans_html(tmp_path):
    mapping = write_json(
        tmp_path / "m.json",
        {
            "name": "mine",
            "file": "export.csv",
            "source": "My Museum",
            "licence": "CC0",
            "id": {"column": "inv", "prefix": "mm-"},
            "fields": {
                "title": "name",
                "artist": {"column": "maker", "strip_trailing_parentheses": True, "blank": ["unknown"]},
                "description": {"columns": ["long", "fact"], "join": "\n\n", "html": True},
                "subjects": {"columns": ["tags"], "split": ";"},
                "dimensions": {"height": "h", "width": "w", "unit": "cm"},
            },
        },
    )
    row = {
        "inv": "17",
        "name": "Boats",
        "maker": "Claude Monet (French, 1840\u20131926)",
        "long": "A <em>calm</em> sea &amp; boats.",
        "fact": "Painted\rat dawn.",
        "tags": "sea; boats ;",
        "h": "50",
        "w": "61.5",
    }
    manifest = write_csv(tmp_path / "export.csv", [row], list(row))

    run_import(manifest, mapping=str(mapping))

    painting = Painting.objects.select_related("artist").get()
    assert painting.external_id == "mm-17"
    assert painting.artist.name == "Claude Monet"
    assert painting.description == "A calm sea & boats.\n\nPainted at dawn."
    assert painting.subjects == ["sea", "boats"]
    assert painting.dimensions == "50 \u00d7 61.5 cm"
    assert (painting.source, painting.licence) == ("My Museum", "CC0")


def test_mapping_with_an_unknown_field_is_refused(tmp_path):
    mapping = write_json(tmp_path / "m.json", {"name": "x", "file": "e.csv", "id": {"column": "id"},
                                              "fields": {"title": "t", "painter": "p"}})  # fmt: skip

    with pytest.raises(ImportFailed, match="unknown field\\(s\\) painter"):
        run_import(tmp_path / "e.csv", mapping=str(mapping))


# --- strict, interruption ------------------------------------------------------------------


def test_strict_writes_nothing_when_a_row_is_bad(native_set, media_root):
    manifest = native_set(3)
    (manifest.parent / "images" / "p-3.jpg").write_bytes(b"broken")

    with pytest.raises(ImportFailed, match="--strict: 1 problem") as excinfo:
        run_import(manifest, strict=True, batch_size=1)

    assert not Painting.objects.exists()
    assert not StoryGroup.objects.exists()
    assert stored_files(media_root) == []
    run = ImportRun.objects.get()
    assert (run.status, run.created, run.problem_count) == (ImportRun.Status.REJECTED, 0, 1)
    assert excinfo.value.detail["problems"][0].startswith("native: row 4, image: image 'images/p-3.jpg'")


def test_strict_imports_clean_data(native_set):
    report = run_import(native_set(2), strict=True)

    assert report.created == 2
    assert ImportRun.objects.get().status == ImportRun.Status.DONE


def test_interrupted_import_leaves_no_half_written_painting_or_orphan_file(
    native_set, media_root, signals, django_capture_on_commit_callbacks
):
    """Batches of 2: the crash hits the second batch after its image files were written."""
    real = writer.compose_text
    calls = {"n": 0}

    def crash_on_fourth(**kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("power cut")
        return real(**kwargs)

    with (
        mock.patch("catalog.importing.writer.compose_text", side_effect=crash_on_fourth),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError, match="power cut"),
    ):
        run_import(native_set(5), batch_size=2)

    committed = list(Painting.objects.order_by("external_id"))
    assert [p.external_id for p in committed] == ["p-1", "p-2"]
    assert all(p.image_status == Painting.ImageStatus.OK and p.content_hash for p in committed)
    assert stored_files(media_root) == sorted(p.image.name.split("/")[1] for p in committed)
    assert signals == [sorted(p.pk for p in committed)]
    run = ImportRun.objects.get()
    assert (run.status, run.error) == (ImportRun.Status.FAILED, "RuntimeError: power cut")


# --- the change signal ---------------------------------------------------------------------


def test_signal_is_sent_once_with_every_new_painting(native_set, signals, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_import(native_set(5), batch_size=2)

    assert signals == [sorted(Painting.objects.values_list("pk", flat=True))]


def test_signal_not_sent_when_nothing_changed(native_set, signals, django_capture_on_commit_callbacks):
    manifest = native_set(2)
    run_import(manifest)

    with django_capture_on_commit_callbacks(execute=True):
        run_import(manifest)

    assert signals == []


def test_signal_names_only_paintings_whose_content_changed(
    native_set, signals, django_capture_on_commit_callbacks
):
    rows = [painting_row(1), painting_row(2), painting_row(3)]
    manifest = native_set(rows=rows)
    run_import(manifest)
    rows[0]["date"] = "1750"  # not part of the engines' text
    rows[1]["description"] = "A stormy harbour."
    write_csv(manifest, rows)

    with django_capture_on_commit_callbacks(execute=True):
        report = run_import(manifest)

    assert report.updated == 2
    assert signals == [[Painting.objects.get(external_id="p-2").pk]]


def test_import_run_records_counts_and_problems(native_set):
    run_import(native_set(rows=[painting_row(1), painting_row(2, title="")]))

    run = ImportRun.objects.get()
    assert (run.status, run.created, run.skipped, run.problem_count) == (ImportRun.Status.DONE, 1, 1, 1)
    assert run.sources[0]["mapping"] == "native"
    assert list(run.problems.values_list("row", "field", "reason")) == [(3, "title", "missing title")]


def test_folder_detects_the_mapping_by_file_name_and_columns(tmp_path):
    columns = ["aic_id", "title", "artist", "date", "medium", "collection", "description",
               "short_description", "image", "aic_url"]  # fmt: skip
    row = {"aic_id": "109220", "title": "Annunciation", "collection": "eighteenth_century", "date": "c. 1710"}
    write_csv(tmp_path / "aic" / "paintings.csv", [row], columns)

    report = run_import(Path(tmp_path / "aic"))

    assert report.sources[0].name == "aic"
    assert Painting.objects.get().external_id == "aic-109220"
