"""API plumbing that is a view: the JSON 404 for unknown /api/v1/ paths and the painting-id
URL converter."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from catalog.models import EXTERNAL_ID_RE


@extend_schema(exclude=True)
class UnknownEndpointApi(APIView):
    """Every /api/v1/ path no route matches: a 404 in the API's error body, not Django's HTML page."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound(f"No API endpoint at {request.path}.")


class ExternalIdConverter:
    """URL converter for painting ids: only what ``catalog.models.EXTERNAL_ID_RE`` allows."""

    regex = EXTERNAL_ID_RE[1:-1]

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
