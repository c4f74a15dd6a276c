"""Pagination of the API's list endpoints."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

_DIGITS = re.compile(r"[0-9]{1,6}")


class Pagination(PageNumberPagination):
    """Page-number pagination; apps may ask for pages of 1..``max_page_size`` paintings.

    An invalid ``page_size`` (not digits, 0, above the maximum) is a 400 naming the field, where
    DRF would silently use the default and echo the bad value into ``next``/``previous``.
    """

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: (
                        f"Must be a whole number from 1 to {self.max_page_size}, got {raw[:20]!r}."
                    )
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = f"Results per page, 1 to {self.max_page_size}."
        return parameters
