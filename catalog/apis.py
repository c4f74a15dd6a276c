"""Catalogue endpoints: painting list and detail. Read-only, open to all (the elicitation set, which
needs the recommender's engines, is ``recsys.api.elicitation_views``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import painting_get, painting_list
from catalog.serializers import (
    PaintingDetailSerializer,
    PaintingFilterSerializer,
    PaintingSummarySerializer,
)
from clients.authentication import app_collection, painting_in_app_collection
from config.api import examples
from config.api.fields import query_serializer
from config.api.openapi import PAINTING_ID_PATH, error_responses


class PaintingListApi(GenericAPIView):
    permission_classes = (AllowAny,)
    serializer_class = PaintingSummarySerializer

    @extend_schema(
        operation_id="paintings_list",
        examples=examples.PAINTING_LIST,
        summary="List paintings",
        description="Filters combine; `artist` takes an artist id or name. `page_size` is 1 to 100.",
        parameters=[PaintingFilterSerializer],
        responses={200: PaintingSummarySerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request: Request) -> Response:
        filters = query_serializer(PaintingFilterSerializer, request).validated_data
        collection = app_collection(request, filters.get("collection"))  # an app key's, at most
        page = self.paginate_queryset(painting_list(**(filters | {"collection": collection})))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class PaintingDetailApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="paintings_retrieve",
        examples=examples.PAINTING_DETAIL,
        summary="One painting, with image and thumbnail URLs",
        parameters=[PAINTING_ID_PATH],
        responses={200: PaintingDetailSerializer, **error_responses(404)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        painting = painting_in_app_collection(request, painting_get(external_id=external_id))
        return Response(PaintingDetailSerializer(painting, context={"request": request}).data)
