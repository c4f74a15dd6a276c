"""The offline evaluation's numbers (``manage.py evaluate``) for the arms' recommenders.

The evaluation writes JSON to ``settings.EVALUATION_RESULTS_PATH`` (default
``VAR_DIR/evaluation/latest.json``). Rows are read from ``{"results": [{"recommender": ..., metric:
value, ...}]}``, a list of such rows, or ``{"recommenders": {name: {metric: value}}}``; only
numbers and short strings are shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings

MISSING = "no offline evaluation yet — run manage.py evaluate"


def results_path() -> Path:
    default = Path(settings.VAR_DIR) / "evaluation" / "latest.json"
    return Path(getattr(settings, "EVALUATION_RESULTS_PATH", default))


def _rows(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("recommenders"), dict):
        return [
            {"recommender": name, **values}
            for name, values in data["recommenders"].items()
            if isinstance(values, dict)
        ]
    if isinstance(data, dict):
        data = data.get("results", [])
    if isinstance(data, list):
        return [row for row in data if isinstance(row, dict)]
    return []


def offline_rows(recommenders: Iterable[str]) -> tuple[list[dict[str, Any]], str | None]:
    """The evaluation's rows for ``recommenders`` and a note (``MISSING`` or a read problem)."""
    path = results_path()
    if not path.is_file():
        return [], MISSING
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return [], f"offline evaluation at {path} could not be read: {exc}"
    wanted = set(recommenders)
    rows = []
    for row in _rows(data):
        name = row.get("recommender") or row.get("engine") or row.get("name")
        if name in wanted:
            rows.append(
                {
                    key: value
                    for key, value in row.items()
                    if isinstance(value, int | float | str)
                    and not (isinstance(value, str) and len(value) > 80)
                }
                | {"recommender": name}
            )
    return rows, None if rows else f"the offline evaluation ({path.name}) has no rows for these recommenders"
