"""OpenAPI pieces shared by the API views: path parameters and the error body.

The error body itself is produced in one place only, ``config.exceptions.api_exception_handler``;
``ErrorSerializer`` here just documents it in the schema.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

# -- OpenAPI: shared parameters ------------------------------------------------------------------
#: Ids the examples use: the first two paintings ``import_catalog`` creates from the sample's AIC set
#: (../shared/data/aic/paintings.csv), so "Try it out" works on the sample catalogue.
EXAMPLE_PAINTING_ID = "aic-109220"
EXAMPLE_OTHER_PAINTING_ID = "aic-93784"

PAINTING_ID_PATH = OpenApiParameter(
    "external_id",
    str,
    OpenApiParameter.PATH,
    description=f"Painting id (external id), e.g. '{EXAMPLE_PAINTING_ID}'.",
    examples=[OpenApiExample("A painting of the sample catalogue", value=EXAMPLE_PAINTING_ID)],
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
    409: "Not possible in the current state (e.g. a training already queued, too little feedback, "
    "no earlier version to roll back to); the code and message say which.",
    413: "The request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.",
    415: "The body is not application/json.",
    429: "Too many requests; retry after the number of seconds in the Retry-After header.",
    503: "An engine has no ready artefact yet (computing, failed or never computed); the message says why.",
}


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error statuses an operation can answer (429 is always included)."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code])
        for code in sorted({*status_codes, 429})
    }
