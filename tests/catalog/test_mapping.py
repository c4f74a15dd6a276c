import pytest

from catalog.importing.mapping import builtin_mappings, mapping_from_dict
from catalog.models import Painting
from config.exceptions import ImportFailed
from tests.catalog.conftest import run_import, write_csv, write_json


def test_shipped_mappings_load():
    mappings = builtin_mappings()

    assert sorted(mappings) == ["aic", "cma", "native", "public_art", "tate"]
    assert {m.id_prefix for m in mappings.values()} == {"", "aic-", "cma-", "pa-", "tate-"}
    assert mappings["tate"].fields["story_group"].split == "|"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"file": "a.csv", "id": {"column": "id"}, "fields": {"title": "t"}}, "'name' is required"),
        ({"name": "x", "file": "a.csv", "fields": {"title": "t"}}, "'id.column' is required"),
        ({"name": "x", "file": "a.csv", "id": {"column": "id"}, "fields": {"artist": "a"}}, "'fields.title'"),
        (
            {
                "name": "x",
                "file": "a.csv",
                "id": {"column": "id"},
                "fields": {"title": {"column": "t", "split": 1}},
            },
            "'fields.title' has unknown option(s) split",
        ),
        (
            {
                "name": "x",
                "file": "a.csv",
                "id": {"column": "id"},
                "fields": {"title": "t", "story_group": {"column": "g", "pick": "random"}},
            },
            "'fields.story_group.pick' must be 'first' or 'last'",
        ),
        (
            {"name": "x", "file": "a.csv", "id": {"column": "id"}, "fields": {"title": "t"}, "colour": 1},
            "colour",
        ),
    ],
)
def test_mistakes_in_a_mapping_name_their_key(raw, message):
    with pytest.raises(ImportFailed) as excinfo:
        mapping_from_dict(raw, origin="m.toml")

    assert message in excinfo.value.message


@pytest.mark.django_db
def test_a_file_no_mapping_fits_needs_mapping(tmp_path):
    manifest = write_csv(tmp_path / "paintings.csv", [{"foo": "1", "title": "T"}], ["foo", "title"])

    with pytest.raises(ImportFailed, match="Cannot tell which mapping fits"):
        run_import(manifest)


@pytest.mark.django_db
def test_json_mapping_reads_nested_records(tmp_path):
    mapping = write_json(
        tmp_path / "api.json",
        {
            "name": "api",
            "file": "dump.json",
            "records": "data",
            "id": {"column": "id", "prefix": "api-"},
            "fields": {"title": "title", "image_url": "thumbnail.url", "date": "dates.display"},
        },
    )
    manifest = write_json(
        tmp_path / "dump.json",
        {"data": [{"id": 7, "title": "Lake", "thumbnail": {"url": "https://example.org/7.jpg"},
                   "dates": {"display": "1890-95"}}]},
    )  # fmt: skip

    run_import(manifest, mapping=str(mapping))

    painting = Painting.objects.get()
    assert (painting.external_id, painting.image_url) == ("api-7", "https://example.org/7.jpg")
    assert (painting.year_start, painting.year_end) == (1890, 1895)
