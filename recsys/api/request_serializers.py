"""Request serializers of the recommendation endpoints (signed-in GET, account-less POST).

Every rule on the request lives here (``n``, the exclude-list size, weighting, ``mmr_lambda``,
ids' syntax): the services take validated values. The web forms share the rules
(``validate_result_count``, ``users.services.validate_rating_value``)."""

from __future__ import annotations

import math
import re
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.selectors import EXTERNAL_ID_PATTERN
from catalog.serializers import ArtistField, CollectionField, PaintingIdField, ResultCountField
from config.api.fields import StrictCharField, StrictChoiceField, StrictSlugField, in_query_string
from config.api.serializers import CopiedFieldsSerializer
from experiments.serializers import VisitorField
from recsys.algorithms.scoring import WEIGHTINGS
from recsys.serving.definitions import DefinitionError, check_mmr_lambda
from users.serializers import RatingsMapField


def _check_exclude_size(ids: list[str]) -> list[str]:
    if len(ids) > settings.RECSYS_MAX_RATINGS:
        raise serializers.ValidationError(
            f"At most {settings.RECSYS_MAX_RATINGS} excluded paintings, got {len(ids)}."
        )
    return ids


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


class RecommendationOptionsSerializer(CopiedFieldsSerializer):
    """What both recommendation requests accept besides the ratings (fields copied, not rebuilt,
    per request: ``config.api.serializers``).

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
