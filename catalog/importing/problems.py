"""One reportable problem with one row of a manifest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """``row`` counts like a spreadsheet (the CSV header is row 1) or, in a JSON manifest, is
    the 1-based position of the record; ``None`` for problems with the file as a whole."""

    row: int | None
    field: str
    reason: str
    source: str = ""
    external_id: str = ""

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        prefix = f"{self.source}: " if self.source else ""
        column = f", {self.field}" if self.field else ""
        return f"{prefix}{where}{column}: {self.reason}"
