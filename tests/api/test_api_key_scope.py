"""A museum app's key scopes its requests: its collection is the default filter."""

from __future__ import annotations

from rest_framework.test import APIClient

from catalog.models import Painting
from clients.services import api_key_create

URL = "/api/v1/recommendations/"
BODY = {"ratings": {"p-a": 5, "p-b": 1}, "recommender": "minilm"}


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_a_key_with_a_collection_recommends_only_from_it(minilm, paintings):
    Painting.objects.filter(external_id__in=["p-c", "p-d"]).update(source="Tate")
    _, raw = api_key_create(name="Tate guide", collection="Tate")

    response = _client(raw).post(URL, BODY, format="json")

    assert response.status_code == 200
    assert {item["painting"]["id"] for item in response.json()["results"]} == {"p-c", "p-d"}


def test_a_request_may_name_the_keys_collection_but_not_another(minilm, paintings):
    Painting.objects.filter(external_id__in=["p-c", "p-d"]).update(source="Tate")
    other = Painting.objects.get(external_id="p-e").source
    _, raw = api_key_create(name="Tate guide", collection="Tate")

    same = _client(raw).post(URL, BODY | {"collection": "tate"}, format="json")
    wider = _client(raw).post(URL, BODY | {"collection": other}, format="json")

    assert {item["painting"]["id"] for item in same.json()["results"]} == {"p-c", "p-d"}
    assert wider.status_code == 400 and wider.json()["error"]["field"] == "collection"
