"""OpenAPI schema (drf-spectacular) and the interactive docs, which must work offline."""

from __future__ import annotations

import re

import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

PATHS = {
    "/api/v1/auth/token/": {"post", "delete"},
    "/api/v1/paintings/": {"get"},
    "/api/v1/paintings/{external_id}/": {"get"},
    "/api/v1/paintings/{external_id}/similar/": {"get"},
    "/api/v1/me/ratings/": {"get", "post"},
    "/api/v1/me/ratings/bulk/": {"post", "put"},
    "/api/v1/me/ratings/{external_id}/": {"delete"},
    "/api/v1/recommendations/": {"get", "post"},
    "/api/v1/elicitation/": {"get"},
    "/api/v1/engines/": {"get"},
    "/api/v1/engines/{name}/": {"get"},
}


def test_schema_generates_and_validates_without_warnings(tmp_path, db):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()} == PATHS


def test_schema_documents_bodies_and_error_responses(tmp_path, db):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    anonymous = schema["paths"]["/api/v1/recommendations/"]["post"]
    assert anonymous["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AnonymousRecommendationRequest"
    }
    assert {"200", "400", "413", "415", "429", "503"} <= set(anonymous["responses"])
    assert anonymous["responses"]["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "security" not in anonymous  # no authentication
    assert schema["paths"]["/api/v1/recommendations/"]["get"]["security"] == [
        {"tokenAuth": []},
        {"cookieAuth": []},
    ]
    ratings = schema["components"]["schemas"]["AnonymousRecommendationRequest"]["properties"]["ratings"]
    assert ratings["additionalProperties"] == {"type": "integer", "minimum": 1, "maximum": 5}


def test_schema_endpoint_serves_openapi_3(api_client, db):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert response.json()["info"]["title"] == "Painting recommender API"


def test_docs_render_with_locally_served_assets(api_client, db):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert "cdn" not in html.lower()
    for asset in assets:
        assert finders.find(asset), asset
