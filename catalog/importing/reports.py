"""What an import did, per manifest and in total (the command prints it, ``ImportRun`` stores it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.importing.problems import Problem


@dataclass(slots=True)
class SourceReport:
    name: str
    path: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    excluded: int = 0  # rows the mapping's [rows] filter leaves out (not problems)
    removed: int = 0  # paintings deleted because their row is now excluded
    excluded_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"problems {len(self.problems)}" + _filtered(self.excluded, self.removed)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "mapping": self.name, "path": self.path, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "skipped": self.skipped, "problems": len(self.problems),
            "excluded": self.excluded, "removed": self.removed,
        }  # fmt: skip


def _filtered(excluded: int, removed: int) -> str:
    """The summary's tail when a mapping filters rows (nothing when none did)."""
    return f", excluded {excluded}, removed {removed}" if excluded or removed else ""


@dataclass(slots=True)
class ImportReport:
    run_id: int
    sources: list[SourceReport]
    changed_ids: list[int] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(s.created for s in self.sources)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.sources)

    @property
    def unchanged(self) -> int:
        return sum(s.unchanged for s in self.sources)

    @property
    def skipped(self) -> int:
        return sum(s.skipped for s in self.sources)

    @property
    def problems(self) -> list[Problem]:
        return [p for s in self.sources for p in s.problems]

    @property
    def excluded(self) -> int:
        return sum(s.excluded for s in self.sources)

    @property
    def removed(self) -> int:
        return sum(s.removed for s in self.sources)

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"problems {len(self.problems)}" + _filtered(self.excluded, self.removed)
        )
