"""Experiments API: the visitor's assignment in the running experiment, feedback on a list shown,
a click on a painting of it. A visitor is the signed-in user, else the ``visitor`` id the museum
app sends (``experiments.visitors``); only the visitor a list was shown to may answer about it.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.authentication import request_api_key
from config.api.openapi import error_responses
from experiments import selectors, services
from experiments.exceptions import UnknownExposure
from experiments.models import QUESTION_TEXT, Exposure
from experiments.serializers import (
    AssignmentOutputSerializer,
    AssignmentQuerySerializer,
    ClickInputSerializer,
    ClickOutputSerializer,
    FeedbackInputSerializer,
    FeedbackOutputSerializer,
)
from experiments.visitors import visitor_key
from users.services import resolve_paintings


def _visitor_key(request: Request, data: dict) -> str:
    app = request_api_key(request)
    return visitor_key(user=request.user, visitor_id=data.get("visitor"), app_id=app.pk if app else None)


def _exposure(exposure_id: int) -> Exposure:
    exposure = Exposure.objects.select_related("participant").filter(pk=exposure_id).first()
    if exposure is None:
        raise UnknownExposure(f"Unknown exposure {exposure_id}.", field="exposure")
    return exposure


class AssignmentApi(APIView):
    """GET: the arm (recommender) to show this visitor now in the running experiment; joins it on
    first call (the same answer on every call until feedback moves a within-subjects participant on)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[AssignmentQuerySerializer],
        responses={200: AssignmentOutputSerializer, **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        query = AssignmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        key = _visitor_key(request, query.validated_data)
        experiment = selectors.active_experiment()
        assignment = services.next_arm_for(experiment=experiment, visitor_key=key) if experiment else None
        body = {
            "experiment": experiment,
            "arm": assignment.arm if assignment else None,
            "step": assignment.step if assignment else None,
            "steps": assignment.steps if assignment else None,
            "questions": QUESTION_TEXT,
        }
        return Response(AssignmentOutputSerializer(body).data)


class FeedbackApi(APIView):
    """POST: the four 1-5 answers about one list shown to this visitor (once per list)."""

    permission_classes = [AllowAny]

    @extend_schema(
        request=FeedbackInputSerializer,
        responses={
            201: FeedbackOutputSerializer,
            **error_responses(400, 403, 404),
            409: OpenApiResponse(description="This list already has feedback."),
        },
    )
    def post(self, request: Request, exposure_id: int) -> Response:
        data = FeedbackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = {k: v for k, v in data.validated_data.items() if k != "visitor"}
        key = _visitor_key(request, data.validated_data)
        feedback = services.record_feedback(exposure=_exposure(exposure_id), visitor_key=key, answers=answers)
        return Response(FeedbackOutputSerializer(feedback).data, status=status.HTTP_201_CREATED)


class ClickApi(APIView):
    """POST: this visitor opened a painting of the list."""

    permission_classes = [AllowAny]

    @extend_schema(
        request=ClickInputSerializer,
        responses={201: ClickOutputSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request: Request, exposure_id: int) -> Response:
        data = ClickInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _visitor_key(request, data.validated_data)
        exposure = _exposure(exposure_id)
        (painting_id,) = resolve_paintings([data.validated_data["painting"]], field="painting").values()
        with transaction.atomic():
            click = services.record_click(exposure=exposure, visitor_key=key, painting_id=painting_id)
        return Response(ClickOutputSerializer(click).data, status=status.HTTP_201_CREATED)
