"""``config.api.serializers.CopiedFieldsSerializer``: shallow field copies validate exactly as
DRF's rebuilt fields do, and leave the declared fields untouched."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers

from config.api.fields import QUERY
from config.api.serializers import CopiedFieldsSerializer
from config.exceptions import ApplicationError
from recsys.api.request_serializers import AnonymousRecommendationSerializer, RecommendationQuerySerializer


class RebuiltFieldsBody(AnonymousRecommendationSerializer):
    """The same body with DRF's own fields: deep-copied (rebuilt) for every instance."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return serializers.Serializer.get_fields(self)


class RebuiltFieldsQuery(RecommendationQuerySerializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return serializers.Serializer.get_fields(self)


def _outcome(serializer: serializers.Serializer) -> tuple[Any, ...]:
    try:
        valid = serializer.is_valid()
    except ApplicationError as exc:  # a rule shared with the web forms raises the project's own error
        return type(exc), str(exc), exc.field
    return valid, (dict(serializer.validated_data) if valid else serializer.errors)


BODIES = [
    {"ratings": {"aic-1": 5, "tate-N02978": 1}},
    {"ratings": {"aic-1": 5}, "recommender": "tfidf", "n": 12, "mmr_lambda": 0.7, "exclude": ["aic-2"]},
    {"ratings": {"aic-1": 5}, "engine": "lda", "weighting": "centered", "visitor": "v-1"},
    {"ratings": {"aic-1": 5}, "exclude": ["aic-2", "not an id!", 7]},
    {"ratings": {"aic-1": 6, "bad id": 3}},
    {"ratings": {"aic-1": 5}, "n": "9", "mmr_lambda": "0.5", "weighting": "nope"},
    {"ratings": {"aic-1": 5}, "recommender": "a", "engine": "b"},
    {"ratings": {}, "story_group": "Not A Slug", "artist": 1.5},
]


@pytest.mark.parametrize("body", BODIES)
def test_a_body_validates_as_with_rebuilt_fields(body: dict[str, Any]) -> None:
    assert _outcome(AnonymousRecommendationSerializer(data=body)) == _outcome(RebuiltFieldsBody(data=body))


@pytest.mark.parametrize(
    "query",
    [{"n": "5", "exclude": "aic-1,aic-2"}, {"n": "5.0"}, {"exclude": "aic-1,bad id"}, {"mmr_lambda": "0.25"}],
)
def test_a_query_string_validates_as_with_rebuilt_fields(query: dict[str, str]) -> None:
    copied = RecommendationQuerySerializer(data=query, context={QUERY: True})
    rebuilt = RebuiltFieldsQuery(data=query, context={QUERY: True})
    assert _outcome(copied) == _outcome(rebuilt)


def test_the_query_string_context_reaches_the_copied_fields() -> None:
    serializer = RecommendationQuerySerializer(data={"n": "5"}, context={QUERY: True})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["n"] == 5
    assert not RecommendationQuerySerializer(data={"n": "5"}).is_valid()  # a body's "5" is text


def test_validation_leaves_the_declared_fields_unbound_and_unchanged() -> None:
    declared = AnonymousRecommendationSerializer._declared_fields
    validators = {name: list(field.validators) for name, field in declared.items()}
    for body in BODIES:
        _outcome(AnonymousRecommendationSerializer(data=body))
    for name, field in declared.items():
        assert field.parent is None and field.field_name is None, name
        assert field.validators == validators[name], name
    assert declared["exclude"].child.parent is declared["exclude"]


def test_each_instance_has_its_own_fields_and_a_list_child_under_its_own_copy() -> None:
    first = AnonymousRecommendationSerializer(data=BODIES[0])
    second = AnonymousRecommendationSerializer(data=BODIES[0])
    assert first.fields["ratings"] is not second.fields["ratings"]
    exclude = first.fields["exclude"]
    assert exclude.parent is first and exclude.field_name == "exclude"
    assert exclude.child is not second.fields["exclude"].child
    assert exclude.child.parent is exclude and exclude.child.root is first


def test_a_nested_serializer_field_is_deep_copied_even_once_its_fields_were_read() -> None:
    class Inner(serializers.Serializer):
        name = serializers.CharField()

    class Outer(CopiedFieldsSerializer):
        inner = Inner()

    prototype = Outer._declared_fields["inner"]
    assert "name" in prototype.fields  # cached on the prototype (as a schema or a shell may do)
    first, second = Outer(data={"inner": {"name": "a"}}), Outer(data={"inner": {"name": "b"}})
    inner = first.fields["inner"]
    assert inner.fields["name"] is not prototype.fields["name"]
    assert inner.fields["name"] is not second.fields["inner"].fields["name"]
    assert inner.fields["name"].parent is inner
    assert first.is_valid() and second.is_valid()
    assert (first.validated_data["inner"]["name"], second.validated_data["inner"]["name"]) == ("a", "b")
