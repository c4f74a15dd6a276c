"""URL converters of the API."""

from catalog.models import EXTERNAL_ID_RE


class ExternalIdConverter:
    """URL converter for painting ids: only what ``catalog.models.EXTERNAL_ID_RE`` allows."""

    regex = EXTERNAL_ID_RE[1:-1]

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
