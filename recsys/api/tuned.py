"""``/api/v1/tuned/``: the tuned spaces' status, retraining and roll-back (staff only).

* ``GET /api/v1/tuned/``: the active version (training data size, last train time, loss curve),
  the training in progress, the latest versions, the feedback there is now and whether a
  retraining is due;
* ``POST /api/v1/tuned/train/``: queue a training (202; 409 ``not_enough_feedback`` or
  ``run_in_progress``);
* ``POST /api/v1/tuned/rollback/``: activate the version trained before the active one (200;
  409 ``no_previous_version``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import examples
from config.api.openapi import error_responses
from recsys.build.tuned import feedback_summary, tuned_due, tuned_request, tuned_rollback
from recsys.models import TunedSpace

#: versions listed by the status endpoint
LATEST = 10


class TunedVersionSerializer(serializers.Serializer):
    version = serializers.CharField()
    status = serializers.ChoiceField(choices=TunedSpace.Status.values)
    is_active = serializers.BooleanField()
    engines = serializers.DictField(
        child=serializers.CharField(), help_text="Engine -> base artefact version."
    )
    visitors = serializers.IntegerField(source="n_visitors", help_text="Visitors whose feedback trained it.")
    ratings = serializers.IntegerField(source="n_ratings", help_text="Ratings and clicks it was trained on.")
    triplets = serializers.IntegerField(source="n_triplets")
    trigger = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True, help_text="Last train time.")
    activated_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()
    loss_curve = serializers.SerializerMethodField(
        help_text="Engine -> mean triplet loss per 1/20 of the steps."
    )

    def get_loss_curve(self, obj: TunedSpace) -> dict[str, list[float]]:
        engines = (obj.manifest.get("training") or {}).get("engines", {})
        return {engine: info.get("loss_curve", []) for engine, info in engines.items()}


class FeedbackSerializer(serializers.Serializer):
    visitors = serializers.IntegerField()
    usable_visitors = serializers.IntegerField(
        help_text="Visitors who liked two paintings and rated one 1-3."
    )
    ratings = serializers.IntegerField()
    sources = serializers.DictField(child=serializers.IntegerField())
    min_visitors = serializers.IntegerField(help_text="RECSYS_TUNED_MIN_VISITORS.")


class TunedStatusSerializer(serializers.Serializer):
    active = TunedVersionSerializer(allow_null=True)
    training = TunedVersionSerializer(allow_null=True, help_text="The queued or running training.")
    versions = TunedVersionSerializer(many=True)
    feedback = FeedbackSerializer()
    retrain_due = serializers.CharField(allow_null=True, help_text="Why a training is due now, or null.")
    engines = serializers.ListField(child=serializers.CharField(), help_text="RECSYS_TUNED_ENGINES.")


def _status_body() -> dict[str, Any]:
    latest = list(TunedSpace.objects.order_by("-created_at", "-id")[:LATEST])
    return {
        "active": TunedSpace.objects.filter(is_active=True).first(),
        "training": TunedSpace.objects.filter(status__in=TunedSpace.OPEN_STATUSES).first(),
        "versions": latest,
        "feedback": feedback_summary(),
        "retrain_due": tuned_due(),
        "engines": list(settings.RECSYS_TUNED_ENGINES),
    }


class TunedStatusApi(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="tuned_retrieve",
        summary="Tuned spaces: active version, training data, last train time (staff)",
        responses={200: TunedStatusSerializer, **error_responses(401, 403)},
        examples=examples.TUNED_STATUS,
    )
    def get(self, request: Request) -> Response:
        return Response(TunedStatusSerializer(_status_body()).data)


class TunedTrainApi(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="tuned_train",
        summary="Queue a training of the tuned spaces on all feedback (staff)",
        request=None,
        responses={202: TunedVersionSerializer, **error_responses(401, 403, 409)},
        examples=examples.TUNED_TRAIN,
    )
    def post(self, request: Request) -> Response:
        row = tuned_request(trigger="api")
        row.refresh_from_db()  # an eager task (no worker) has trained it already
        return Response(TunedVersionSerializer(row).data, status=status.HTTP_202_ACCEPTED)


class TunedRollbackApi(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="tuned_rollback",
        summary="Activate the tuned version trained before the active one (staff)",
        request=None,
        responses={200: TunedVersionSerializer, **error_responses(401, 403, 409)},
        examples=examples.TUNED_ROLLBACK,
    )
    def post(self, request: Request) -> Response:
        return Response(TunedVersionSerializer(tuned_rollback()).data)
