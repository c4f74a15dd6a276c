"""Input and output serializers of the recommender API (recommendations, similar paintings, engines)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from catalog.selectors import EXTERNAL_ID_PATTERN
from catalog.serializers import MAX_BIGINT, PaintingIdField, PaintingSummarySerializer, ResultCountField
from users.serializers import RatingsMapField


def _check_exclude_size(ids: list[str]) -> list[str]:
    if len(ids) > settings.RECSYS_MAX_RATINGS:
        raise serializers.ValidationError(
            f"At most {settings.RECSYS_MAX_RATINGS} excluded paintings, got {len(ids)}."
        )
    return ids


# -- input ----------------------------------------------------------------------------------------
class RecommendationOptionsSerializer(serializers.Serializer):
    """What both recommendation requests accept besides the ratings."""

    engine = serializers.CharField(
        required=False,
        max_length=50,
        help_text="Recommender name (see /api/v1/engines/); default RECSYS_DEFAULT_RECOMMENDER.",
    )
    n = ResultCountField(required=False, default=9)
    story_group = serializers.SlugField(
        required=False, max_length=120, help_text="Only recommend paintings of this story group (slug)."
    )
    artist = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_BIGINT, help_text="Only recommend this artist's paintings."
    )
    weighting = serializers.CharField(
        required=False,
        max_length=20,
        help_text="Rating weighting: 'centered' or 'minmax' (the paper's); default RECSYS_WEIGHTING.",
    )


class RecommendationQuerySerializer(RecommendationOptionsSerializer):
    """GET: the signed-in user's stored ratings are used; options come as query parameters."""

    exclude = serializers.CharField(
        required=False, help_text="Comma-separated painting ids never to recommend."
    )

    def validate_exclude(self, value: str) -> list[str]:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        for external_id in ids:
            if not EXTERNAL_ID_PATTERN.fullmatch(external_id):
                raise serializers.ValidationError(f"Not a valid painting id: {external_id[:100]}.")
        return _check_exclude_size(ids)


class AnonymousRecommendationSerializer(RecommendationOptionsSerializer):
    """POST: ratings come in the body and are not stored."""

    ratings = RatingsMapField()
    exclude = serializers.ListField(
        child=PaintingIdField(), required=False, help_text="Painting ids never to recommend."
    )

    def validate_exclude(self, value: list[str]) -> list[str]:
        return _check_exclude_size(value)


# -- output ---------------------------------------------------------------------------------------
class ContributionSerializer(serializers.Serializer):
    painting = serializers.CharField(source="external_id", help_text="The rated painting (id).")
    rating = serializers.IntegerField()
    weight = serializers.FloatField(help_text="w_j, the rating's weight.")
    similarity = serializers.FloatField(
        help_text="A_ij, similarity of the rated and the recommended painting."
    )
    contribution = serializers.FloatField(help_text="w_j * A_ij / n, its share of the score.")
    engine = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    contributions = ContributionSerializer(many=True)
    engine_ranks = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Late fusion: each engine's rank of the painting (null: not in its list); {} otherwise.",
    )


class RecommendedPaintingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = serializers.FloatField()
    painting = PaintingSummarySerializer()
    explanation = ExplanationSerializer()


class RecommendationsSerializer(serializers.Serializer):
    engine = serializers.CharField(help_text="The recommender that answered.")
    kind = serializers.ChoiceField(choices=["single", "early", "late"])
    mode = serializers.CharField(allow_null=True, help_text="'partial' or 'total' for late fusion.")
    weighting = serializers.CharField()
    applied_weighting = serializers.DictField(
        child=serializers.CharField(), help_text="Engine -> weighting actually applied."
    )
    versions = serializers.DictField(child=serializers.CharField(), help_text="Engine -> artefact version.")
    ignored_ratings = serializers.DictField(
        child=serializers.CharField(), help_text="Rated painting id -> why an engine could not use it."
    )
    results = RecommendedPaintingSerializer(many=True)


class EngineSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["single", "early", "late"])
    mode = serializers.CharField(allow_null=True)
    engines = serializers.DictField(
        child=serializers.FloatField(), help_text="Engines it uses -> late-fusion weight."
    )
    status = serializers.ChoiceField(choices=["ready", "computing", "unavailable"])
    reason = serializers.CharField(help_text="Why it is not ready; empty when ready.")
    progress = serializers.FloatField(allow_null=True, help_text="0..1 while computing.")
    versions = serializers.DictField(
        child=serializers.CharField(allow_null=True), help_text="Engine -> active artefact version."
    )
    coverage = serializers.FloatField(
        allow_null=True, help_text="Share of the catalogue the active artefacts represent."
    )
    is_default = serializers.BooleanField()
