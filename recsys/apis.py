"""Recommender endpoints: recommendations (signed-in and account-less), similar paintings, engines.

Paintings travel as external ids; they are resolved to primary keys here (unknown ids are a 400
naming the field), the services work on pks, and the answer is hydrated back into painting
summaries with one query, in rank order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import painting_get, paintings_by_pk
from catalog.serializers import SimilarPaintingsSerializer, SimilarQuerySerializer
from config.api.openapi import PAINTING_ID_PATH, error_responses
from config.api.throttles import RecommendAnonRateThrottle
from config.exceptions import ApplicationError, unknown_ids_answer
from recsys.recommend import (
    RecommendationResult,
    recommend,
    recommender_status,
    recommender_statuses,
    similar_paintings,
)
from recsys.serializers import (
    AnonymousRecommendationSerializer,
    EngineSerializer,
    RecommendationQuerySerializer,
    RecommendationsSerializer,
)
from users.selectors import user_rating_map
from users.services import resolve_paintings

# The service names its keyword arguments, the API its request fields; errors name the latter.
_API_FIELD = {"artist_id": "artist"}


@contextmanager
def _request_errors() -> Iterator[None]:
    """Errors raised by the recommendation service, as the request sees them: unknown ids in the
    body or query string are a 400, and fields carry their API names."""
    try:
        with unknown_ids_answer(status.HTTP_400_BAD_REQUEST):
            yield
    except ApplicationError as exc:
        if exc.field in _API_FIELD:
            exc.field = _API_FIELD[exc.field]
        raise


def _recommendations_body(result: RecommendationResult) -> dict[str, Any]:
    """The response body of a recommendation request, paintings hydrated with one query.

    The same query fetches the ignored rated paintings, whose ids key ``ignored_ratings``. A
    recommended painting deleted from the catalogue after the artefact was built is left out.
    """
    paintings = paintings_by_pk(
        pks=[item.painting_id for item in result.items] + list(result.ignored_ratings)
    )
    return {
        "engine": result.recommender,
        "kind": result.kind,
        "mode": result.mode,
        "weighting": result.weighting,
        "applied_weighting": result.applied_weighting,
        "versions": result.versions,
        "ignored_ratings": {
            paintings[pk].external_id: reason
            for pk, reason in result.ignored_ratings.items()
            if pk in paintings
        },
        "results": [
            {
                "rank": item.rank,
                "score": item.score,
                "painting": paintings[item.painting_id],
                "explanation": {"contributions": item.contributions, "engine_ranks": item.engine_ranks},
            }
            for item in result.items
            if item.painting_id in paintings
        ],
    }


def _recommend(*, request: Request, ratings: dict[int, int], options: dict[str, Any]) -> Response:
    """Run the recommendation service for ``ratings`` (pk -> value) and the request's options."""
    exclude = options.get("exclude", [])
    with _request_errors():
        excluded = resolve_paintings(exclude, field="exclude") if exclude else {}
        result = recommend(
            ratings=ratings,
            recommender=options.get("engine"),
            n=options["n"],
            story_group=options.get("story_group"),
            artist_id=options.get("artist"),
            exclude=list(excluded.values()),
            weighting=options.get("weighting"),
        )
    body = RecommendationsSerializer(_recommendations_body(result), context={"request": request})
    return Response(body.data)


class RecommendationsApi(APIView):
    """GET: for the signed-in user, from their stored ratings. POST: for anyone, from the ratings
    in the body, which are not stored.

    POST runs without authentication: its answer depends on the body alone, it writes nothing and
    reads nothing of an account, so there is nothing for a session (and its CSRF check) or a token
    to protect; museum apps without accounts call it directly. It is throttled per client address
    under its own scope, ``recommend_anon``.
    """

    def _anonymous(self) -> bool:
        # getattr: the schema generator builds its mock request before setting ``self.request``
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self) -> list:
        return [] if self._anonymous() else super().get_authenticators()

    def get_permissions(self) -> list:
        return [AllowAny()] if self._anonymous() else [IsAuthenticated()]

    def get_throttles(self) -> list:
        return [RecommendAnonRateThrottle()] if self._anonymous() else super().get_throttles()

    @extend_schema(
        operation_id="recommendations_for_me",
        summary="Recommendations from my stored ratings",
        description=(
            "Uses the signed-in user's most recent ratings (at most RECSYS_MAX_RATINGS). Rated and "
            "excluded paintings are never recommended."
        ),
        parameters=[RecommendationQuerySerializer],
        responses={200: RecommendationsSerializer, **error_responses(400, 401, 503)},
    )
    def get(self, request: Request) -> Response:
        query = RecommendationQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        ratings = user_rating_map(user=request.user, limit=settings.RECSYS_MAX_RATINGS)
        return _recommend(request=request, ratings=ratings, options=query.validated_data)

    @extend_schema(
        operation_id="recommendations_anonymous",
        summary="Recommendations from ratings in the body (no account; nothing stored)",
        description=(
            "For museum apps without accounts: no authentication, no CSRF token, nothing stored. "
            "Throttled per client address (scope `recommend_anon`). Rated and excluded paintings "
            "are never recommended."
        ),
        request=AnonymousRecommendationSerializer,
        responses={200: RecommendationsSerializer, **error_responses(400, 413, 415, 503)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        body = AnonymousRecommendationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        by_external = body.validated_data["ratings"]
        with unknown_ids_answer(status.HTTP_400_BAD_REQUEST):
            pks = resolve_paintings(list(by_external), field="ratings")
        ratings = {pks[external_id]: value for external_id, value in by_external.items()}
        return _recommend(request=request, ratings=ratings, options=body.validated_data)


class PaintingSimilarApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="paintings_similar",
        summary="Paintings most similar to one painting under an engine",
        parameters=[PAINTING_ID_PATH, SimilarQuerySerializer],
        responses={200: SimilarPaintingsSerializer, **error_responses(400, 404, 503)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        painting = painting_get(external_id=external_id)
        query = SimilarQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        engine = query.validated_data["engine"]
        similar = similar_paintings(painting_id=painting.pk, engine=engine, n=query.validated_data["n"])
        paintings = paintings_by_pk(pks=[item.painting_id for item in similar])
        body = {
            "painting": painting.external_id,
            "engine": engine,
            "results": [
                {"rank": item.rank, "similarity": item.similarity, "painting": paintings[item.painting_id]}
                for item in similar
                if item.painting_id in paintings
            ],
        }
        return Response(SimilarPaintingsSerializer(body, context={"request": request}).data)


class EngineListApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="engines_list",
        summary="Recommenders (engine= values) and whether each is ready",
        responses={200: EngineSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return Response(EngineSerializer(recommender_statuses(), many=True).data)


class EngineDetailApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="engines_retrieve",
        summary="One recommender's status",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, description="Recommender name.")],
        responses={200: EngineSerializer, **error_responses(404)},
    )
    def get(self, request: Request, name: str) -> Response:
        with unknown_ids_answer(status.HTTP_404_NOT_FOUND):
            engine = recommender_status(name)
        return Response(EngineSerializer(engine).data)
