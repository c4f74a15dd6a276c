"""Fixtures for the catalogue tests: a private MEDIA_ROOT, tiny manifests and generated images."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from catalog.importing.mapping import resolve_mapping
from catalog.importing.reports import ImportReport
from catalog.importing.runner import catalogue_import
from catalog.importing.sources import resolve_sources

NATIVE_COLUMNS = ["external_id", "title", "artist", "date", "description", "subjects", "story_group", "image"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Each test stores images in its own folder, so leftover (orphan) files can be counted."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.CATALOG_FETCH_REMOTE_IMAGES = False
    return root


def stored_files(media_root: Path) -> list[str]:
    folder = media_root / "paintings"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def jpeg_bytes(size: tuple[int, int] = (40, 30), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=90)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (40, 30), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 200, 128) if mode == "RGBA" else 128).save(out, "PNG")
    return out.getvalue()


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    columns = columns or NATIVE_COLUMNS
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def problems_of(report: ImportReport) -> list[tuple[int | None, str, str]]:
    """The report's problems as (row, field, reason) tuples."""
    return [(p.row, p.field, p.reason) for p in report.problems]


def painting_row(n: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "external_id": f"p-{n}",
        "title": f"Painting {n}",
        "artist": f"Artist {n % 2}",
        "date": "c. 1710",
        "description": f"A harbour scene number {n}.",
        "subjects": "harbour|boats",
        "story_group": "harbours",
        "image": f"images/p-{n}.jpg",
    }
    row.update(overrides)
    return row


@pytest.fixture
def native_set(tmp_path: Path) -> Callable[..., Path]:
    """Write ``catalogue.csv`` with ``n`` rows (or the given rows) and a JPEG for each row."""

    def make(n: int = 3, rows: list[dict[str, Any]] | None = None, images: bool = True) -> Path:
        folder = tmp_path / "set"
        rows = rows if rows is not None else [painting_row(i) for i in range(1, n + 1)]
        if images:
            for i, row in enumerate(rows):
                if row.get("image"):
                    target = folder / row["image"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if not target.exists():
                        target.write_bytes(jpeg_bytes(color=(20 * i % 255, 100, 50)))
        return write_csv(folder / "catalogue.csv", rows)

    return make


def run_import(path: Path, *, mapping: str | None = None, **kwargs: Any) -> ImportReport:
    sources = resolve_sources(path, mapping=resolve_mapping(mapping) if mapping else None)
    return catalogue_import(sources=sources, **kwargs)
