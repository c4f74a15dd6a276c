"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis).

Every operation gets valid (positive) and invalid (negative) requests generated from the schema,
with a fixed seed (``derandomize``), sent to the WSGI application in-process as a signed-in app
(a real API token). No answer may be a 5xx, except a 503 the operation documents (an engine
without a ready artefact).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from users.services import api_token_create

pytestmark = pytest.mark.slow  # fuzzes every operation of the schema

EXAMPLES_PER_OPERATION_AND_MODE = 45
MIN_CALLS = 1000


@pytest.fixture
def fuzzed_schema(db):
    """The schema, served by the WSGI application that the calls then go to. As in Django's test
    client, requests must not close the test's database connection (its transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz(operation, mode: GenerationMode, *, token, calls: list, failures: list) -> None:
    """Send ``EXAMPLES_PER_OPERATION_AND_MODE`` generated requests of one operation and mode."""
    documented = set(operation.definition.raw.get("responses", {}))

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case) -> None:
        response = case.call(headers={"Authorization": f"Token {token()}"})
        calls.append((operation.label, response.status_code))
        if response.status_code >= 500 and not (response.status_code == 503 and "503" in documented):
            failures.append(f"{operation.label} -> {response.status_code}: {case.as_curl_command()}")

    try:
        call()
    except Unsatisfiable:  # nothing invalid to generate (an operation without any input)
        assert mode is GenerationMode.NEGATIVE, operation.label


def test_no_operation_answers_an_undocumented_server_error(fuzzed_schema, minilm, user):
    caches["default"].clear()
    _, key = api_token_create(user=user)
    calls: list[tuple[str, int]] = []
    failures: list[str] = []

    for result in fuzzed_schema.get_all_operations():
        operation = result.ok()
        revokes = operation.method.upper() == "DELETE" and operation.path == "/api/v1/auth/token/"
        # DELETE /auth/token/ revokes the token it carries: give it a fresh one each time.
        token = (lambda: api_token_create(user=user)[1]) if revokes else (lambda: key)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, token=token, calls=calls, failures=failures)

    assert len(calls) >= MIN_CALLS
    assert failures == []
