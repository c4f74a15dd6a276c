"""GET /api/v1/paintings/ and /api/v1/paintings/<id>/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from catalog.models import Painting
from tests.api.conftest import give_image
from tests.factories import ArtistFactory, PaintingFactory, StoryGroupFactory

LIST = "/api/v1/paintings/"


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()["results"]]


def test_list_is_paginated_and_ordered_by_id(api_client, paintings):
    response = api_client.get(LIST, {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert ids(response) == ["p-a", "p-b"]
    assert body["next"].endswith("page=2&page_size=2")
    assert body["previous"] is None


def test_list_item_is_a_summary_with_absolute_image_urls(api_client, paintings):
    item = api_client.get(LIST).json()["results"][0]
    assert item["id"] == "p-a"
    assert item["title"] == "Water Lilies"
    assert item["artist"] == {"id": paintings["a"].artist_id, "name": "Claude Monet"}
    assert item["story_group"] == {"slug": "landscapes", "name": "Landscapes"}
    assert (item["date"], item["year_start"], item["year_end"]) == ("1906", 1906, 1906)
    assert item["image_url"] == f"http://testserver/media/{paintings['a'].image.name}"
    assert item["thumbnail_url"].startswith("http://testserver/media/thumbnails/p-a-")


def test_filter_by_artist(api_client, paintings):
    response = api_client.get(LIST, {"artist": paintings["b"].artist_id})
    assert ids(response) == ["p-b", "p-d"]


@pytest.mark.parametrize("name", ["Johannes Vermeer", "johannes vermeer", " JOHANNES VERMEER "])
def test_filter_by_artist_name_ignores_case(api_client, paintings, name):
    assert ids(api_client.get(LIST, {"artist": name})) == ["p-b", "p-d"]


def test_filter_by_unknown_artist_name_is_empty(api_client, paintings):
    response = api_client.get(LIST, {"artist": "Vermeer"})  # names match whole, not in part
    assert response.status_code == 200
    assert ids(response) == []


@pytest.mark.parametrize("name", ["\x00", "Claude\x00Monet"])
def test_artist_name_with_a_nul_byte_is_400(api_client, paintings, name):
    """PostgreSQL refuses NUL in a query: it was a 500 (ValueError) from the database driver."""
    response = api_client.get(LIST, {"artist": name})

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", "artist")
    assert "NUL" in error["message"]


def test_filter_by_story_group(api_client, paintings):
    assert ids(api_client.get(LIST, {"story_group": "landscapes"})) == ["p-a", "p-c", "p-e"]


def test_year_range_keeps_overlapping_date_ranges(api_client, paintings):
    # c is 1890-1891: it overlaps 1891..1900 although it starts before.
    assert ids(api_client.get(LIST, {"year_from": 1891, "year_to": 1900})) == ["p-c"]
    assert ids(api_client.get(LIST, {"year_to": 1660})) == ["p-d"]
    assert ids(api_client.get(LIST, {"year_from": 1872})) == ["p-a", "p-c", "p-e"]


def test_year_filter_leaves_out_undated_paintings(api_client, paintings):
    PaintingFactory(external_id="undated", year_start=None, year_end=None)
    assert "undated" not in ids(api_client.get(LIST, {"year_from": 0}))
    assert "undated" in ids(api_client.get(LIST))


def test_text_search_needs_every_word_in_title_artist_or_description(api_client, paintings):
    assert ids(api_client.get(LIST, {"q": "monet sunrise"})) == ["p-e"]
    assert ids(api_client.get(LIST, {"q": "PEARL"})) == ["p-b"]
    PaintingFactory(external_id="desc", description="A quiet harbour at dawn.")
    assert ids(api_client.get(LIST, {"q": "harbour"})) == ["desc"]


def test_filter_by_has_image(api_client, paintings):
    assert ids(api_client.get(LIST, {"has_image": "true"})) == ["p-a", "p-c", "p-e"]
    assert ids(api_client.get(LIST, {"has_image": "false"})) == ["p-b", "p-d"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year_from": 1900, "year_to": 1800}, "year_to"),
        ({"artist": "0"}, "artist"),
        ({"artist": " "}, "artist"),
        ({"year_from": "1900.0"}, "year_from"),
        ({"year_to": "+1900"}, "year_to"),
        ({"has_image": "maybe"}, "has_image"),
        ({"page_size": "x", "q": "a" * 201}, "q"),
        ({"story_group": "not a slug"}, "story_group"),
    ],
)
def test_bad_filters_are_400_naming_the_field(api_client, paintings, params, field):
    response = api_client.get(LIST, params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize("page_size", ["x", "0", "101", "2.0", "-1", " 2", ""])
def test_invalid_page_size_is_400_naming_it(api_client, paintings, page_size):
    response = api_client.get(LIST, {"page_size": page_size})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["field"] == "page_size"


def test_largest_page_size_is_accepted(api_client, paintings):
    response = api_client.get(LIST, {"page_size": "100"})
    assert response.status_code == 200
    assert len(ids(response)) == 5


def test_page_past_the_end_is_404_in_the_error_body(api_client, paintings):
    response = api_client.get(LIST, {"page": 9})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_page_of_24_takes_two_queries(api_client, db, django_assert_max_num_queries):
    group = StoryGroupFactory()
    for i in range(30):
        PaintingFactory(artist=ArtistFactory(), story_group=group, external_id=f"q-{i:02d}")
    with django_assert_max_num_queries(2):
        response = api_client.get(LIST)
    assert len(response.json()["results"]) == 24


def test_filtering_by_artist_name_takes_two_queries(api_client, db, django_assert_max_num_queries):
    artist = ArtistFactory(name="Berthe Morisot")
    for i in range(30):
        PaintingFactory(artist=artist, external_id=f"q-{i:02d}")
    with django_assert_max_num_queries(2):
        response = api_client.get(LIST, {"artist": "berthe morisot", "page_size": 30})
    assert len(response.json()["results"]) == 30


def test_detail_has_every_field(api_client, paintings):
    painting = paintings["c"]
    painting.medium, painting.dimensions, painting.subjects = "Oil", "60 x 100 cm", ["hay", "field"]
    painting.source_url, painting.image_url = "https://museum.example/c", "https://img.example/c.jpg"
    painting.save()
    body = api_client.get("/api/v1/paintings/p-c/").json()
    assert body["id"] == "p-c"
    assert body["title"] == "Haystacks"
    assert (body["year_start"], body["year_end"]) == (1890, 1891)
    assert (body["medium"], body["dimensions"], body["subjects"]) == ("Oil", "60 x 100 cm", ["hay", "field"])
    assert body["description"] == painting.description
    assert (body["image_status"], body["licence"], body["source"]) == ("ok", "CC0", "test")
    assert body["source_url"] == "https://museum.example/c"
    assert body["source_image_url"] == "https://img.example/c.jpg"
    assert body["image_url"] == f"http://testserver/media/{painting.image.name}"
    assert body["story_group"] == {"slug": "landscapes", "name": "Landscapes"}
    assert (body["language"], body["translations"]) == ("", {})


def test_detail_gives_the_text_in_other_languages(api_client, paintings):
    painting = paintings["c"]
    painting.language, painting.translations = "en", {"fr": {"title": "Meules", "description": "Des meules."}}
    painting.save()
    body = api_client.get("/api/v1/paintings/p-c/").json()
    assert (body["language"], body["translations"]) == (
        "en",
        {"fr": {"title": "Meules", "description": "Des meules."}},
    )


def test_detail_without_image_has_null_urls(api_client, paintings):
    body = api_client.get("/api/v1/paintings/p-b/").json()
    assert body["image_status"] == "none"
    assert body["image_url"] is None
    assert body["thumbnail_url"] is None


def test_thumbnail_is_a_small_jpeg_written_once(api_client, paintings):
    url = api_client.get("/api/v1/paintings/p-a/").json()["thumbnail_url"]
    path = Path(settings.MEDIA_ROOT) / url.removeprefix("http://testserver/media/")
    with Image.open(path) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (settings.CATALOG_THUMBNAIL_SIDE, settings.CATALOG_THUMBNAIL_SIDE * 2 // 3)
    written = path.stat().st_mtime_ns
    assert api_client.get("/api/v1/paintings/p-a/").json()["thumbnail_url"] == url
    assert path.stat().st_mtime_ns == written


def test_unreadable_image_falls_back_to_the_image_url(api_client, paintings):
    broken = give_image(PaintingFactory(external_id="broken"), data=b"not an image")
    body = api_client.get("/api/v1/paintings/broken/").json()
    assert body["thumbnail_url"] == body["image_url"] == f"http://testserver/media/{broken.image.name}"


def test_unknown_painting_is_404_naming_the_id(api_client, paintings):
    response = api_client.get("/api/v1/paintings/p-zzz/")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "unknown_painting",
        "message": "Unknown painting id: p-zzz.",
        "field": "id",
    }


def test_id_that_cannot_be_a_painting_id_is_404_in_the_error_body(api_client, paintings):
    response = api_client.get("/api/v1/paintings/bad%00id/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_writes_are_not_allowed(api_client, paintings, user):
    api_client.force_authenticate(user=user)
    response = api_client.post(LIST, {"title": "x"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_image_status_not_ok_means_no_image(api_client, paintings):
    Painting.objects.filter(pk=paintings["b"].pk).update(image_status=Painting.ImageStatus.REMOTE)
    assert api_client.get("/api/v1/paintings/p-b/").json()["image_url"] is None
