"""The import's validation: rows skipped or repaired and reported, files refused before writing."""

from __future__ import annotations

import pytest

from catalog.models import Painting
from config.exceptions import ImportFailed
from tests.catalog.conftest import (
    jpeg_bytes,
    painting_row,
    problems_of,
    run_import,
    write_csv,
)

pytestmark = pytest.mark.django_db


# --- validation ----------------------------------------------------------------------------


def test_row_without_title_is_skipped_and_reported(native_set):
    report = run_import(native_set(rows=[painting_row(1), painting_row(2, title="")]))

    assert problems_of(report) == [(3, "title", "missing title")]
    assert report.skipped == 1
    assert list(Painting.objects.values_list("external_id", flat=True)) == ["p-1"]


def test_row_without_id_is_skipped_and_reported(native_set):
    report = run_import(native_set(rows=[painting_row(1, external_id=" ")]))

    assert problems_of(report) == [(2, "external_id", "missing id")]
    assert not Painting.objects.exists()


def test_id_is_sanitised(native_set):
    run_import(native_set(rows=[painting_row(1, external_id="inv 2024/17 (a)")]))

    assert Painting.objects.get().external_id == "inv-2024-17-a"


def test_duplicate_id_in_one_file_keeps_the_first_row(native_set):
    rows = [painting_row(1), painting_row(2, external_id="p-1", title="Other")]

    report = run_import(native_set(rows=rows))

    assert problems_of(report) == [(3, "external_id", "duplicate id 'p-1', already on row 2 of native")]
    assert Painting.objects.get().title == "Painting 1"


@pytest.mark.parametrize(
    ("year_start", "year_end", "field", "reason"),
    [
        ("sometime", "", "year_start", "not a year: 'sometime'"),
        ("1890.5", "", "year_start", "not a year between -50000 and 2100: '1890.5'"),
        ("1900", "1890", "year_end", "year_end 1890 is before year_start 1900"),
    ],
)
def test_bad_year_is_reported_and_the_date_text_used_instead(tmp_path, year_start, year_end, field, reason):
    columns = ["external_id", "title", "date", "year_start", "year_end"]
    row = {
        "external_id": "p-1",
        "title": "T",
        "date": "c. 1750",
        "year_start": year_start,
        "year_end": year_end,
    }
    manifest = write_csv(tmp_path / "catalogue.csv", [row], columns)

    report = run_import(manifest)

    assert problems_of(report) == [(2, field, reason)]
    painting = Painting.objects.get()
    assert (painting.year_start, painting.year_end) == (1750, 1750)


def test_explicit_years_override_the_parsed_date(tmp_path):
    columns = ["external_id", "title", "date", "year_start", "year_end"]
    row = {"external_id": "p-1", "title": "T", "date": "c. 1890", "year_start": "1888", "year_end": ""}
    run_import(write_csv(tmp_path / "catalogue.csv", [row], columns))

    assert Painting.objects.values_list("year_start", "year_end").get() == (1888, 1888)


def test_broken_image_is_recorded_and_the_row_imported(native_set):
    manifest = native_set(1)
    (manifest.parent / "images" / "p-1.jpg").write_bytes(b"this is not an image")

    report = run_import(manifest)

    assert len(report.problems) == 1
    problem = report.problems[0]
    assert (problem.row, problem.field) == (2, "image")
    assert problem.reason.startswith("image 'images/p-1.jpg': not a readable image")
    painting = Painting.objects.get()
    assert (painting.image_status, painting.image.name) == (Painting.ImageStatus.INVALID, "")


def test_truncated_image_is_invalid(native_set):
    manifest = native_set(1)
    image = manifest.parent / "images" / "p-1.jpg"
    image.write_bytes(jpeg_bytes(size=(300, 300))[:400])

    report = run_import(manifest)

    assert report.problems[0].reason.startswith("image 'images/p-1.jpg': not a readable image")
    assert Painting.objects.get().image_status == Painting.ImageStatus.INVALID


def test_missing_image_file_is_recorded(native_set):
    report = run_import(native_set(rows=[painting_row(1)], images=False))

    assert problems_of(report) == [(2, "image", "image 'images/p-1.jpg': file not found")]
    assert Painting.objects.get().image_status == Painting.ImageStatus.MISSING


def test_oversized_image_is_refused(native_set, settings):
    settings.CATALOG_IMAGE_MAX_BYTES = 100

    report = run_import(native_set(1))

    assert report.problems[0].reason.endswith("more than CATALOG_IMAGE_MAX_BYTES (100)")
    assert Painting.objects.get().image_status == Painting.ImageStatus.INVALID


def test_image_path_outside_the_manifest_folder_is_refused(native_set, tmp_path):
    (tmp_path / "secret.jpg").write_bytes(jpeg_bytes())

    report = run_import(native_set(rows=[painting_row(1, image="../secret.jpg")], images=False))

    assert problems_of(report) == [
        (2, "image", "image path '../secret.jpg' is outside the manifest's folder")
    ]
    assert Painting.objects.get().image_status == Painting.ImageStatus.MISSING


def test_painting_without_image_or_description_is_fine(native_set):
    report = run_import(native_set(rows=[painting_row(1, image="", description="", subjects="")]))

    assert report.problems == []
    painting = Painting.objects.get()
    assert (painting.image_status, painting.description) == (Painting.ImageStatus.NONE, "")


def test_bad_url_is_reported_and_left_empty(tmp_path):
    columns = ["external_id", "title", "source_url"]
    manifest = write_csv(
        tmp_path / "catalogue.csv", [{"external_id": "a", "title": "T", "source_url": "nope"}], columns
    )

    report = run_import(manifest)

    assert problems_of(report) == [(2, "source_url", "not a valid http(s) URL of at most 1000 characters")]
    assert Painting.objects.get().source_url == ""


def test_unknown_column_is_reported_for_the_native_format(tmp_path):
    manifest = write_csv(
        tmp_path / "catalogue.csv", [{"external_id": "a", "title": "T"}], ["external_id", "title", "titel"]
    )

    report = run_import(manifest)

    assert problems_of(report) == [(1, "titel", "unknown column (mapping 'native' has no field for it)")]
    assert Painting.objects.count() == 1


def test_row_with_wrong_number_of_cells_is_reported(tmp_path):
    manifest = tmp_path / "catalogue.csv"
    manifest.write_text("external_id,title\na,First\nb,Second,extra\n", encoding="utf-8")

    report = run_import(manifest)

    assert problems_of(report) == [(3, "", "has 3 values but the header has 2 columns")]
    assert list(Painting.objects.values_list("external_id", flat=True)) == ["a"]


def test_malformed_csv_stops_before_writing(tmp_path):
    manifest = tmp_path / "catalogue.csv"
    manifest.write_text('external_id,title\na,"unterminated\n', encoding="utf-8")

    with pytest.raises(ImportFailed, match="malformed CSV at line"):
        run_import(manifest)
    assert not Painting.objects.exists()


def test_file_that_is_not_utf8_stops_before_writing(tmp_path):
    manifest = tmp_path / "catalogue.csv"
    manifest.write_bytes("external_id,title\na,Caf\u00e9\n".encode("latin-1"))

    with pytest.raises(ImportFailed, match="not utf-8-sig text"):
        run_import(manifest)


def test_invalid_json_stops_before_writing(tmp_path):
    manifest = tmp_path / "catalogue.json"
    manifest.write_text('[{"external_id": "a",', encoding="utf-8")

    with pytest.raises(ImportFailed, match="invalid JSON at line 1"):
        run_import(manifest)


def test_mapping_column_missing_from_the_file_stops_the_import(tmp_path):
    manifest = write_csv(tmp_path / "paintings.csv", [{"aic_id": "1", "title": "T"}], ["aic_id", "title"])

    with pytest.raises(ImportFailed, match="reads column\\(s\\) aic_url, artist, collection"):
        run_import(manifest, mapping="aic")


def test_text_longer_than_its_column_is_shortened(tmp_path):
    medium = "Oil on canvas " * 50
    columns = ["external_id", "title", "medium"]
    run_import(
        write_csv(tmp_path / "catalogue.csv", [{"external_id": "a", "title": "T", "medium": medium}], columns)
    )

    stored = Painting.objects.get().medium
    assert len(stored) <= 500
    assert stored.endswith("…")
    assert medium.startswith(stored[:-1] + " ")  # cut at a word boundary
