"""Account endpoints: API tokens for apps (create, revoke), and the signed-in user's own ratings.

Every rating view reads and writes ``request.user``'s ratings only; there is no way to name
another user, so "a user can touch only their own ratings" holds by construction rather than by
a per-object check.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import examples
from config.api.openapi import PAINTING_ID_PATH, error_responses
from config.api.parsers import SizeLimitedJSONParser
from config.api.throttles import AuthRateThrottle
from config.exceptions import unknown_ids_answer
from experiments.services import link_ratings
from experiments.visitors import visitor_key
from users.authentication import ApiTokenAuthentication
from users.selectors import user_ratings
from users.serializers import (
    RatingsBulkSerializer,
    RatingsBulkUpsertSerializer,
    RatingSerializer,
    RatingUpsertSerializer,
    TokenCredentialsSerializer,
    TokenSerializer,
)
from users.services import api_token_create, api_token_revoke, rating_delete, rating_write, ratings_upsert


class TokenObtainApi(APIView):
    """POST: username and password in (JSON or form-encoded), a new API token out, shown once.
    DELETE: revoke the token the request is authenticated with.

    Credential checks are throttled per client (scope ``auth``) before any password is hashed,
    and locked per account and per client after repeated failures (``users.lockout``).
    """

    parser_classes = (SizeLimitedJSONParser, FormParser)

    def _method(self) -> str | None:
        return getattr(getattr(self, "request", None), "method", None)

    def get_authenticators(self) -> list:
        return [] if self._method() == "POST" else [ApiTokenAuthentication()]

    def get_permissions(self) -> list:
        return [AllowAny()] if self._method() == "POST" else [IsAuthenticated()]

    def get_throttles(self) -> list:
        return [AuthRateThrottle()] if self._method() == "POST" else super().get_throttles()

    @extend_schema(
        operation_id="auth_token_create",
        examples=examples.TOKEN_CREATE,
        summary="Create an API token (expires after TOKEN_TTL; the key is shown only once)",
        request=TokenCredentialsSerializer,
        responses={201: TokenSerializer, **error_responses(400, 413, 415)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        credentials = TokenCredentialsSerializer(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        token, key = api_token_create(user=credentials.validated_data["user"])
        body = {"token": key, "prefix": token.prefix, "expires_at": token.expires_at}
        return Response(TokenSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="auth_token_revoke",
        summary="Revoke the API token this request is authenticated with",
        request=None,
        responses={204: None, **error_responses(401)},
    )
    def delete(self, request: Request) -> Response:
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyRatingsApi(GenericAPIView):
    permission_classes = (IsAuthenticated,)
    serializer_class = RatingSerializer

    @extend_schema(
        operation_id="me_ratings_list",
        examples=examples.MY_RATINGS,
        summary="List my ratings (most recent first)",
        responses={200: RatingSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(user_ratings(user=request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="me_ratings_upsert",
        examples=examples.RATE,
        summary="Rate a painting (a second rating replaces the first)",
        request=RatingUpsertSerializer,
        responses={
            201: OpenApiResponse(RatingSerializer, description="First rating of this painting."),
            200: OpenApiResponse(RatingSerializer, description="An earlier rating was replaced."),
            **error_responses(400, 401, 413, 415),
        },
    )
    def post(self, request: Request) -> Response:
        rating_in = RatingUpsertSerializer(data=request.data)
        rating_in.is_valid(raise_exception=True)
        painting_id = rating_in.validated_data["painting"]
        with unknown_ids_answer(status.HTTP_400_BAD_REQUEST, field="painting"):
            written = rating_write(
                user=request.user, painting_external_id=painting_id, value=rating_in.validated_data["value"]
            )
        # a rating of a painting an A/B list recommended is linked to that list (experiments)
        link_ratings(
            visitor_key=visitor_key(user=request.user),
            ratings={written.rating.painting_id: written.rating.value},
        )
        return Response(
            self.get_serializer(written.rating).data,
            status=status.HTTP_201_CREATED if written.created else status.HTTP_200_OK,
        )


class MyRatingsBulkApi(APIView):
    """Several ratings in one request, stored all or nothing (an app syncing offline ratings)."""

    permission_classes = (IsAuthenticated,)

    def _upsert(self, request: Request) -> Response:
        ratings_in = RatingsBulkUpsertSerializer(data=request.data)
        ratings_in.is_valid(raise_exception=True)
        with unknown_ids_answer(status.HTTP_400_BAD_REQUEST):
            ratings = ratings_upsert(user=request.user, ratings=ratings_in.validated_data["ratings"])
        link_ratings(
            visitor_key=visitor_key(user=request.user), ratings={r.painting_id: r.value for r in ratings}
        )
        body = {"count": len(ratings), "results": ratings}
        return Response(RatingsBulkSerializer(body, context={"request": request}).data)

    @extend_schema(
        operation_id="me_ratings_bulk_upsert",
        examples=examples.RATE_MANY,
        summary="Rate several paintings at once (all or nothing)",
        request=RatingsBulkUpsertSerializer,
        responses={200: RatingsBulkSerializer, **error_responses(400, 401, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        return self._upsert(request)

    @extend_schema(
        operation_id="me_ratings_bulk_replace",
        examples=examples.RATE_MANY,
        summary="Rate several paintings at once (all or nothing; same as POST)",
        request=RatingsBulkUpsertSerializer,
        responses={200: RatingsBulkSerializer, **error_responses(400, 401, 413, 415)},
    )
    def put(self, request: Request) -> Response:
        return self._upsert(request)


class MyRatingDeleteApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="me_ratings_destroy",
        summary="Delete my rating of a painting",
        parameters=[PAINTING_ID_PATH],
        responses={204: None, **error_responses(401, 404)},
    )
    def delete(self, request: Request, external_id: str) -> Response:
        rating_delete(user=request.user, painting_external_id=external_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
