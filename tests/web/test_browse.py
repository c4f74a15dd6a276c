"""The browse page (/paintings/) with its filters and pages, and the search pages (words, picture)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.snapshot import painting_input
from catalog.text import painting_text
from recsys.engines.registry import get_engine
from tests.api.conftest import give_image
from tests.artefact_helpers import write_artefact
from tests.factories import ArtistFactory, PaintingFactory, StoryGroupFactory
from tests.recsys_engines.conftest import tiny_models  # noqa: F401  (session fixture, shared)
from web.selectors import BROWSE_PAGE_SIZE

pytestmark = pytest.mark.django_db
BROWSE = reverse("web:browse")
SEARCH = reverse("web:search")
IMAGE_SEARCH = reverse("web:image_search")


@pytest.fixture
def museum(db) -> dict:
    """Four paintings in two collections, two story groups, two centuries."""
    venice = StoryGroupFactory(slug="venice", name="Venice")
    winter = StoryGroupFactory(slug="winter", name="Winter")
    turner = ArtistFactory(name="J. M. W. Turner")
    bruegel = ArtistFactory(name="Pieter Bruegel")
    aic, tate = "Art Institute of Chicago", "Tate"
    specs = [
        ("aic-1", "Venice at Dawn", "Gondolas on the lagoon at sunrise.", turner, venice, 1840, aic),
        (
            "aic-2",
            "Stormy Lagoon",
            "A storm breaks over the boats in the harbour.",
            turner,
            venice,
            1845,
            aic,
        ),
        (
            "tate-1",
            "Hunters in the Snow",
            "Hunters return to a snowy village with dogs.",
            bruegel,
            winter,
            1565,
            tate,
        ),
        ("tate-2", "Skaters", "Villagers skate on a frozen river in winter.", bruegel, winter, 1570, tate),
    ]
    return {
        external_id: PaintingFactory(
            external_id=external_id,
            title=title,
            description=text,
            artist=artist,
            story_group=group,
            year_start=year,
            year_end=year,
            source=source,
        )
        for external_id, title, text, artist, group, year, source in specs
    }


def shown(response) -> list[str]:
    """External ids of the painting cards, in page order."""
    return re.findall(r'class="art__frame" href="/paintings/([^/]+)/"', response.content.decode())


def test_browse_lists_every_painting_with_the_header_link(client, museum):
    response = client.get(BROWSE)
    html = response.content.decode()
    assert response.status_code == 200
    assert shown(response) == ["aic-1", "aic-2", "tate-1", "tate-2"]
    assert f'<a href="{BROWSE}" aria-current="page">Browse</a>' in html
    assert "4 paintings" in html
    # CSP: no inline script, only the site's static file
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/web/site.js" defer>']


def test_header_links_to_browse_from_other_pages(client, museum):
    assert f'<a href="{BROWSE}">Browse</a>' in client.get(reverse("web:my_ratings")).content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"collection": "tate"}, ["tate-1", "tate-2"]),
        ({"collection": "art-institute-of-chicago"}, ["aic-1", "aic-2"]),
        ({"story_group": "venice"}, ["aic-1", "aic-2"]),
        ({"century": "1500"}, ["tate-1", "tate-2"]),
        ({"century": "1800", "artist": "j. m. w. turner"}, ["aic-1", "aic-2"]),
        ({"collection": "tate", "century": "1800"}, []),
    ],
)
def test_browse_filters(client, museum, params, expected):
    response = client.get(BROWSE, params)
    assert response.status_code == 200
    assert shown(response) == expected


def test_filters_offer_the_catalogues_collections_groups_and_centuries(client, museum):
    html = client.get(BROWSE).content.decode()
    assert '<option value="art-institute-of-chicago">Art Institute of Chicago (2)</option>' in html
    assert '<option value="tate">Tate (2)</option>' in html
    assert '<option value="winter">Winter</option>' in html
    assert '<option value="1500">1500s</option>' in html and '<option value="1800">1800s</option>' in html


def test_only_with_an_image(client, museum):
    give_image(museum["tate-2"])
    response = client.get(BROWSE, {"with_image": "on"})
    assert shown(response) == ["tate-2"]
    assert '<img class="art__img" src="/media/thumbnails/tate-2-' in response.content.decode()


def test_unknown_filter_value_is_400_with_the_form_error(client, museum):
    response = client.get(BROWSE, {"collection": "louvre"})
    assert response.status_code == 400
    assert "Select a valid choice. louvre is not one of the available choices." in response.content.decode()


def test_browse_is_paginated_keeping_the_filters(client, db):
    group = StoryGroupFactory(slug="many", name="Many")
    for i in range(BROWSE_PAGE_SIZE + 2):
        PaintingFactory(external_id=f"m-{i:03d}", story_group=group, source="Tate")
    first = client.get(BROWSE, {"collection": "tate"})
    assert len(shown(first)) == BROWSE_PAGE_SIZE
    assert 'href="?collection=tate&amp;page=2"' in first.content.decode()
    second = client.get(BROWSE, {"collection": "tate", "page": "2"})
    assert shown(second) == ["m-024", "m-025"]
    assert "page 2 of 2" in second.content.decode()


def test_browse_takes_a_fixed_number_of_queries(client, museum, django_assert_max_num_queries):
    # collections, story groups, centuries, search readiness, collection slug, count, page, session
    with django_assert_max_num_queries(9):
        client.get(BROWSE, {"collection": "tate"})


# -- search by words ----------------------------------------------------------------------------
@pytest.fixture
def minilm_ready(museum, tmp_path):
    engine = get_engine("minilm")
    paintings = list(museum.values())
    vectors = engine.encode([painting_input(p) for p in paintings], tmp_path).vectors
    return write_artefact(engine="minilm", paintings=paintings, vectors=vectors)


def test_search_box_shows_results_as_cards(client, minilm_ready):
    response = client.get(SEARCH, {"q": "ice skating on a frozen river"})
    html = response.content.decode()
    assert response.status_code == 200
    assert shown(response)[0] == "tate-2"
    assert "Paintings matching “ice skating on a frozen river”" in html
    assert 'role="search"' in html


def test_search_own_text_first_and_collection_filter(client, museum, minilm_ready):
    assert shown(client.get(SEARCH, {"q": painting_text(museum["aic-2"])}))[0] == "aic-2"
    only_aic = client.get(SEARCH, {"q": "winter snow", "collection": "art-institute-of-chicago"})
    assert sorted(shown(only_aic)) == ["aic-1", "aic-2"]


def test_blank_search_is_400_with_a_message(client, minilm_ready):
    response = client.get(SEARCH, {"q": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_search_without_a_ready_engine_says_so_plainly(client, museum):
    browse_html = client.get(BROWSE).content.decode()
    assert "Search by words becomes available once the paintings have been prepared" in browse_html
    response = client.get(SEARCH, {"q": "storm"})
    html = response.content.decode()
    assert response.status_code == 503
    assert "This search is not available yet" in html
    assert "RECSYS_" not in html


def test_image_search_form_only_when_an_image_engine_is_ready(client, minilm_ready):
    html = client.get(BROWSE).content.decode()
    assert 'action="/search/"' in html
    assert 'action="/search/image/"' not in html


# -- search by picture --------------------------------------------------------------------------
def _jpeg(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (64, 48), colour)
    for x in range(0, 64, 8):
        for y in range(48):
            image.putpixel((x, y), (255 - colour[0], 255 - colour[1], 255 - colour[2]))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def resnet_ready(settings, tiny_models, museum, tmp_path):  # noqa: F811
    engines = {name: dict(config) for name, config in settings.RECSYS_ENGINES.items()}
    engines["resnet"]["MODEL"] = tiny_models["resnet"]
    settings.RECSYS_ENGINES = engines
    pictures = {}
    for i, (external_id, painting) in enumerate(museum.items()):
        pictures[external_id] = _jpeg((40 * i, 200 - 40 * i, 90))
        give_image(painting, pictures[external_id])
    engine = get_engine("resnet")
    paintings = list(museum.values())
    write_artefact(
        engine="resnet",
        paintings=paintings,
        vectors=engine.encode([painting_input(p) for p in paintings], tmp_path).vectors,
    )
    return pictures


def test_image_search_finds_the_painting_of_the_picture(client, resnet_ready):
    html = client.get(BROWSE).content.decode()
    assert 'action="/search/image/"' in html and 'enctype="multipart/form-data"' in html
    picture = SimpleUploadedFile("mine.jpg", resnet_ready["tate-1"], content_type="image/jpeg")
    response = client.post(IMAGE_SEARCH, {"image": picture})
    assert response.status_code == 200
    assert shown(response)[0] == "tate-1"
    assert "Paintings like your picture" in response.content.decode()


def test_image_search_with_a_bad_file_says_what_is_wrong(client, resnet_ready):
    bad = SimpleUploadedFile("notes.jpg", b"not a picture at all", content_type="image/jpeg")
    response = client.post(IMAGE_SEARCH, {"image": bad})
    assert response.status_code == 400
    assert "The uploaded file is not an image." in response.content.decode()


def test_image_search_needs_csrf(resnet_ready):
    from django.test import Client

    picture = SimpleUploadedFile("mine.jpg", resnet_ready["tate-1"], content_type="image/jpeg")
    assert Client(enforce_csrf_checks=True).post(IMAGE_SEARCH, {"image": picture}).status_code == 403
