"""Request parsers of the API."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SizeLimitedJSONParser(JSONParser):
    """DRF's JSON parser with ``DATA_UPLOAD_MAX_MEMORY_SIZE`` enforced.

    Django checks that limit only when ``request.body`` is read; DRF's parser reads the raw
    stream instead, so without this an API body of any size would be read into memory. Raising
    Django's own ``RequestDataTooBig`` keeps one 413 path in the exception handler. A body nested
    deeper than the JSON decoder's recursion limit is malformed input (400), not a server error.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            request = (parser_context or {}).get("request")
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
            stream = io.BytesIO(data)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc
