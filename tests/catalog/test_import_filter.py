"""Mappings keep paintings only (``[rows] include/exclude``), bare Wikidata ids are never shown as
titles or names, and a re-import removes what the mapping no longer imports (issue 17)."""

from __future__ import annotations

import csv

import pytest

from catalog.importing.mapping import builtin_mappings
from catalog.models import Painting
from config.exceptions import ImportFailed
from tests.catalog.conftest import run_import, write_csv, write_json
from tests.factories import RatingFactory, UserFactory

pytestmark = pytest.mark.django_db

COLUMNS = ["id", "title", "maker", "medium", "kind"]


def rows():
    return [
        {"id": "1", "title": "Harbour", "maker": "A. Painter", "medium": "oil on canvas", "kind": "painting"},
        {
            "id": "2",
            "title": "Bed Rug",
            "maker": "H. Johnson",
            "medium": "Wool, plain weave",
            "kind": "painting",
        },
        {"id": "3", "title": "Relief", "maker": "B. Nicholson", "medium": "oil on board", "kind": "relief"},
        {"id": "4", "title": "Q137855550", "maker": "Q317920", "medium": "ink on silk", "kind": ""},
    ]


def mapping(tmp_path, **rows_table):
    return write_json(
        tmp_path / "m.json",
        {
            "name": "museum",
            "file": "e.csv",
            "source": "Museum",
            "id": {"column": "id", "prefix": "m-"},
            "fields": {"title": "title", "artist": "maker", "medium": "medium"},
            **({"rows": rows_table} if rows_table else {}),
        },
    )


def test_include_and_exclude_keep_paintings_only(tmp_path):
    path = mapping(tmp_path, include={"kind": "^(painting|)$"}, exclude={"medium": r"\bweave\b|\bwool\b"})
    report = run_import(write_csv(tmp_path / "e.csv", rows(), COLUMNS), mapping=str(path))
    assert sorted(Painting.objects.values_list("external_id", flat=True)) == ["m-1", "m-4"]
    assert report.excluded == 2 and report.problems == []
    assert report.summary() == "created 2, updated 0, unchanged 0, problems 0, excluded 2, removed 0"


def test_bare_wikidata_ids_become_untitled_and_no_artist(tmp_path):
    run_import(write_csv(tmp_path / "e.csv", rows(), COLUMNS), mapping=str(mapping(tmp_path)))
    painting = Painting.objects.get(external_id="m-4")
    assert painting.title == "Untitled"
    assert painting.artist is None


def test_reimport_removes_what_is_now_excluded_and_keeps_the_rest_with_its_ratings(tmp_path):
    manifest = write_csv(tmp_path / "e.csv", rows(), COLUMNS)
    run_import(manifest, mapping=str(mapping(tmp_path)))
    user = UserFactory()
    kept = RatingFactory(user=user, painting=Painting.objects.get(external_id="m-1"), value=5)
    RatingFactory(user=user, painting=Painting.objects.get(external_id="m-2"), value=1)

    report = run_import(manifest, mapping=str(mapping(tmp_path, exclude={"medium": r"\bwool\b"})))

    assert report.removed == 1
    assert not Painting.objects.filter(external_id="m-2").exists()
    # the removed painting's rating went with it; the painting that stays keeps its rating
    assert list(user.ratings.values_list("pk", "value")) == [(kept.pk, 5)]
    assert report.summary() == "created 0, updated 0, unchanged 3, problems 0, excluded 1, removed 1"


def test_a_bad_row_filter_is_refused_naming_the_key(tmp_path):
    with pytest.raises(ImportFailed, match=r"rows\.exclude\.medium"):
        run_import(
            write_csv(tmp_path / "e.csv", rows(), COLUMNS),
            mapping=str(mapping(tmp_path, exclude={"medium": "("})),
        )


@pytest.mark.parametrize(
    ("name", "path", "excluded"),
    [("public_art", "public_art/paintings.csv", 27), ("tate", "tate/tate_paintings.csv", 68)],
)
def test_the_sample_mappings_keep_paintings_only(settings, name, path, excluded):
    with open(f"{settings.CATALOG_SAMPLE_DIR}/{path}", encoding="utf-8") as handle:
        data = list(csv.DictReader(handle))
    mapping_ = builtin_mappings()[name]
    left_out = [row for row in data if mapping_.excluded_by(row)]
    assert len(left_out) == excluded
    titles = {row["title"] for row in left_out}
    if name == "public_art":
        assert {"Bed Rug", "Octagonal Library Table", "Table", "Bedcover"} <= titles
        kept_media = {row["medium"] for row in data if not mapping_.excluded_by(row)}
        assert {"oil paint", "tempera", "fresco", "silk", "wood", "walnut oil"} <= kept_media
    else:
        assert {row["classification"] for row in left_out} == {"relief", "sculpture", "installation"}
