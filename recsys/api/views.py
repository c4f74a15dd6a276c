"""Recommender endpoints: recommendations (signed-in and account-less), similar paintings and the
recommenders' status.

This is the API boundary: requests are validated by the serializers, painting external ids are
resolved to primary keys here (unknown ids are a 400 naming the field), the services work on pks
with already-validated values, and every pk they hand back (recommended, ignored or explaining
paintings, also inside errors) is turned back into an external id here, with one query.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import (
    PaintingSummaryRow,
    external_ids_by_pk,
    painting_get,
    painting_refs_by_external_id,
    painting_summaries_by_pk,
    paintings_by_pk,
)
from catalog.serializers import SimilarPaintingsSerializer, SimilarQuerySerializer
from clients.authentication import app_collection, painting_in_app_collection, request_api_key
from config.api import examples
from config.api.fields import query_serializer
from config.api.openapi import (
    EXAMPLE_OTHER_PAINTING_ID,
    EXAMPLE_PAINTING_ID,
    PAINTING_ID_PATH,
    error_responses,
)
from config.api.throttles import ApiKeyRateThrottle, RecommendAnonRateThrottle
from config.exceptions import UnknownEngine, ValidationFailed, unknown_ids_answer
from experiments.models import Exposure
from experiments.services import recommend_for_visitor
from experiments.visitors import visitor_key_or_none
from recsys.api.request_serializers import (
    AnonymousRecommendationSerializer,
    RecommendationOptionsSerializer,
    RecommendationQuerySerializer,
)
from recsys.api.response_data import recommendations_data
from recsys.api.response_serializers import RecommendationsSerializer, RecommenderSerializer
from recsys.serving.recommend import RecommendationResult
from recsys.serving.recommenders import default_recommender_name
from recsys.serving.selectors import recommender_status, recommender_statuses
from recsys.serving.similar import default_similar_engine, similar_paintings
from users.selectors import user_rating_map
from users.services import resolve_paintings


@contextmanager
def _request_errors(*, recommender_field: str) -> Iterator[None]:
    """Errors of the recommendation service as the request sees them: unknown ids in the body or
    query string are a 400, the recommender is named by the field the request used, and
    ``ignored_ratings`` is keyed by painting id (one query), not by primary key."""
    try:
        with unknown_ids_answer(status.HTTP_400_BAD_REQUEST):
            yield
    except UnknownEngine as exc:
        if exc.field == "recommender":
            exc.field = recommender_field
        raise
    except ValidationFailed as exc:
        ignored = exc.detail.get("ignored_ratings") if isinstance(exc.detail, dict) else None
        if ignored:
            external = external_ids_by_pk(pks=ignored)
            exc.detail["ignored_ratings"] = {external.get(pk, str(pk)): why for pk, why in ignored.items()}
        raise


class _Hydration:
    """The paintings an answer shows, read in as few queries as possible: the rated ones (id,
    title, image: what explains) with the request's validation (``rated``), the recommended ones
    with the service's check that they are still catalogued (``catalogued``, handed to
    ``recommend``), anything else at the end."""

    def __init__(self, rated: Mapping[int, PaintingSummaryRow] | None = None) -> None:
        self.rated = dict(rated or {})
        self.shown: dict[int, PaintingSummaryRow] = {}

    def catalogued(self, pks: list[int]) -> set[int]:
        self.shown.update(painting_summaries_by_pk(pks=[pk for pk in pks if pk not in self.shown]))
        return {pk for pk in pks if pk in self.shown}

    def of(self, result: RecommendationResult) -> dict[int, PaintingSummaryRow]:
        explaining = {c.painting_id for item in result.items for c in item.contributions}
        recommended = {item.painting_id for item in result.items}
        unread = (recommended - self.shown.keys()) | (
            (explaining | set(result.ignored_ratings)) - self.rated.keys() - self.shown.keys()
        )
        if unread:  # a caller that did not hand its rows over (GET), or a painting deleted since
            self.shown.update(painting_summaries_by_pk(pks=unread))
        return self.rated | self.shown  # a recommended painting is never a rated one


def _experiment_overrides(options: dict[str, Any], answer: Any) -> dict[str, dict[str, Any]]:
    """The request fields a running experiment changed: the recommender its arm uses instead of
    the one asked for (or the default), and its own list length instead of ``n``."""
    if answer.exposure is None:
        return {}
    changed: dict[str, dict[str, Any]] = {}
    requested = options.get("recommender")
    if (requested or default_recommender_name()) != answer.result.recommender:
        changed["recommender"] = {"requested": requested, "applied": answer.result.recommender}
    applied_n = answer.exposure.experiment.n_recommendations
    if options["n"] != applied_n:
        changed["n"] = {"requested": options["n"], "applied": applied_n}
    return changed


def _recommendations_body(
    result: RecommendationResult,
    exposure: Any,
    hydration: _Hydration,
    request: Request,
    *,
    n: int,
    overrides: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The response body of a recommendation request.

    The recommended, ignored and explaining (rated) paintings come from ``hydration`` (no query
    when the request's validation and the service's catalogued check read them already). A
    recommended painting deleted from the catalogue after the artefact was built is left out.
    Built as plain data (``recsys.api.response_data.recommendations_data``), as
    ``RecommendationsSerializer`` documents it.
    """

    def absolute(url: str | None) -> str | None:
        return None if url is None else request.build_absolute_uri(url)

    return recommendations_data(
        result, paintings=hydration.of(result), exposure=exposure, absolute=absolute, n=n, overrides=overrides
    )


def _recommend(
    *,
    request: Request,
    ratings: dict[int, int],
    options: RecommendationOptionsSerializer,
    excluded: list[int] | None = None,
    hydration: _Hydration | None = None,
) -> Response:
    """Run the recommendation service for ``ratings`` (pk -> value) and the validated options;
    ``excluded``: the ``exclude`` ids already resolved to pks (else resolved here);
    ``hydration``: the paintings read so far."""
    data = options.validated_data
    exclude = data.get("exclude", [])
    hydration = hydration or _Hydration()
    app = request_api_key(request)  # a museum app's key: its visitors and its collection
    with _request_errors(recommender_field=options.recommender_field):
        if excluded is None:
            excluded = list(resolve_paintings(exclude, field="exclude").values()) if exclude else []
        # inside a running A/B experiment the visitor's arm answers and the list is logged
        answer = recommend_for_visitor(
            visitor_key=lambda: visitor_key_or_none(  # checked only while an experiment runs
                user=request.user, visitor_id=data.get("visitor"), app_id=app.pk if app else None
            ),
            source=Exposure.Source.API,
            ratings=ratings,
            recommender=data.get("recommender"),
            n=data["n"],
            story_group=data.get("story_group"),
            artist=data.get("artist"),
            exclude=excluded,
            weighting=data.get("weighting"),
            mmr_lambda=data.get("mmr_lambda"),
            collection=app_collection(request, data.get("collection")),
            catalogued=hydration.catalogued,
        )
    overrides = _experiment_overrides(data, answer)
    applied_n = overrides["n"]["applied"] if "n" in overrides else data["n"]
    body = _recommendations_body(
        answer.result, answer.exposure, hydration, request, n=applied_n, overrides=overrides
    )
    return Response(body)


class RecommendationsApi(APIView):
    """GET: for the signed-in user, from their stored ratings. POST: for anyone, from the ratings
    in the body, which are not stored.

    POST needs no authentication: its answer depends on the body alone and it reads nothing of an
    account, so there is nothing for a session (and its CSRF check) to protect; museum apps
    without accounts call it directly. A token (or app key) is still read, but only to name the
    A/B experiment participant when no ``visitor`` is sent. It is throttled per client address
    under its own scope, ``recommend_anon``.

    Both answer through ``experiments.services.recommend_for_visitor``: while an experiment runs,
    the visitor's arm answers and the list is logged (``exposure``).
    """

    def _anonymous(self) -> bool:
        # getattr: the schema generator builds its mock request before setting ``self.request``
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self) -> list:
        # POST: no session (so no CSRF check); a token or app key only names the experiment visitor
        authenticators = super().get_authenticators()
        if self._anonymous():
            return [a for a in authenticators if not isinstance(a, SessionAuthentication)]
        return authenticators

    def get_permissions(self) -> list:
        return [AllowAny()] if self._anonymous() else [IsAuthenticated()]

    def get_throttles(self) -> list:
        if self._anonymous():  # per key at its own rate, else per client address
            return [ApiKeyRateThrottle(), RecommendAnonRateThrottle()]
        return super().get_throttles()

    @extend_schema(
        operation_id="recommendations_for_me",
        examples=examples.RECOMMENDATIONS_ANSWER,
        summary="Recommendations from my stored ratings",
        description=(
            "Uses the signed-in user's most recent ratings (at most RECSYS_MAX_RATINGS). Rated and "
            "excluded paintings are never recommended."
        ),
        parameters=[RecommendationQuerySerializer],
        responses={200: RecommendationsSerializer, **error_responses(400, 401, 503)},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],  # an account's ratings: not with an app key
    )
    def get(self, request: Request) -> Response:
        query = query_serializer(RecommendationQuerySerializer, request)
        ratings = user_rating_map(user=request.user, limit=settings.RECSYS_MAX_RATINGS)
        return _recommend(request=request, ratings=ratings, options=query)

    @extend_schema(
        operation_id="recommendations_anonymous",
        summary="Recommendations from ratings in the body (no account; nothing stored)",
        description=(
            "For museum apps without accounts: no account, no CSRF token, nothing stored. "
            "Throttled per client address (scope `recommend_anon`), or, with a museum app's key "
            "(`Authorization: Api-Key <key>`), per key at the key's own rate. Rated and excluded paintings "
            "are never recommended. Numbers are JSON numbers and ids JSON strings; a key given "
            "twice is refused. While an A/B experiment runs, the `visitor` (else the caller "
            "signed in with a token) takes part: its arm's recommender answers and `exposure` "
            "names the logged list, for feedback at /api/v1/experiments/exposures/{id}/feedback/."
        ),
        request=AnonymousRecommendationSerializer,
        examples=[
            OpenApiExample(
                "Two ratings of the sample catalogue",
                value={
                    "ratings": {EXAMPLE_PAINTING_ID: 5, EXAMPLE_OTHER_PAINTING_ID: 2},
                    "recommender": "lda",
                    "n": 9,
                },
                request_only=True,
            )
        ],
        responses={200: RecommendationsSerializer, **error_responses(400, 401, 413, 415, 503)},
        auth=[{"tokenAuth": []}, {"apiKeyAuth": []}, {}],  # optional: participant / museum app's key
    )
    def post(self, request: Request) -> Response:
        body = AnonymousRecommendationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        by_external = body.validated_data["ratings"]
        exclude = body.validated_data.get("exclude", [])
        with unknown_ids_answer(status.HTTP_400_BAD_REQUEST):  # ratings and exclude: one query
            rows = painting_refs_by_external_id(fields={"ratings": list(by_external), "exclude": exclude})
        ratings = {rows[external_id].pk: value for external_id, value in by_external.items()}
        excluded = list(dict.fromkeys(rows[external_id].pk for external_id in exclude))
        hydration = _Hydration({rows[external_id].pk: rows[external_id] for external_id in by_external})
        return _recommend(
            request=request, ratings=ratings, options=body, excluded=excluded, hydration=hydration
        )


class PaintingSimilarApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="paintings_similar",
        examples=examples.SIMILAR,
        summary="Paintings most similar to one painting under an engine (default: the default one's)",
        parameters=[PAINTING_ID_PATH, SimilarQuerySerializer],
        responses={200: SimilarPaintingsSerializer, **error_responses(400, 404, 503)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        painting = painting_in_app_collection(request, painting_get(external_id=external_id))
        query = query_serializer(SimilarQuerySerializer, request)
        engine = query.validated_data.get("engine") or default_similar_engine()
        similar = similar_paintings(
            painting_id=painting.pk,
            engine=engine,
            n=query.validated_data["n"],
            collection=app_collection(request, query.validated_data.get("collection")),
        )
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


_RECOMMENDER_NAME = OpenApiParameter("name", str, OpenApiParameter.PATH, description="Recommender name.")


class RecommenderListApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="recommenders_list",
        examples=examples.RECOMMENDERS,
        summary="Recommenders (`recommender=` values) and whether each is ready",
        responses={200: RecommenderSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return Response(RecommenderSerializer(recommender_statuses(), many=True).data)


class RecommenderDetailApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="recommenders_retrieve",
        examples=examples.RECOMMENDER_ONE,
        summary="One recommender's status",
        parameters=[_RECOMMENDER_NAME],
        responses={200: RecommenderSerializer, **error_responses(404)},
    )
    def get(self, request: Request, name: str) -> Response:
        with unknown_ids_answer(status.HTTP_404_NOT_FOUND, field="name"):
            found = recommender_status(name=name)
        return Response(RecommenderSerializer(found).data)


class EngineListApi(RecommenderListApi):
    """Deprecated alias of /api/v1/recommenders/ (same answer)."""

    @extend_schema(
        operation_id="engines_list",
        examples=examples.RECOMMENDERS,
        summary="Deprecated alias of /api/v1/recommenders/",
        deprecated=True,
        responses={200: RecommenderSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


class EngineDetailApi(RecommenderDetailApi):
    """Deprecated alias of /api/v1/recommenders/<name>/ (same answer)."""

    @extend_schema(
        operation_id="engines_retrieve",
        examples=examples.RECOMMENDER_ONE,
        summary="Deprecated alias of /api/v1/recommenders/{name}/",
        deprecated=True,
        parameters=[_RECOMMENDER_NAME],
        responses={200: RecommenderSerializer, **error_responses(404)},
    )
    def get(self, request: Request, name: str) -> Response:
        return super().get(request, name)
