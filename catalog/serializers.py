"""Input and output serializers of the catalogue API. Paintings are identified by their stable
external id, exposed as ``id``; primary keys never leave the server."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import EXTERNAL_ID_RE, Painting
from catalog.selectors import ELICITATION_SIZE
from catalog.thumbnails import thumbnail_url
from config.api.fields import StrictCharField, StrictSlugField, WholeNumberField, whole_number
from config.api.openapi import EXAMPLE_PAINTING_ID

MAX_BIGINT = 2**63 - 1
EXTERNAL_ID_PATTERN_RE = re.compile(EXTERNAL_ID_RE)
YEAR_LIMIT = 10_000


def validate_result_count(value: int) -> None:
    """The one rule for ``n`` (how many paintings to return): 1..``settings.RECSYS_MAX_N``, read
    per call. A Django validator, so the API's serializers and the web forms share it."""
    if not 1 <= value <= settings.RECSYS_MAX_N:
        raise DjangoValidationError(
            f"Must be a whole number from 1 to {settings.RECSYS_MAX_N}, got {value}.", code="out_of_range"
        )


class PaintingIdField(StrictCharField):
    """A painting's external id as apps send it (format checked; existence is the service's job)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 96)
        kwargs.setdefault("help_text", f"Painting id (external id), e.g. '{EXAMPLE_PAINTING_ID}'.")
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(EXTERNAL_ID_RE, "Not a valid painting id."))


class ResultCountField(WholeNumberField):
    """``n``: how many paintings to return, 1..``settings.RECSYS_MAX_N`` (``validate_result_count``)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", "How many paintings to return (1 to RECSYS_MAX_N, default 100).")
        kwargs.setdefault("validators", [validate_result_count])
        super().__init__(**kwargs)


class CollectionField(StrictCharField):
    """A collection (painting source): its slug, e.g. 'art-institute-of-chicago', or its name
    (any case). Existence is the selectors' job (``catalog.selectors.collection_source``)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault(
            "help_text",
            "Only paintings of this collection (source): its slug, e.g. 'art-institute-of-chicago', "
            "or its name, e.g. 'Art Institute of Chicago' (case-insensitive).",
        )
        super().__init__(**kwargs)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "description": "Artist id (as in `artist.id`)."},
            {"type": "string", "maxLength": 300, "description": "Artist name (case-insensitive, exact)."},
        ]
    }
)
class ArtistField(serializers.Field):
    """An artist by id (a whole number; digits in a query string) or by name (text).

    Returns an ``int`` for an id and a ``str`` for a name; the selectors take either.
    """

    default_error_messages = {
        "invalid": "Expected an artist id (a whole number) or name (text), got {value}.",
        "range": "An artist id is from 1 to {max}.",
        "too_long": "An artist name has at most 300 characters.",
        "null_characters": "An artist name may not contain NUL characters.",
    }

    def to_internal_value(self, data: Any) -> int | str:
        number = whole_number(self, data)
        if number is not None:
            if not 1 <= number <= MAX_BIGINT:
                self.fail("range", max=MAX_BIGINT)
            return number
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid", value=repr(data)[:50])
        if len(data) > 300:
            self.fail("too_long")
        if "\x00" in data:  # PostgreSQL refuses NUL in a query: a 400, as DRF's CharField does
            self.fail("null_characters")
        return data.strip()

    def to_representation(self, value: int | str) -> int | str:
        return value


# -- output ---------------------------------------------------------------------------------------
class ArtistRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StoryGroupRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class PaintingSummarySerializer(serializers.Serializer):
    """What a list, a recommendation or an elicitation card shows of a painting.

    ``image_url``/``thumbnail_url`` are absolute and null when no image is stored; see
    ``catalog.thumbnails`` for how thumbnails are made.
    """

    id = serializers.CharField(source="external_id")
    title = serializers.CharField()
    artist = ArtistRefSerializer(allow_null=True)
    date = serializers.CharField(source="date_text")
    year_start = serializers.IntegerField(allow_null=True)
    year_end = serializers.IntegerField(allow_null=True)
    story_group = StoryGroupRefSerializer(allow_null=True)
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    def _absolute(self, url: str | None) -> str | None:
        request = self.context.get("request")
        if url is None or request is None:
            return url
        return request.build_absolute_uri(url)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image_url(self, painting: Painting) -> str | None:
        return self._absolute(painting.image.url if painting.has_image else None)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail_url(self, painting: Painting) -> str | None:
        return self._absolute(thumbnail_url(painting))


class PaintingDetailSerializer(PaintingSummarySerializer):
    medium = serializers.CharField()
    dimensions = serializers.CharField()
    description = serializers.CharField()
    subjects = serializers.ListField(child=serializers.CharField())
    language = serializers.CharField(
        help_text="Language of title, medium, description and subjects (e.g. 'en'; empty: not stated)."
    )
    translations = serializers.DictField(
        child=serializers.DictField(),
        help_text='The text in other languages: {"fr": {"title": ..., "description": ...}}.',
    )
    image_status = serializers.ChoiceField(choices=Painting.ImageStatus.choices)
    image_width = serializers.IntegerField(allow_null=True)
    image_height = serializers.IntegerField(allow_null=True)
    source_image_url = serializers.CharField(
        source="image_url", help_text="Where the image was (or can be) fetched from; may be empty."
    )
    source = serializers.CharField(help_text="Dataset / museum the record comes from.")
    source_url = serializers.CharField()
    licence = serializers.CharField()
    updated_at = serializers.DateTimeField()


class SimilarPaintingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    similarity = serializers.FloatField()
    painting = PaintingSummarySerializer()


class SimilarPaintingsSerializer(serializers.Serializer):
    painting = serializers.CharField(help_text="The painting the others are similar to.")
    engine = serializers.CharField()
    results = SimilarPaintingSerializer(many=True)


class ElicitationSetSerializer(serializers.Serializer):
    seed = serializers.IntegerField(help_text="Pass it back as ?seed= to get the same set again.")
    strategy = serializers.ChoiceField(
        choices=["story-groups", "clusters", "adaptive"],
        help_text="What chose the set: curated story groups (they win whenever curators flagged "
        "one), clusters of the collection, or adaptive (where the visitor's model is least sure).",
    )
    engine = serializers.CharField(
        allow_null=True, help_text="The engine whose space was clustered (null: story groups)."
    )
    results = PaintingSummarySerializer(many=True)


# -- input ----------------------------------------------------------------------------------------
class PaintingFilterSerializer(serializers.Serializer):
    artist = ArtistField(required=False, help_text="Artist id (as in `artist.id`) or name.")
    story_group = StrictSlugField(required=False, max_length=120, help_text="Story group slug.")
    collection = CollectionField(required=False)
    year_from = WholeNumberField(
        required=False,
        min_value=-YEAR_LIMIT,
        max_value=YEAR_LIMIT,
        help_text="Paintings whose date range ends in or after this year.",
    )
    year_to = WholeNumberField(
        required=False,
        min_value=-YEAR_LIMIT,
        max_value=YEAR_LIMIT,
        help_text="Paintings whose date range starts in or before this year.",
    )
    q = StrictCharField(
        required=False,
        max_length=200,
        help_text="Words that must all occur in the title, artist name or description.",
    )
    has_image = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict) -> dict:
        year_from, year_to = attrs.get("year_from"), attrs.get("year_to")
        if year_from is not None and year_to is not None and year_from > year_to:
            raise serializers.ValidationError({"year_to": "Must not be before year_from."})
        return attrs


class SimilarQuerySerializer(serializers.Serializer):
    engine = StrictCharField(
        max_length=50,
        required=False,
        help_text=(
            "Engine name (one of RECSYS_ENGINES, e.g. 'clip'; see `versions` in /api/v1/recommenders/). "
            "Default: the engine of the default recommender (for a fusion, its highest-weighted "
            "ready engine); the answer's `engine` names it."
        ),
    )
    n = ResultCountField(required=False, default=10)
    collection = CollectionField(required=False)


class ElicitationQuerySerializer(serializers.Serializer):
    seed = WholeNumberField(
        required=False, min_value=0, max_value=MAX_BIGINT, help_text="Omit for a fresh random set."
    )
    per_group = WholeNumberField(
        required=False,
        default=1,
        min_value=1,
        max_value=10,
        help_text="At most this many paintings per group.",
    )
    size = WholeNumberField(
        required=False,
        default=ELICITATION_SIZE,
        min_value=1,
        max_value=50,
        help_text=f"Paintings in the set ({ELICITATION_SIZE}, as in the paper's study).",
    )
    set = WholeNumberField(
        required=False,
        default=0,
        min_value=0,
        max_value=1000,
        help_text="'Show another set': 1, 2, ... with the same seed repeat no painting already shown.",
    )
    strategy = serializers.ChoiceField(
        required=False,
        choices=["story-groups", "clusters", "adaptive"],
        help_text="Without curated story groups: 'clusters' or 'adaptive' (default RECSYS_ELICITATION); "
        "'story-groups' forces the story groups. Curated story groups always win.",
    )
    ratings = StrictCharField(
        required=False,
        max_length=20_000,
        help_text="adaptive: the ratings so far, `id:value` pairs separated by commas "
        "(`pa-1:5,aic-93784:1`); the next set is chosen where the model of them is least sure.",
    )

    def validate_ratings(self, value: str) -> dict[str, int]:
        ratings: dict[str, int] = {}
        for pair in filter(None, (p.strip() for p in value.split(","))):
            painting, _, rating = pair.rpartition(":")
            if not EXTERNAL_ID_PATTERN_RE.fullmatch(painting) or rating not in {"1", "2", "3", "4", "5"}:
                raise serializers.ValidationError(f"Not an `id:1..5` pair: {pair[:100]!r}.")
            if painting in ratings:
                raise serializers.ValidationError(f"Painting {painting!r} is rated twice.")
            ratings[painting] = int(rating)
        if len(ratings) > settings.RECSYS_MAX_RATINGS:
            raise serializers.ValidationError(f"At most {settings.RECSYS_MAX_RATINGS} ratings.")
        return ratings
