"""Request and response serializers of the search endpoints (text query, uploaded image)."""

from __future__ import annotations

from rest_framework import serializers

from catalog.serializers import CollectionField, PaintingSummarySerializer, ResultCountField
from config.api.fields import StrictCharField
from recsys.serving.search import MAX_QUERY_LENGTH


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
