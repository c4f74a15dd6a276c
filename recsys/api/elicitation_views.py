"""The elicitation endpoint: ``GET /api/v1/elicitation/``, the 9 paintings a visitor rates first.
Open to all, read-only; the service is ``recsys.serving.elicitation`` (it clusters an engine's
space, so it lives with the recommender, not the catalogue)."""

from __future__ import annotations

import secrets

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import painting_refs_by_external_id
from catalog.serializers import ElicitationQuerySerializer, ElicitationSetSerializer
from clients.authentication import app_collection
from config.api import examples
from config.api.fields import query_serializer
from config.api.openapi import error_responses
from config.exceptions import unknown_ids_answer
from recsys.serving.elicitation import elicitation_paintings


class ElicitationApi(APIView):
    """The paintings a visitor rates first (the paper's elicitation step): curated story groups, else
    clusters of the collection (``recsys.serving.elicitation``)."""

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
