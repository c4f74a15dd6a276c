import pytest

from catalog.importing.mapping import builtin_mappings, mapping_from_dict
from catalog.importing.records import GroupRef, century_group
from catalog.models import Painting, StoryGroup
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


# --- story group by century ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "slug", "name"),
    [
        (1650, "17th-century", "17th-century paintings"),
        (1700, "17th-century", "17th-century paintings"),
        (1701, "18th-century", "18th-century paintings"),
        (1201, "13th-century", "13th-century paintings"),
        (1921, "20th-century", "20th-century paintings"),
        (2001, "21st-century", "21st-century paintings"),
        (150, "2nd-century", "2nd-century paintings"),
        (1111, "12th-century", "12th-century paintings"),
        (-50, "1st-century-bce", "1st-century BCE paintings"),
        (-250, "3rd-century-bce", "3rd-century BCE paintings"),
    ],
)
def test_century_group_of_a_year(year, slug, name):
    assert century_group(year) == GroupRef(slug=slug, name=name)


def _century_mapping(tmp_path, **options):
    return write_json(
        tmp_path / "m.json",
        {
            "name": "c",
            "file": "paintings.csv",
            "id": {"column": "id"},
            "fields": {"title": "title", "story_group": {"column": "year", "century": True, **options}},
        },
    )


@pytest.mark.django_db
def test_century_story_groups_from_a_year_column(tmp_path):
    rows = [{"id": "a", "title": "A", "year": "1650"}, {"id": "b", "title": "B", "year": "1699"},
            {"id": "c", "title": "C", "year": "1921"}, {"id": "d", "title": "D", "year": "1150"},
            {"id": "e", "title": "E", "year": ""}, {"id": "f", "title": "F", "year": "soon"}]  # fmt: skip
    manifest = write_csv(tmp_path / "paintings.csv", rows, ["id", "title", "year"])
    mapping = str(_century_mapping(tmp_path, min_year=1201))

    report = run_import(manifest, mapping=mapping)
    again = run_import(manifest, mapping=mapping)

    groups = dict(Painting.objects.values_list("external_id", "story_group__slug"))
    assert groups == {
        "a": "17th-century",
        "b": "17th-century",
        "c": "20th-century",
        "d": None,
        "e": None,
        "f": None,
    }
    assert sorted(StoryGroup.objects.values_list("name", flat=True)) == [
        "17th-century paintings",
        "20th-century paintings",
    ]
    assert [(p.row, p.field, p.reason) for p in report.problems] == [(7, "year", "not a year: 'soon'")]
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"century": "yes"}, "'fields.story_group.century' must be true or false"),
        ({"century": True, "min_year": "1200"}, "'fields.story_group.min_year' must be a whole number"),
        ({"min_year": 1200}, "used with 'century = true'"),
    ],
)
def test_century_options_are_checked(options, message):
    raw = {"name": "x", "file": "a.csv", "id": {"column": "id"},
           "fields": {"title": "t", "story_group": {"column": "y", **options}}}  # fmt: skip

    with pytest.raises(ImportFailed) as excinfo:
        mapping_from_dict(raw, origin="m.toml")

    assert message in excinfo.value.message
