"""Experiments API: the visitor's assignment in the running experiment, feedback on a list shown,
a click on a painting of it. A visitor is the signed-in user, else the ``visitor`` id the museum
app sends, scoped to its key or account, or one this server issued to an anonymous caller
(``experiments.visitors``). Lists are named by unguessable public ids; a list that does not
exist and a list shown to someone else both answer the same 404.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.authentication import request_api_key
from config.api import examples
from config.api.openapi import error_responses
from experiments import selectors, services
from experiments.models import QUESTION_TEXT, Exposure
from experiments.serializers import (
    AssignmentOutputSerializer,
    AssignmentQuerySerializer,
    ClickInputSerializer,
    ClickOutputSerializer,
    FeedbackInputSerializer,
    FeedbackOutputSerializer,
)
from experiments.visitors import issue_visitor_id, visitor_key
from users.services import resolve_paintings


def _visitor_key(request: Request, data: dict) -> str:
    app = request_api_key(request)
    return visitor_key(user=request.user, visitor_id=data.get("visitor"), app_id=app.pk if app else None)


def _exposure(exposure_id: uuid.UUID, key: str) -> Exposure:
    return selectors.visitor_exposure(exposure_id=exposure_id, visitor_key=key)


class AssignmentApi(APIView):
    """GET: the arm (recommender) to show this visitor now in the running experiment; joins it on
    first call (the same answer on every call until feedback moves a within-subjects participant on).
    An anonymous caller that sends no ``visitor`` while an experiment runs is issued one
    (``visitor`` in the answer) to send with every later call."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="experiments_assignment",
        summary="The arm to show this visitor in the running A/B experiment",
        description=(
            "Joins the running experiment on the first call. A museum app sends its own `visitor` "
            "ids with its API key (scoped to the key); a caller without key or account sends "
            "none and gets a server-issued `visitor` to send with every later call (a made-up one "
            "is refused with 400). Null `experiment` when none runs; null `arm` once every step "
            "of a within-subjects sequence is answered."
        ),
        parameters=[AssignmentQuerySerializer],
        responses={200: AssignmentOutputSerializer, **error_responses(400)},
        examples=examples.ASSIGNMENT,
    )
    def get(self, request: Request) -> Response:
        query = AssignmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = dict(query.validated_data)
        experiment = selectors.active_experiment()
        anonymous = not request.user.is_authenticated and request_api_key(request) is None
        if experiment is not None and anonymous and data.get("visitor") is None:
            data["visitor"] = issue_visitor_id()
        key = _visitor_key(request, data) if experiment else None
        assignment = (
            services.next_arm_for(experiment=experiment, visitor_key=key) if experiment and key else None
        )
        body = {
            "visitor": data.get("visitor"),
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
        operation_id="experiments_feedback",
        summary="Answer the four questions about one list shown",
        description=(
            "`exposure_id` is the list's public id (`exposure.id` of a recommendation answer). "
            "Only the visitor the list was shown to may answer, once; a list shown to someone "
            "else answers 404 exactly like one that does not exist."
        ),
        request=FeedbackInputSerializer,
        responses={
            201: FeedbackOutputSerializer,
            **error_responses(400, 404),
            409: OpenApiResponse(description="This list already has feedback."),
        },
        examples=examples.EXPERIMENT_FEEDBACK,
    )
    def post(self, request: Request, exposure_id: uuid.UUID) -> Response:
        data = FeedbackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = {k: v for k, v in data.validated_data.items() if k != "visitor"}
        key = _visitor_key(request, data.validated_data)
        feedback = services.record_feedback(
            exposure=_exposure(exposure_id, key), visitor_key=key, answers=answers
        )
        return Response(FeedbackOutputSerializer(feedback).data, status=status.HTTP_201_CREATED)


class ClickApi(APIView):
    """POST: this visitor opened a painting of the list."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="experiments_click",
        summary="Record that the visitor opened a painting of a list shown",
        description="Only the list's own visitor; 404 for anyone else's list, as for an unknown one.",
        request=ClickInputSerializer,
        responses={201: ClickOutputSerializer, **error_responses(400, 404)},
        examples=examples.EXPERIMENT_CLICK,
    )
    def post(self, request: Request, exposure_id: uuid.UUID) -> Response:
        data = ClickInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _visitor_key(request, data.validated_data)
        exposure = _exposure(exposure_id, key)
        (painting_id,) = resolve_paintings([data.validated_data["painting"]], field="painting").values()
        with transaction.atomic():
            click = services.record_click(exposure=exposure, visitor_key=key, painting_id=painting_id)
        return Response(ClickOutputSerializer(click).data, status=status.HTTP_201_CREATED)
