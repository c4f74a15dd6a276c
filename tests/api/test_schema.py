"""OpenAPI schema (drf-spectacular) and the interactive docs, which must work offline."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command

PATHS = {
    "/api/v1/auth/token/": {"post", "delete"},
    "/api/v1/auth/tokens/": {"get", "delete"},
    "/api/v1/auth/tokens/{token_id}/": {"delete"},
    "/api/v1/paintings/": {"get"},
    "/api/v1/paintings/{external_id}/": {"get"},
    "/api/v1/paintings/{external_id}/similar/": {"get"},
    "/api/v1/me/ratings/": {"get", "post"},
    "/api/v1/me/ratings/bulk/": {"post", "put"},
    "/api/v1/me/ratings/{external_id}/": {"delete"},
    "/api/v1/recommendations/": {"get", "post"},
    "/api/v1/elicitation/": {"get"},
    "/api/v1/search/": {"get"},
    "/api/v1/search/image/": {"post"},
    "/api/v1/recommenders/": {"get"},
    "/api/v1/recommenders/{name}/": {"get"},
    "/api/v1/tuned/": {"get"},
    "/api/v1/tuned/train/": {"post"},
    "/api/v1/tuned/rollback/": {"post"},
    "/api/v1/engines/": {"get"},
    "/api/v1/engines/{name}/": {"get"},
    "/api/v1/experiments/assignment/": {"get"},
    "/api/v1/experiments/exposures/{exposure_id}/feedback/": {"post"},
    "/api/v1/experiments/exposures/{exposure_id}/clicks/": {"post"},
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
    assert anonymous["security"] == [{"tokenAuth": []}, {"apiKeyAuth": []}, {}]  # optional
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


@pytest.fixture
def schema(tmp_path, db):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    return yaml.safe_load(target.read_text())


def test_recommenders_is_the_name_and_engines_a_deprecated_alias(schema):
    paths = schema["paths"]
    assert "deprecated" not in paths["/api/v1/recommenders/"]["get"]
    assert paths["/api/v1/engines/"]["get"]["deprecated"] is True
    assert paths["/api/v1/engines/{name}/"]["get"]["deprecated"] is True
    body = schema["components"]["schemas"]["AnonymousRecommendationRequest"]["properties"]
    assert "recommender" in body
    assert "deprecated alias" in body["engine"]["description"].lower()


def test_artist_filter_is_documented_as_id_or_name(schema):
    (artist,) = [
        p for p in schema["paths"]["/api/v1/paintings/"]["get"]["parameters"] if p["name"] == "artist"
    ]
    assert [option["type"] for option in artist["schema"]["oneOf"]] == ["integer", "string"]


def test_explanations_are_documented_with_title_and_thumbnail(schema):
    contribution = schema["components"]["schemas"]["Contribution"]["properties"]
    assert {"painting", "title", "thumbnail_url"} <= set(contribution)


def _sample_aic_ids() -> set[str]:
    sample = Path(settings.CATALOG_SAMPLE_DIR) / "aic" / "paintings.csv"
    with sample.open(newline="") as handle:
        return {f"aic-{row['aic_id']}" for row in csv.DictReader(handle)}


def test_examples_use_paintings_of_the_sample_catalogue(schema):
    """Swagger's "Try it out" sends the examples: they must name paintings the sample import creates."""
    text = yaml.safe_dump(schema)
    used = set(re.findall(r"aic-[0-9]+", text))
    assert used  # the examples do name paintings
    assert used <= _sample_aic_ids()
    post = schema["paths"]["/api/v1/recommendations/"]["post"]
    (example,) = post["requestBody"]["content"]["application/json"]["examples"].values()
    assert set(example["value"]["ratings"]) <= _sample_aic_ids()


def test_every_operation_has_a_summary_and_every_body_or_answer_an_example(tmp_path, db):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            has_json = "requestBody" in operation or any(
                "content" in answer for code, answer in operation["responses"].items() if code.startswith("2")
            )
            if not operation.get("summary") or (has_json and "examples" not in str(operation)):
                missing.append(f"{method.upper()} {path}")
    assert missing == []
