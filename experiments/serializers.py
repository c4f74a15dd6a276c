"""Input and output serializers of the experiments API."""

from __future__ import annotations

from rest_framework import serializers

from catalog.serializers import PaintingIdField
from experiments.models import QUESTION_TEXT
from experiments.visitors import VISITOR_ID_RE

_VISITOR_HELP = "The app's visitor id (6-64 of A-Z a-z 0-9 _ . -); ignored when signed in."


class VisitorField(serializers.RegexField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _VISITOR_HELP)
        super().__init__(VISITOR_ID_RE.pattern, **kwargs)


def _likert(question: str) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=5, help_text=f"1-5: {QUESTION_TEXT[question]}.")


# -- input ----------------------------------------------------------------------------------------
class AssignmentQuerySerializer(serializers.Serializer):
    visitor = VisitorField()


class FeedbackInputSerializer(serializers.Serializer):
    visitor = VisitorField()
    accuracy = _likert("accuracy")
    diversity = _likert("diversity")
    novelty = _likert("novelty")
    serendipity = _likert("serendipity")


class ClickInputSerializer(serializers.Serializer):
    visitor = VisitorField()
    painting = PaintingIdField()


# -- output ---------------------------------------------------------------------------------------
class ArmOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    recommender = serializers.CharField(help_text="Pass it as `engine` when asking for recommendations.")


class ExperimentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    design = serializers.CharField()
    n_recommendations = serializers.IntegerField()


class AssignmentOutputSerializer(serializers.Serializer):
    experiment = ExperimentOutputSerializer(allow_null=True)
    arm = ArmOutputSerializer(allow_null=True, help_text="Null: no experiment, or every step done.")
    step = serializers.IntegerField(allow_null=True)
    steps = serializers.IntegerField(allow_null=True)
    questions = serializers.DictField(child=serializers.CharField(), help_text="Question key -> text.")


class FeedbackOutputSerializer(serializers.Serializer):
    exposure = serializers.IntegerField(source="exposure_id")
    accuracy = serializers.IntegerField()
    diversity = serializers.IntegerField()
    novelty = serializers.IntegerField()
    serendipity = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ClickOutputSerializer(serializers.Serializer):
    exposure = serializers.IntegerField(source="exposure_id")
    painting = serializers.CharField(source="painting.external_id")
    rank = serializers.IntegerField()
