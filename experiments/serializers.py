"""Input and output serializers of the experiments API."""

from __future__ import annotations

from rest_framework import serializers

from catalog.serializers import PaintingIdField
from config.api.fields import StrictCharField
from experiments.models import QUESTION_TEXT
from experiments.visitors import VISITOR_ID_RE, VISITOR_ID_RULE

_VISITOR_HELP = (
    f"The museum app's opaque visitor id ({VISITOR_ID_RULE}); it wins over the signed-in "
    "account. Without it a signed-in user takes part as themselves."
)


class VisitorField(StrictCharField):
    """A visitor id (``experiments.visitors.VISITOR_ID_RE``), a JSON string in a body."""

    default_error_messages = {"bad_visitor": f"A visitor id is {VISITOR_ID_RULE}."}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _VISITOR_HELP)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data)
        if not VISITOR_ID_RE.fullmatch(value):
            self.fail("bad_visitor")
        return value


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
    visitor = serializers.CharField(
        allow_null=True,
        help_text="The visitor id to send with later calls (issued to an anonymous caller that sent none).",
    )
    experiment = ExperimentOutputSerializer(allow_null=True)
    arm = ArmOutputSerializer(allow_null=True, help_text="Null: no experiment, or every step done.")
    step = serializers.IntegerField(allow_null=True)
    steps = serializers.IntegerField(allow_null=True)
    questions = serializers.DictField(child=serializers.CharField(), help_text="Question key -> text.")


class FeedbackOutputSerializer(serializers.Serializer):
    exposure = serializers.UUIDField(source="exposure.public_id")
    accuracy = serializers.IntegerField()
    diversity = serializers.IntegerField()
    novelty = serializers.IntegerField()
    serendipity = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ClickOutputSerializer(serializers.Serializer):
    exposure = serializers.UUIDField(source="exposure.public_id")
    painting = serializers.CharField(source="painting.external_id")
    rank = serializers.IntegerField()
