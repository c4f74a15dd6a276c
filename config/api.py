"""Building blocks shared by every /api/v1/ view: the JSON parser that enforces the request size
limit, pagination, throttles, and the OpenAPI description of the error body.

DRF settings name classes in this module, so it must not import ``rest_framework.views``
(which reads those settings at import time); API views live in the apps' ``apis.py`` modules.

The error body itself is produced in one place only, ``config.exceptions.api_exception_handler``;
``ErrorSerializer`` here just documents it in the schema.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class SizeLimitedJSONParser(JSONParser):
    """DRF's JSON parser with ``DATA_UPLOAD_MAX_MEMORY_SIZE`` enforced.

    Django checks that limit only when ``request.body`` is read; DRF's parser reads the raw
    stream instead, so without this an API body of any size would be read into memory. Raising
    Django's own ``RequestDataTooBig`` keeps one 413 path in the exception handler. A body nested
    deeper than the JSON decoder's recursion limit is malformed input (400), not a server error.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            request = (parser_context or {}).get("request")
            meta = request.META if request is not None else {}
            try:
                declared = int(meta.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
            stream = io.BytesIO(data)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc


class Pagination(PageNumberPagination):
    """Page-number pagination; apps may ask for smaller or larger pages up to ``max_page_size``."""

    page_size_query_param = "page_size"
    max_page_size = 100


class RecommendAnonRateThrottle(SimpleRateThrottle):
    """Per-client-address limit of the account-less recommendation endpoint (scope ``recommend_anon``).

    The rate is read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` at request time, so it can be
    changed in settings (and in tests) without re-importing this module.
    """

    scope = "recommend_anon"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


# -- OpenAPI: shared parameters ------------------------------------------------------------------
PAINTING_ID_PATH = OpenApiParameter(
    "external_id", str, OpenApiParameter.PATH, description="Painting id (external id), e.g. 'aic-109220'."
)


# -- OpenAPI description of the error body --------------------------------------------------------
class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. 'unknown_painting'.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    field = serializers.CharField(required=False, help_text="The request field at fault, when there is one.")
    detail = serializers.JSONField(required=False, help_text="Structured extra information.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_ERROR_DESCRIPTIONS = {
    400: "Invalid input: malformed JSON, a value out of range, an unknown id or engine in the request.",
    401: "Authentication required (session cookie or 'Authorization: Token <key>').",
    403: "Authenticated but not allowed.",
    404: "Unknown resource, e.g. a painting id in the path that is not in the catalogue.",
    413: "The request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.",
    415: "The body is not application/json.",
    429: "Too many requests; retry after the number of seconds in the Retry-After header.",
    503: "The engine has no ready artefact yet (computing, failed or never computed); the message says why.",
}


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error statuses an operation can answer (429 is always included)."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code])
        for code in sorted({*status_codes, 429})
    }
