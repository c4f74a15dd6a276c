"""Request parsers of the API."""

from __future__ import annotations

import codecs
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json


class _Duplicated(dict):
    """A JSON object in which ``key`` occurred more than once (found while parsing)."""

    def __init__(self, pairs: list[tuple[str, Any]], key: str) -> None:
        super().__init__(pairs)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a dict, marked when a key repeats (the decoder would keep the last
    value silently; where the object sits is known only once the whole document is read)."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _Duplicated(pairs, key)
        seen.add(key)
    return dict(pairs)


def _first_duplicate(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path of the first repeated key in the parsed document, or None."""
    if isinstance(value, _Duplicated):
        return (*path, value.key)
    if isinstance(value, dict):
        children: Any = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return None
    for key, child in children:
        found = _first_duplicate(child, (*path, str(key)))
        if found is not None:
            return found
    return None


class SizeLimitedJSONParser(JSONParser):
    """DRF's JSON parser with ``DATA_UPLOAD_MAX_MEMORY_SIZE`` enforced and repeated keys refused.

    Django checks that limit only when ``request.body`` is read; DRF's parser reads the raw
    stream instead, so without this an API body of any size would be read into memory. Raising
    Django's own ``RequestDataTooBig`` keeps one 413 path in the exception handler. A body nested
    deeper than the JSON decoder's recursion limit is malformed input (400), not a server error.
    A key given twice in one object (``{"n": 1, "n": 50}``) is a 400 naming it (dotted path),
    where the decoder would silently keep the last value.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            request = parser_context.get("request")
            meta = request.META if request is not None else {}
            try:
                declared = int(meta.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        else:
            data = stream.read()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(data, encoding)
            parse_constant = json.strict_constant if self.strict else None
            parsed = json.loads(text, parse_constant=parse_constant, object_pairs_hook=_object)
            duplicate = _first_duplicate(parsed)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc
        if duplicate is not None:
            field = ".".join(duplicate)
            raise ValidationError({field: f"Duplicate key {field!r} in the JSON body."})
        return parsed
