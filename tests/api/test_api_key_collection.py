"""A key's collection means what it says: validated when saved, enforced on every endpoint the key
calls (list, detail, similar, search, elicitation, recommendations); a request may narrow it,
never widen it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import Painting
from clients.models import ApiKey
from clients.services import api_key_create
from tests.factories import UserFactory


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def tate_key(paintings) -> str:
    Painting.objects.filter(external_id__in=["p-c", "p-d"]).update(source="Tate Gallery")
    return api_key_create(name="Tate guide", collection="tate-gallery")[1]


@pytest.mark.django_db
@pytest.mark.parametrize("collection", ["Tate Gallery", "cma"])
def test_an_unknown_collection_is_refused_when_the_key_is_saved(collection):
    with pytest.raises(ValidationError) as refused:
        api_key_create(name="Museum guide", collection=collection)
    assert "Unknown collection" in str(refused.value.message_dict["collection"])
    assert not ApiKey.objects.exists()


def test_a_slug_is_stored_as_the_collection_name(tate_key):
    assert ApiKey.objects.get().collection == "Tate Gallery"


def test_the_admin_offers_the_catalogues_collections_and_refuses_others(client, tate_key):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:clients_apikey_add")).content.decode()
    assert '<option value="Tate Gallery">Tate Gallery (2 paintings)</option>' in page
    response = client.post(
        reverse("admin:clients_apikey_add"), {"name": "B", "rate": "1/s", "collection": "cma"}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert ApiKey.objects.count() == 1


def test_the_painting_list_shows_only_the_keys_collection(tate_key):
    response = _client(tate_key).get("/api/v1/paintings/")
    assert sorted(item["id"] for item in response.json()["results"]) == ["p-c", "p-d"]
    assert APIClient().get("/api/v1/paintings/").json()["count"] == 5  # without the key: all


def test_a_painting_outside_the_keys_collection_is_404_like_an_unknown_one(tate_key):
    outside = _client(tate_key).get("/api/v1/paintings/p-a/")
    unknown = _client(tate_key).get("/api/v1/paintings/p-zz/")
    assert outside.status_code == unknown.status_code == 404
    assert outside.json()["error"]["code"] == unknown.json()["error"]["code"] == "unknown_painting"
    assert _client(tate_key).get("/api/v1/paintings/p-c/").status_code == 200
    assert _client(tate_key).get("/api/v1/paintings/p-a/similar/").status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/api/v1/paintings/?collection=test", "/api/v1/search/?q=lilies&collection=test"],
)
def test_naming_another_collection_is_a_400_on_collection(tate_key, url):
    response = _client(tate_key).get(url)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "collection"
    assert "restricted to the collection 'Tate Gallery'" in response.json()["error"]["message"]


def test_the_elicitation_set_comes_from_the_keys_collection(tate_key):
    Painting.objects.update(story_group=Painting.objects.get(external_id="p-c").story_group)
    response = _client(tate_key).get("/api/v1/elicitation/?seed=1")
    assert [item["id"] for item in response.json()["results"]] == ["p-c"]  # the one with an image


def test_image_search_reads_the_key_too(tate_key):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.api.conftest import jpeg_bytes

    image = SimpleUploadedFile("photo.jpg", jpeg_bytes(), content_type="image/jpeg")
    wider = _client(tate_key).post(
        "/api/v1/search/image/", {"image": image, "collection": "test"}, format="multipart"
    )
    assert wider.status_code == 400, wider.json()
    assert wider.json()["error"]["field"] == "collection"
    wrong = APIClient().post(
        "/api/v1/search/image/", {}, format="multipart", HTTP_AUTHORIZATION=f"ApiKey {tate_key}"
    )
    assert wrong.status_code == 401
