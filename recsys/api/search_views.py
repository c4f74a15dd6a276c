"""Search endpoints: paintings closest to a text (``GET /api/v1/search/?q=``) or to an uploaded
picture (``POST /api/v1/search/image/``, multipart). Open to all, read-only; the service is
``recsys.serving.search``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import paintings_by_pk
from clients.authentication import app_collection
from config.api import examples
from config.api.fields import QUERY, query_serializer
from config.api.openapi import error_responses
from config.api.throttles import SearchImageRateThrottle
from config.exceptions import PayloadTooLarge
from recsys.api.search_serializers import ImageSearchSerializer, SearchQuerySerializer, SearchResultSerializer
from recsys.serving.search import SearchResult, search_image, search_text

#: multipart framing (boundaries, part headers, the small form fields) allowed beyond the image
_MULTIPART_OVERHEAD = 64 * 1024


def _body(result: SearchResult, collection: str | None, request: Request) -> dict[str, Any]:
    """The response, paintings hydrated in one query (a painting deleted meanwhile is left out)."""
    paintings = paintings_by_pk(pks=[hit.painting_id for hit in result.items])
    body = {
        "engine": result.engine,
        "version": result.version,
        "query": result.modality,
        "collection": collection,
        "results": [
            {"rank": hit.rank, "score": hit.score, "painting": paintings[hit.painting_id]}
            for hit in result.items
            if hit.painting_id in paintings
        ],
    }
    return SearchResultSerializer(body, context={"request": request}).data


class SearchApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="search_text",
        examples=examples.SEARCH,
        summary="Paintings closest to a text query",
        description=(
            "The query is encoded by a text engine (`engine`, default the first ready one of "
            "RECSYS_SEARCH_TEXT_ENGINES: MiniLM sentence embeddings, or CLIP, whose text embedding is "
            "compared with each painting's joint image+text vector, so it finds paintings by what "
            "they show). `score` is the cosine of the query and the painting; best first, ties by "
            "painting. 503 while no such engine is ready, naming the setting."
        ),
        parameters=[SearchQuerySerializer],
        responses={200: SearchResultSerializer, **error_responses(400, 503)},
    )
    def get(self, request: Request) -> Response:
        query = query_serializer(SearchQuerySerializer, request)
        data = query.validated_data
        collection = app_collection(request, data.get("collection"))
        result = search_text(q=data["q"], n=data["n"], engine=data.get("engine"), collection=collection)
        return Response(_body(result, collection, request))


class ImageSearchApi(APIView):
    """Multipart only: the picture in the ``image`` part, options as form fields."""

    permission_classes = (AllowAny,)
    parser_classes = (MultiPartParser,)

    def get_authenticators(self) -> list:
        # no session auth: an anonymous upload needs neither a CSRF token nor an account; a
        # museum app's key is read (its collection and rate hold), a wrong scheme is a 401
        return [a for a in super().get_authenticators() if not isinstance(a, SessionAuthentication)]

    def get_throttles(self) -> list:
        return [*super().get_throttles(), SearchImageRateThrottle()]

    @extend_schema(
        operation_id="search_image",
        summary="Paintings closest to an uploaded picture",
        description=(
            "multipart/form-data with the picture in `image` (JPEG, PNG, WebP or GIF, at most "
            "RECSYS_SEARCH_IMAGE_MAX_BYTES). It is checked and normalised like a catalogue image, then "
            "encoded by an image engine (`engine`, default the first ready one of "
            "RECSYS_SEARCH_IMAGE_ENGINES: CLIP or ResNet). 503 while none is ready, naming the "
            "setting; 400 naming `image` for a file that is not a usable picture; 413 when too large. "
            "Throttled per client address (scope `search_image`)."
        ),
        request={"multipart/form-data": ImageSearchSerializer},
        examples=[
            OpenApiExample("Ten paintings closest to a photo", value={"n": 10}, request_only=True),
            *examples.SEARCH_IMAGE,
        ],
        responses={200: SearchResultSerializer, **error_responses(400, 413, 415, 503)},
        auth=[{"apiKeyAuth": []}, {}],  # optional: a museum app's key
    )
    def post(self, request: Request) -> Response:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.RECSYS_SEARCH_IMAGE_MAX_BYTES
        if declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
            raise PayloadTooLarge(
                f"The image is larger than RECSYS_SEARCH_IMAGE_MAX_BYTES ({limit} bytes).", field="image"
            )
        # form fields are text, like a query string: digits are whole numbers
        form = ImageSearchSerializer(data=request.data, context={"request": request, QUERY: True})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        collection = app_collection(request, data.get("collection"))
        result = search_image(
            upload=data["image"], n=data["n"], engine=data.get("engine"), collection=collection
        )
        return Response(_body(result, collection, request))
