"""Catalogue endpoints: painting list and detail, and the elicitation set. Read-only, open to all."""

from __future__ import annotations

import secrets

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import painting_get, painting_list, painting_refs_by_external_id
from catalog.serializers import (
    ElicitationQuerySerializer,
    ElicitationSetSerializer,
    PaintingDetailSerializer,
    PaintingFilterSerializer,
    PaintingSummarySerializer,
)
from clients.authentication import app_collection, painting_in_app_collection
from config.api import examples
from config.api.fields import query_serializer
from config.api.openapi import PAINTING_ID_PATH, error_responses
from config.exceptions import unknown_ids_answer


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


class ElicitationApi(APIView):
    """The paintings a visitor rates first, one per story group (the paper's elicitation step)."""

    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="elicitation_retrieve",
        examples=examples.ELICITATION,
        summary="Elicitation set: paintings with an image, spanning the collection",
        description=(
            "`size` paintings (9 by default, as in the paper's study), all with a viewable image. "
            "When curators flagged story groups for elicitation: from those, in their order, one per "
            "group when there are enough groups, else spread over them (at most `per_group` each). "
            "Otherwise one painting from each of 9 clusters of the collection (the first ready "
            "engine of RECSYS_ELICITATION_ENGINES), sets rotating over the clusters; with "
            "`strategy=adaptive` and the `ratings` so far, the next set comes from the clusters the "
            "visitor's model is least sure about. The same `seed` returns the same set while the "
            "catalogue is unchanged; without one a fresh seed is drawn and returned. `set` 1, 2, ... "
            "with the same seed is 'show another set'."
        ),
        parameters=[ElicitationQuerySerializer],
        responses={200: ElicitationSetSerializer, **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        query = query_serializer(ElicitationQuerySerializer, request)
        seed = query.validated_data.get("seed")
        if seed is None:
            seed = secrets.randbelow(2**31)
        from recsys.serving.elicitation import elicitation_paintings  # recsys builds on catalog

        named = query.validated_data.get("ratings") or {}
        refs = {}
        if named:
            with unknown_ids_answer(400):
                refs = painting_refs_by_external_id(fields={"ratings": list(named)})
        chosen, paintings = elicitation_paintings(
            seed=seed,
            per_group=query.validated_data["per_group"],
            size=query.validated_data["size"],
            set_number=query.validated_data["set"],
            collection=app_collection(request, None),  # a museum app's key: its collection only
            strategy=query.validated_data.get("strategy"),
            ratings={refs[external_id].pk: value for external_id, value in named.items()},
        )
        body = {"seed": seed, "strategy": chosen.strategy, "engine": chosen.engine, "results": paintings}
        return Response(ElicitationSetSerializer(body, context={"request": request}).data)
