"""Reading a manifest (CSV or JSON) into numbered rows of raw values.

Structural damage that makes the rest of the file unreadable (not UTF-8, malformed quoting,
invalid JSON, a column the mapping needs but the file lacks) is fatal: ``ImportFailed`` with the
line. Damage confined to one row (wrong number of cells, a record that is not an object, a
column the format does not know) is a ``Problem`` and the import goes on.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.importing.mapping import Mapping
from catalog.importing.problems import Problem
from config.exceptions import ImportFailed


@dataclass(slots=True)
class Manifest:
    path: Path
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]
    problems: list[Problem] = field(default_factory=list)
    #: story groups declared by a JSON manifest (``{"story_groups": [...]}``), slug/name/description
    story_groups: list[dict[str, str]] = field(default_factory=list)
    declares_groups: bool = False


class MissingColumns(ImportFailed):
    """The file is readable but lacks columns the mapping reads (so another mapping may fit)."""


def _fatal(path: Path, message: str) -> ImportFailed:
    return ImportFailed(f"{path.name}: {message}", field="manifest", detail={"file": str(path)})


def _read_text(path: Path, encoding: str) -> str:
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise _fatal(path, f"not {encoding} text (undecodable byte at offset {exc.start}).") from exc
    except OSError as exc:
        raise _fatal(path, f"cannot be read: {exc.strerror}.") from exc


def _read_csv(path: Path, mapping: Mapping) -> Manifest:
    reader = csv.reader(io.StringIO(_read_text(path, mapping.encoding), newline=""),
                        delimiter=mapping.delimiter, strict=True)  # fmt: skip
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise _fatal(path, "is empty (no header row).")
        columns = [h.strip() for h in header]
        seen: set[str] = set()
        for name in columns:
            if name and name in seen:
                raise _fatal(path, f"column {name!r} appears twice in the header.")
            seen.add(name)
        rows: list[tuple[int, dict[str, Any]]] = []
        problems: list[Problem] = []
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(columns):
                problems.append(
                    Problem(number, "", f"has {len(cells)} values but the header has {len(columns)} columns")
                )
                continue
            rows.append((number, {name: value for name, value in zip(columns, cells, strict=True) if name}))
    except csv.Error as exc:
        raise _fatal(path, f"malformed CSV at line {reader.line_num}: {exc}.") from exc
    return Manifest(path=path, columns=[c for c in columns if c], rows=rows, problems=problems)


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted columns ("thumbnail.alt_text") so mappings can name them."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat


def _declared_groups(path: Path, raw: Any) -> tuple[list[dict[str, str]], list[Problem]]:
    if not isinstance(raw, list):
        raise _fatal(path, "'story_groups' must be a list of {slug, name, description} objects.")
    groups, problems = [], []
    for index, item in enumerate(raw):
        where = f"story_groups[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("slug", item.get("name")), str):
            problems.append(Problem(None, where, "a story group needs a 'slug' or a 'name'"))
            continue
        groups.append({k: str(v) for k, v in item.items() if k in {"slug", "name", "description"}})
    return groups, problems


def _read_json(path: Path, mapping: Mapping) -> Manifest:
    try:
        data = json.loads(_read_text(path, mapping.encoding))
    except json.JSONDecodeError as exc:
        raise _fatal(path, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from exc
    groups: list[dict[str, str]] = []
    problems: list[Problem] = []
    declares = False
    records = data
    if isinstance(data, dict):
        if "story_groups" in data:
            declares = True
            groups, problems = _declared_groups(path, data["story_groups"])
        records = data
        for part in mapping.records.split("."):
            records = records.get(part) if isinstance(records, dict) else None
    if not isinstance(records, list):
        raise _fatal(path, f"expected a list of records (or an object with a {mapping.records!r} list).")
    rows: list[tuple[int, dict[str, Any]]] = []
    columns: dict[str, None] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            problems.append(Problem(number, "", "is not an object"))
            continue
        flat = _flatten(record)
        columns.update(dict.fromkeys(flat))
        rows.append((number, flat))
    return Manifest(
        path=path, columns=list(columns), rows=rows, problems=problems, story_groups=groups,
        declares_groups=declares,
    )  # fmt: skip


def read_manifest(path: Path, mapping: Mapping) -> Manifest:
    """Read ``path`` with ``mapping``; check that the file has the columns the mapping reads.

    A CSV header must name every mapped column unless the mapping says ``missing_columns =
    "empty"``. JSON records may leave keys out (an absent key is an empty value). The id and
    title columns must always be there.
    """
    is_json = mapping.format_for(path) == "json"
    manifest = _read_json(path, mapping) if is_json else _read_csv(path, mapping)
    needed = {mapping.id_column, *mapping.fields["title"].columns}
    if not is_json and mapping.missing_columns == "error":
        needed = mapping.columns()
    missing = sorted(needed - set(manifest.columns))
    if missing:
        raise MissingColumns(
            f"{path.name}: "
            f"mapping {mapping.name!r} reads column(s) {', '.join(missing)} which the file lacks; "
            f"its columns are: {', '.join(manifest.columns) or 'none'}.",
            field="manifest",
        )
    if mapping.unknown_columns == "error":
        known = mapping.columns()
        for column in manifest.columns:
            if column not in known:
                manifest.problems.append(
                    Problem(None if is_json else 1, column,
                            f"unknown column (mapping {mapping.name!r} has no field for it)")
                )  # fmt: skip
    return manifest


def detect_mapping(path: Path, candidates: Sequence[Mapping]) -> tuple[Mapping, Manifest]:
    """The one candidate whose file name matches ``path`` and whose columns the file has.

    Several museum exports share a file name (``paintings.csv``), so the header decides; a
    file that fits none or several of them needs ``--mapping``.
    """
    fitting: list[tuple[Mapping, Manifest]] = []
    for mapping in candidates:
        if path.name not in mapping.files:
            continue
        try:
            fitting.append((mapping, read_manifest(path, mapping)))
        except MissingColumns:
            continue  # an unreadable file is an error whichever mapping reads it
    if len(fitting) == 1:
        return fitting[0]
    names = ", ".join(m.name for m, _ in fitting) or "none"
    raise ImportFailed(
        f"Cannot tell which mapping fits {path} (fitting: {names}); pass --mapping NAME or a "
        "mapping file (see catalog/mappings/README.md).",
        field="mapping",
    )
