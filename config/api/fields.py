"""Strict serializer fields: one rule for whole numbers and text everywhere in the API.

A JSON body carries numbers as JSON numbers and text as JSON strings: ``5`` is a count, ``"5"``,
``5.0`` and ``true`` are not (as ratings have always been checked); ``"Monet"`` is text, ``5``
is not. A query string has only text, so there a whole number is plain decimal digits (an
optional ``-``): ``?n=5``, not ``?n=5.0`` or ``?n=+5``. Serializers learn where their data came
from through ``query_serializer``, which the views use for query parameters.

A mistyped value is rejected rather than coerced, so an app's bug surfaces at once instead of
being read as something else.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from rest_framework import serializers
from rest_framework.request import Request

#: context key set by ``query_serializer``: the data is a query string, every value is text
QUERY = "query_string"
_DIGITS = re.compile(r"-?[0-9]{1,20}")

S = TypeVar("S", bound=serializers.Serializer)


def query_serializer(serializer_class: type[S], request: Request) -> S:
    """``serializer_class`` bound to the request's query parameters, validated (400 naming the
    field otherwise); strict fields accept whole numbers written as digits there."""
    serializer = serializer_class(data=request.query_params.dict(), context={"request": request, QUERY: True})
    serializer.is_valid(raise_exception=True)
    return serializer


def in_query_string(field: serializers.Field) -> bool:
    return bool(field.context.get(QUERY))


def whole_number(field: serializers.Field, data: Any) -> int | None:
    """``data`` as an int when it is one as this field's source writes it (a JSON integer in a
    body, decimal digits in a query string), else None."""
    if isinstance(data, int) and not isinstance(data, bool):
        return data
    if isinstance(data, str) and in_query_string(field) and _DIGITS.fullmatch(data):
        return int(data)
    return None


class WholeNumberField(serializers.IntegerField):
    """An ``IntegerField`` that takes JSON integers only (digits in a query string)."""

    default_error_messages = {"invalid": "Expected a whole number, got {value}."}

    def to_internal_value(self, data: Any) -> int:
        value = whole_number(self, data)
        if value is None:
            self.fail("invalid", value=repr(data)[:50])
        return super().to_internal_value(value)


class StrictCharField(serializers.CharField):
    """A ``CharField`` that takes JSON strings only (DRF's turns 5 into "5")."""

    default_error_messages = {"not_text": "Expected text (a JSON string), got {value}."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_text", value=repr(data)[:50])
        return super().to_internal_value(data)


class StrictSlugField(StrictCharField, serializers.SlugField):
    """A ``SlugField`` that takes JSON strings only."""


class StrictChoiceField(serializers.ChoiceField):
    """A ``ChoiceField`` of text choices that takes JSON strings only."""

    default_error_messages = {"not_text": "Expected text (a JSON string), got {value}."}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("not_text", value=repr(data)[:50])
        return super().to_internal_value(data)
