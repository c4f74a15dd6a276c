"""Catalogue text in several languages: mappings name a language per text field."""

import pytest

from catalog.importing.mapping import mapping_from_dict
from catalog.models import Painting
from catalog.snapshot import painting_input
from catalog.text import content_hash, painting_content_hash, painting_text
from config.exceptions import ImportFailed
from tests.catalog.conftest import run_import, write_csv, write_json

COLUMNS = ["id", "title", "titel", "description", "beschrijving", "description_fr", "beschreibung"]
ROW = {
    "id": "7",
    "title": "A stormy sea",
    "titel": "Een stormachtige zee",
    "description": "A ship sinks in a storm.",
    "beschrijving": "Een schip zinkt in een storm.",
    "description_fr": "Un navire sombre dans la tempête.",
    "beschreibung": "Ein Schiff sinkt im Sturm.",
}


def _mapping(tmp_path, **fields):
    return write_json(
        tmp_path / "m.json",
        {
            "name": "museum",
            "file": "paintings.csv",
            "language": "en",
            "id": {"column": "id"},
            "fields": {"title": "title", "description": "description", **fields},
        },
    )


@pytest.mark.django_db
def test_text_fields_in_other_languages_become_translations(tmp_path):
    manifest = write_csv(tmp_path / "paintings.csv", [ROW], COLUMNS)
    mapping = _mapping(
        tmp_path,
        **{
            "title:nl": "titel",
            "description:nl": "beschrijving",
            "description:fr": "description_fr",
            "description:de": {"column": "beschreibung"},
        },
    )

    run_import(manifest, mapping=str(mapping))

    painting = Painting.objects.get()
    assert (painting.language, painting.title, painting.description) == (
        "en",
        "A stormy sea",
        "A ship sinks in a storm.",
    )
    assert painting.translations == {
        "de": {"description": "Ein Schiff sinkt im Sturm."},
        "fr": {"description": "Un navire sombre dans la tempête."},
        "nl": {"title": "Een stormachtige zee", "description": "Een schip zinkt in een storm."},
    }
    assert painting_input(painting).translations == (
        "Ein Schiff sinkt im Sturm.",
        "Un navire sombre dans la tempête.",
        "Een stormachtige zee\nEen schip zinkt in een storm.",
    )
    assert painting_input(painting).text == painting_text(painting)  # English engines: unchanged
    assert painting.content_hash == painting_content_hash(painting)


@pytest.mark.django_db
def test_a_field_may_name_its_language_with_an_option(tmp_path):
    manifest = write_csv(tmp_path / "paintings.csv", [ROW], COLUMNS)
    mapping = write_json(
        tmp_path / "m.json",
        {
            "name": "museum",
            "file": "paintings.csv",
            "language": "en",
            "id": {"column": "id"},
            "fields": {"title": "title", "description": {"column": "beschrijving", "language": "nl"}},
        },
    )

    run_import(manifest, mapping=str(mapping))

    painting = Painting.objects.get()
    assert painting.description == ""
    assert painting.translations == {"nl": {"description": "Een schip zinkt in een storm."}}


@pytest.mark.django_db
def test_reimporting_the_same_translations_changes_nothing(tmp_path):
    manifest = write_csv(tmp_path / "paintings.csv", [ROW], COLUMNS)
    mapping = str(_mapping(tmp_path, **{"description:fr": "description_fr"}))
    run_import(manifest, mapping=mapping)
    again = run_import(manifest, mapping=mapping)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


@pytest.mark.django_db
def test_a_painting_in_one_language_keeps_its_content_hash(tmp_path):
    manifest = write_csv(tmp_path / "paintings.csv", [ROW], COLUMNS)
    run_import(manifest, mapping=str(_mapping(tmp_path)))
    painting = Painting.objects.get()
    assert painting.translations == {}
    assert painting.content_hash == content_hash(text=painting_text(painting), image_sha256="")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"description:english": "d"}, "unknown field"),
        ({"dimensions:fr": "d"}, "unknown field"),
        ({"description": {"column": "d", "language": "French"}}, "fields.description.language"),
    ],
)
def test_language_mistakes_name_their_key(fields, message):
    raw = {"name": "m", "file": "x.csv", "id": {"column": "id"}, "fields": {"title": "t", **fields}}
    with pytest.raises(ImportFailed, match=message):
        mapping_from_dict(raw, origin="m.toml")


def test_the_mapping_language_must_be_a_code():
    raw = {
        "name": "m",
        "file": "x.csv",
        "language": "English",
        "id": {"column": "id"},
        "fields": {"title": "t"},
    }
    with pytest.raises(ImportFailed, match="'language'"):
        mapping_from_dict(raw, origin="m.toml")


@pytest.mark.parametrize(
    "translations",
    [
        {"French": {"description": "x"}},
        {"fr": {"caption": "x"}},
        {"fr": {"description": 3}},
        {"fr": {"subjects": "mer"}},
        ["fr"],
    ],
)
@pytest.mark.django_db
def test_the_admin_refuses_malformed_translations(translations):
    from django.core.exceptions import ValidationError

    from tests.factories import PaintingFactory

    painting = PaintingFactory.build(translations=translations)
    with pytest.raises(ValidationError) as raised:
        painting.full_clean(exclude=["artist", "story_group"])
    assert "translations" in raised.value.message_dict


@pytest.mark.django_db
def test_the_native_format_takes_titles_and_descriptions_in_other_languages(tmp_path):
    row = {
        "external_id": "p-1",
        "title": "Shipwreck",
        "description": "A ship in a storm.",
        "description:fr": "Un navire dans la tempête.",
        "title:nl": "Schipbreuk",
    }
    columns = ["external_id", "title", "description", "description:fr", "title:nl"]
    manifest = write_csv(tmp_path / "set" / "catalogue.csv", [row], columns)

    run_import(manifest)

    painting = Painting.objects.get()
    assert painting.description == "A ship in a storm."
    assert painting.translations == {
        "fr": {"description": "Un navire dans la tempête."},
        "nl": {"title": "Schipbreuk"},
    }
