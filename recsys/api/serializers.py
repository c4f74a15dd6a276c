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
from recsys.algorithms.scoring import WEIGHTINGS
from recsys.serving.definitions import KINDS, DefinitionError, check_mmr_lambda
from recsys.serving.explanations import Reason, reasons
from recsys.serving.results import RecommendationResult
from recsys.serving.search import MAX_QUERY_LENGTH
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
    """``mmr_lambda``: a JSON number (a decimal such as ``0.7`` in a query string), 0 < lambda <= 1,
    checked by the recommender definitions' own rule (``recsys.serving.definitions``)."""

    default_error_messages = {
        "invalid": "Expected a number, got {value}.",
        "range": "mmr_lambda {message}",
    }

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, str) and in_query_string(self) and _DECIMAL.fullmatch(data):
            data = float(data)
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail("invalid", value=repr(data)[:50])
        try:
            return check_mmr_lambda(data)
        except DefinitionError as exc:
            self.fail("range", message=exc.message)

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
        help_text="Rating weighting: 'demote' (likes pull, dislikes only push down), 'centered' "
        "(eq. 1) or 'minmax' (eq. 1 as in the paper); default RECSYS_WEIGHTING. A recommender "
        "that sets its own (the paper:* ones) keeps it.",
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


class ReasonSerializer(serializers.Serializer):
    painting = serializers.CharField(help_text="The rated painting (id).")
    title = serializers.CharField(help_text="The rated painting's title.")
    rating = serializers.IntegerField()
    effect = serializers.ChoiceField(
        choices=["pulled_up", "pushed_down"],
        help_text="pulled_up: a liked painting (4-5) this one is close to ('Because you liked ...'); "
        "pushed_down: a disliked one (1-2) that ranked it lower. Nothing else explains.",
    )


class RecommendedPaintingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = serializers.FloatField(
        help_text="The recommender's internal ranking value (its own scale, may be negative): for "
        "ordering and diagnostics, not for showing to visitors; show `rank` and `reasons`."
    )
    painting = PaintingSummarySerializer()
    reasons = ReasonSerializer(
        many=True, help_text="What to tell a visitor: the liked paintings that pulled it up, first."
    )
    explanation = ExplanationSerializer()


class ExposureSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        help_text="POST answers about this list to /api/v1/experiments/exposures/{id}/feedback/."
    )
    experiment = serializers.IntegerField(source="experiment_id", help_text="The experiment's id.")
    arm = serializers.CharField(source="arm.name", help_text="The arm (its name) that answered.")


class OverrideSerializer(serializers.Serializer):
    requested = serializers.JSONField(help_text="What the request asked for (null: the default).")
    applied = serializers.JSONField(help_text="What the experiment's arm used instead.")


class RecommendationsSerializer(serializers.Serializer):
    recommender = serializers.CharField(help_text="The recommender that answered.")
    engine = serializers.CharField(help_text="Deprecated: the same as `recommender`.")
    kind = serializers.ChoiceField(choices=list(KINDS))
    mode = serializers.CharField(allow_null=True, help_text="'partial' or 'total' for late fusion.")
    mmr_lambda = serializers.FloatField(
        allow_null=True, help_text="The MMR trade-off applied (null: the recommender's own order)."
    )
    weighting = serializers.CharField()
    applied_weighting = serializers.DictField(
        child=serializers.CharField(), help_text="Engine -> weighting actually applied."
    )
    versions = serializers.DictField(child=serializers.CharField(), help_text="Engine -> artefact version.")
    n = serializers.IntegerField(
        help_text="The list length the recommender was asked for: the request's `n` unless an A/B "
        "experiment set its own (see `experiment_overrides`)."
    )
    experiment_overrides = serializers.DictField(
        child=OverrideSerializer(),
        help_text="Request fields a running A/B experiment changed ('recommender', 'n') -> what was "
        "requested and what was applied; empty when the request was answered as sent.",
    )
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
    n: int,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """``RecommendationsSerializer`` data of ``result``, its paintings (recommended, rated and
    ignored) hydrated in ``paintings``; ``n`` the list length asked for and ``overrides`` the
    request fields an experiment changed (``{"n": {"requested": 9, "applied": 12}}``). A
    recommended painting missing there (deleted from the catalogue after the artefact was built)
    is left out; an explaining one keeps its id."""
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

    def reason(r: Reason) -> dict[str, Any]:
        row = paintings.get(r.painting_id)
        return {
            "painting": row.external_id if row is not None else r.external_id,
            "title": row.title if row is not None else "",
            "rating": r.rating,
            "effect": r.effect,
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
        "n": int(n),
        "experiment_overrides": {str(field): dict(change) for field, change in (overrides or {}).items()},
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
                "reasons": [reason(r) for r in reasons(item.contributions)],
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
        else {"id": exposure.public_id, "experiment": exposure.experiment_id, "arm": exposure.arm.name},
    }


class BuildProgressSerializer(serializers.Serializer):
    """An open build's progress (``recsys.build.progress``)."""

    step = serializers.ChoiceField(
        choices=["queued", "snapshot", "fit", "encode", "pairs", "finalize"], help_text="The step it is in."
    )
    label = serializers.CharField(help_text="The step in plain words.")
    index = serializers.IntegerField(help_text="1-based position of the step (0 while queued).")
    count = serializers.IntegerField(help_text="Steps of this engine's build.")
    done = serializers.IntegerField(help_text="Units of the step done.")
    total = serializers.IntegerField(help_text="Units of the step (0: the step has no count).")
    unit = serializers.CharField(help_text="What is counted, e.g. 'LDA training passes', 'paintings'.")
    fraction = serializers.FloatField(allow_null=True, help_text="done / total; null without a count.")
    eta_s = serializers.FloatField(
        allow_null=True, help_text="Seconds left in the step at its pace so far; null before the first unit."
    )
    elapsed_s = serializers.FloatField(help_text="Seconds since the step began.")


class RecommenderSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=list(KINDS))
    mode = serializers.CharField(allow_null=True)
    engines = serializers.DictField(
        child=serializers.FloatField(), help_text="Engines it uses -> late-fusion weight."
    )
    status = serializers.ChoiceField(choices=["ready", "computing", "unavailable"])
    reason = serializers.CharField(help_text="Why it is not ready; empty when ready.")
    progress = serializers.FloatField(
        allow_null=True, help_text="0..1 of the current build step while computing (see builds)."
    )
    builds = serializers.DictField(
        child=BuildProgressSerializer(),
        help_text="Engine -> its open build: step, count done, time left (a refresh of a ready engine too).",
    )
    eta_s = serializers.FloatField(
        allow_null=True,
        help_text="While computing: seconds until the slowest engine's current step ends; null if unknown.",
    )
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
