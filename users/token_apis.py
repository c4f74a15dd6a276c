"""An account's API tokens: listed and revoked by their owner.

Signed in with a token or the session (an app key has no account: 403 ``account_required``).
A token of another account answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.openapi import error_responses
from users.models import ApiToken
from users.selectors import user_api_tokens
from users.serializers import ApiTokenSerializer
from users.services import api_token_revoke_own, api_tokens_revoke_all

_TOKEN_ID = OpenApiParameter(
    "token_id", int, OpenApiParameter.PATH, description="The token's id, from GET /api/v1/auth/tokens/."
)
_EXAMPLE = {
    "id": 12,
    "prefix": "Xq3vB9aT",
    "created_at": "2026-11-30T09:12:00Z",
    "expires_at": "2026-12-30T09:12:00Z",
    "last_used_at": "2026-12-04T18:40:05Z",
    "revoked_at": None,
    "current": True,
}


def _data(tokens: list[ApiToken], request: Request) -> list[dict]:
    current = request.auth.pk if isinstance(request.auth, ApiToken) else None
    return ApiTokenSerializer(
        [
            {
                **{f: getattr(t, f) for f in ApiTokenSerializer().fields if f != "current"},
                "current": t.pk == current,
            }
            for t in tokens
        ],
        many=True,
    ).data


class MyTokensApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="auth_tokens_list",
        summary="My API tokens (live, expired and revoked), newest first",
        responses={200: ApiTokenSerializer(many=True), **error_responses(401, 403)},
        examples=[OpenApiExample("One live token", value=[_EXAMPLE], response_only=True)],
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],
    )
    def get(self, request: Request) -> Response:
        return Response(_data(list(user_api_tokens(user=request.user)), request))

    @extend_schema(
        operation_id="auth_tokens_revoke_all",
        summary="Revoke all my API tokens (sign every app out)",
        request=None,
        responses={204: None, **error_responses(401, 403)},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],
    )
    def delete(self, request: Request) -> Response:
        api_tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyTokenDetailApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="auth_tokens_revoke",
        summary="Revoke one of my API tokens",
        parameters=[_TOKEN_ID],
        request=None,
        responses={200: ApiTokenSerializer, **error_responses(401, 403, 404)},
        examples=[
            OpenApiExample(
                "Revoked", value=_EXAMPLE | {"revoked_at": "2026-12-04T19:00:00Z"}, response_only=True
            )
        ],
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],
    )
    def delete(self, request: Request, token_id: int) -> Response:
        token = api_token_revoke_own(user=request.user, token_id=token_id)
        return Response(_data([token], request)[0])
