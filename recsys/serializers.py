"""Input and output serializers of the recommender API (recommendations, recommenders).

Every rule on the request lives here (``n``, the exclude-list size, weighting, ids' syntax): the
services take validated values. The web forms share the rules (``validate_result_count``,
``users.services.validate_rating_value``)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Painting
from catalog.selectors import EXTERNAL_ID_PATTERN, PaintingSummaryRow
from catalog.serializers import (
    ArtistField,
    CollectionField,
    PaintingIdField,
    PaintingSummarySerializer,
    ResultCountField,
)
from catalog.thumbnails import thumbnail_url
from config.api.fields import StrictCharField, StrictChoiceField, StrictSlugField, in_query_string
from experiments.serializers import VisitorField
from recsys.results import RecommendationResult
from recsys.scoring import WEIGHTINGS
from recsys.search import MAX_QUERY_LENGTH
from users.serializers import RatingsMapField


def _check_exclude_size(ids: list[str]) -> list[str]:
    if len(ids) > settings.RECSYS_MAX_RATINGS:
        raise serializers.ValidationError(
            f"At most {settings.RECSYS_MAX_RATINGS} excluded paintings, got {len(ids)}."
        )
    return ids


# -- input ----------------------------------------------------------------------------------------
_DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,12})?|\.[0-9]{1,12}")


@extend_schema_field({"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1})
class MmrLambdaField(serializers.Field):
    """``mmr_lambda``: a JSON number (a decimal such as ``0.7`` in a query string), 0 < lambda <= 1."""

    default_error_messages = {
        "invalid": "Expected a number, got {value}.",
        "range": "mmr_lambda must be greater than 0 and at most 1 (1 = no re-ranking), got {value}.",
    }

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, str) and in_query_string(self) and _DECIMAL.fullmatch(data):
            data = float(data)
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail("invalid", value=repr(data)[:50])
        if not 0.0 < data <= 1.0:
            self.fail("range", value=data)
        return float(data)

    def to_representation(self, value: float) -> float:
        return value


class RecommendationOptionsSerializer(serializers.Serializer):
    """What both recommendation requests accept besides the ratings.

    ``recommender`` names what scores (see /api/v1/recommenders/). ``engine`` is its deprecated
    alias, still accepted: one of the two may be given, or both with the same value.
    """

    recommender = StrictCharField(
        required=False,
        max_length=50,
        help_text=(
            "Recommender name (see /api/v1/recommenders/); "
            "default: the first ready of RECSYS_DEFAULT_RECOMMENDERS."
        ),
    )
    engine = StrictCharField(
        required=False,
        max_length=50,
        help_text="Deprecated alias of `recommender` (same meaning; do not send both with different values).",
    )
    n = ResultCountField(required=False, default=9)
    story_group = StrictSlugField(
        required=False, max_length=120, help_text="Only recommend paintings of this story group (slug)."
    )
    artist = ArtistField(
        required=False, help_text="Only recommend this artist's paintings: artist id or name."
    )
    collection = CollectionField(required=False)
    weighting = StrictChoiceField(
        choices=list(WEIGHTINGS),
        required=False,
        help_text="Rating weighting: 'centered' or 'minmax' (the paper's); default RECSYS_WEIGHTING.",
    )
    mmr_lambda = MmrLambdaField(
        required=False,
        help_text="More diverse recommendations: MMR re-ranking with this trade-off, 0 < lambda <= 1 "
        "(1 = relevance only, no re-ranking; lower = more diverse); default the recommender's own.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        alias = attrs.pop("engine", None)
        chosen = attrs.get("recommender")
        if alias is not None and chosen is not None and alias != chosen:
            raise serializers.ValidationError(
                {"engine": f"Deprecated alias of recommender, given as {alias!r}, not {chosen!r}."}
            )
        if chosen is None and alias is not None:
            attrs["recommender"] = alias
            self.recommender_field = "engine"
        else:
            self.recommender_field = "recommender"
        return attrs


class RecommendationQuerySerializer(RecommendationOptionsSerializer):
    """GET: the signed-in user's stored ratings are used; options come as query parameters."""

    exclude = StrictCharField(required=False, help_text="Comma-separated painting ids never to recommend.")

    def validate_exclude(self, value: str) -> list[str]:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        for external_id in ids:
            if not EXTERNAL_ID_PATTERN.fullmatch(external_id):
                raise serializers.ValidationError(f"Not a valid painting id: {external_id[:100]}.")
        return _check_exclude_size(ids)


class AnonymousRecommendationSerializer(RecommendationOptionsSerializer):
    """POST: ratings come in the body and are not stored."""

    ratings = RatingsMapField()
    visitor = VisitorField(
        help_text=(
            "The museum app's opaque visitor id (1-64 of A-Z a-z 0-9 _ . : -): while an A/B "
            "experiment runs, this visitor takes part and the list is logged (see `exposure`). "
            "Without it a caller signed in with a token takes part as themselves; others take no part."
        )
    )
    exclude = serializers.ListField(
        child=PaintingIdField(), required=False, help_text="Painting ids never to recommend."
    )

    def validate_exclude(self, value: list[str]) -> list[str]:
        return _check_exclude_size(value)


# -- output ---------------------------------------------------------------------------------------
class ContributionSerializer(serializers.Serializer):
    painting = serializers.CharField(help_text="The rated painting (id).")
    title = serializers.CharField(help_text="The rated painting's title.")
    thumbnail_url = serializers.URLField(
        allow_null=True, help_text="The rated painting's thumbnail (null without an image)."
    )
    rating = serializers.IntegerField()
    weight = serializers.FloatField(
        help_text="w_j, the rating's weight (learned: the ridge coefficient alpha_j)."
    )
    similarity = serializers.FloatField(
        help_text="A_ij, similarity of the rated and the recommended painting (learned: the kernel K_ij)."
    )
    contribution = serializers.FloatField(
        help_text="w_j * A_ij / n, its share of the score (learned: alpha_j * K_ij)."
    )
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


class ExposureSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        help_text="POST answers about this list to /api/v1/experiments/exposures/{id}/feedback/."
    )
    experiment = serializers.IntegerField(source="experiment_id", help_text="The experiment's id.")
    arm = serializers.CharField(source="arm.name", help_text="The arm (its name) that answered.")


class RecommendationsSerializer(serializers.Serializer):
    recommender = serializers.CharField(help_text="The recommender that answered.")
    engine = serializers.CharField(help_text="Deprecated: the same as `recommender`.")
    kind = serializers.ChoiceField(choices=["single", "early", "late", "learned"])
    mode = serializers.CharField(allow_null=True, help_text="'partial' or 'total' for late fusion.")
    mmr_lambda = serializers.FloatField(
        allow_null=True, help_text="The MMR trade-off applied (null: the recommender's own order)."
    )
    weighting = serializers.CharField()
    applied_weighting = serializers.DictField(
        child=serializers.CharField(), help_text="Engine -> weighting actually applied."
    )
    versions = serializers.DictField(child=serializers.CharField(), help_text="Engine -> artefact version.")
    ignored_ratings = serializers.DictField(
        child=serializers.CharField(), help_text="Rated painting id -> why an engine could not use it."
    )
    results = RecommendedPaintingSerializer(many=True)
    exposure = ExposureSerializer(
        allow_null=True,
        help_text="The logged list while an A/B experiment runs and the visitor takes part; else null.",
    )


# -- output without serializer instances (the recommendation hot path) -------------------------
# DRF builds and deep-copies every nested field of ``RecommendationsSerializer`` on each request
# (about 40 field objects per result): more CPU than the recommendation itself. These functions
# give exactly the ``.data`` that serializer gives for the same answer (tests compare the two);
# the serializer classes above stay the documented schema.
Absolute = Callable[[str | None], str | None]


def _urls(row: PaintingSummaryRow) -> tuple[str | None, str | None]:
    """(image URL, thumbnail URL), relative, as ``PaintingSummarySerializer`` finds them."""
    if not row.has_image:
        return None, None
    painting = Painting(
        pk=row.pk,
        external_id=row.external_id,
        image=row.image,
        image_status=row.image_status,
        image_sha256=row.image_sha256,
    )
    return painting.image.url, thumbnail_url(painting)


def painting_summary_data(row: PaintingSummaryRow, absolute: Absolute) -> dict[str, Any]:
    """``PaintingSummarySerializer(painting).data`` of the painting ``row`` describes."""
    image, thumbnail = _urls(row)
    return {
        "id": row.external_id,
        "title": row.title,
        "artist": None if row.artist_id is None else {"id": row.artist_id, "name": row.artist_name},
        "date": row.date_text,
        "year_start": row.year_start,
        "year_end": row.year_end,
        "story_group": (
            None
            if row.story_group_slug is None
            else {"slug": row.story_group_slug, "name": row.story_group_name}
        ),
        "image_url": absolute(image),
        "thumbnail_url": absolute(thumbnail),
    }


def recommendations_data(
    result: RecommendationResult,
    *,
    paintings: Mapping[int, PaintingSummaryRow],
    exposure: Any,
    absolute: Absolute,
) -> dict[str, Any]:
    """``RecommendationsSerializer`` data of ``result``, its paintings (recommended, rated and
    ignored) hydrated in ``paintings``. A recommended painting missing there (deleted from the
    catalogue after the artefact was built) is left out; an explaining one keeps its id."""
    thumbnails: dict[int, str | None] = {}

    def contribution(c: Any) -> dict[str, Any]:
        row = paintings.get(c.painting_id)
        if row is not None and c.painting_id not in thumbnails:
            thumbnail = _urls(row)[1]
            thumbnails[c.painting_id] = absolute(thumbnail) if thumbnail else None
        return {
            "painting": row.external_id if row is not None else str(c.external_id),
            "title": row.title if row is not None else "",
            "thumbnail_url": thumbnails[c.painting_id] if row is not None else None,
            "rating": int(c.rating),
            "weight": float(c.weight),
            "similarity": float(c.similarity),
            "contribution": float(c.contribution),
            "engine": str(c.engine),
        }

    return {
        "recommender": str(result.recommender),
        "engine": str(result.recommender),
        "kind": result.kind,
        "mode": None if result.mode is None else str(result.mode),
        "mmr_lambda": None if result.mmr_lambda is None else float(result.mmr_lambda),
        "weighting": str(result.weighting),
        "applied_weighting": {str(e): str(w) for e, w in result.applied_weighting.items()},
        "versions": {str(e): str(v) for e, v in result.versions.items()},
        "ignored_ratings": {
            paintings[pk].external_id: str(reason)
            for pk, reason in result.ignored_ratings.items()
            if pk in paintings
        },
        "results": [
            {
                "rank": int(item.rank),
                "score": float(item.score),
                "painting": painting_summary_data(paintings[item.painting_id], absolute),
                "explanation": {
                    "contributions": [contribution(c) for c in item.contributions],
                    "engine_ranks": {
                        str(e): None if r is None else int(r) for e, r in item.engine_ranks.items()
                    },
                },
            }
            for item in result.items
            if item.painting_id in paintings
        ],
        "exposure": None
        if exposure is None
        else {"id": exposure.id, "experiment": exposure.experiment_id, "arm": exposure.arm.name},
    }


class RecommenderSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["single", "early", "late", "learned"])
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
    space = serializers.CharField(
        allow_null=True,
        help_text="Recommenders that use the tuned space: 'tuned:<version>' while one is active, else "
        "'untuned' (the reason says why); null for the others.",
    )


# -- search ---------------------------------------------------------------------------------------
class SearchOptionsSerializer(serializers.Serializer):
    """What both searches accept besides the query itself."""

    n = ResultCountField(required=False, default=20)
    engine = StrictCharField(
        required=False,
        max_length=50,
        help_text=(
            "Engine that encodes the query (text: RECSYS_SEARCH_TEXT_ENGINES, e.g. 'minilm' or 'clip'; "
            "image: RECSYS_SEARCH_IMAGE_ENGINES, e.g. 'clip' or 'resnet'); default: the first ready one."
        ),
    )
    collection = CollectionField(required=False)


class SearchQuerySerializer(SearchOptionsSerializer):
    q = StrictCharField(
        max_length=MAX_QUERY_LENGTH,
        help_text="What to look for, in plain words, e.g. 'a stormy sea with a ship'.",
    )


class ImageSearchSerializer(SearchOptionsSerializer):
    image = serializers.FileField(
        help_text="The picture to search with: JPEG, PNG, WebP or GIF, at most RECSYS_SEARCH_IMAGE_MAX_BYTES."
    )


class SearchHitSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = serializers.FloatField(help_text="Cosine of the query and the painting under the engine.")
    painting = PaintingSummarySerializer()


class SearchResultSerializer(serializers.Serializer):
    engine = serializers.CharField(help_text="The engine that encoded the query.")
    version = serializers.CharField(help_text="The artefact searched.")
    query = serializers.ChoiceField(choices=["text", "image"], help_text="What the query was.")
    collection = serializers.CharField(allow_null=True, help_text="The collection searched (null: all).")
    results = SearchHitSerializer(many=True)
