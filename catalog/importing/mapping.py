"""Declarative column mappings: how one museum export's columns become painting fields.

A mapping is a small TOML or JSON file (the shipped ones live in ``catalog/mappings/``, which
documents the format in its README). Loading validates it completely, so a typo in a mapping is
one clear error naming the key, before any row is read.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.models import LANGUAGE_RE, TRANSLATION_FIELDS
from config.exceptions import ImportFailed

MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "mappings"

#: Painting fields a mapping may fill, and the options each accepts beside ``column(s)``.
TEXT_OPTIONS = {"join", "blank", "html"}
FIELD_OPTIONS: dict[str, set[str]] = {
    "title": {"blank"},
    "artist": {"blank", "strip_trailing_parentheses"},
    "date": {"blank"},
    "year": {"blank"},
    "year_start": {"blank"},
    "year_end": {"blank"},
    "medium": TEXT_OPTIONS,
    "dimensions": TEXT_OPTIONS | {"height", "width", "unit"},
    "description": TEXT_OPTIONS,
    "subjects": {"split", "blank"},
    "story_group": {"split", "pick", "create", "blank", "century", "min_year"},
    "image": {"blank"},
    "image_url": {"blank"},
    "source_url": {"blank"},
    "source": {"blank"},
    "licence": {"blank"},
}
for _name in TRANSLATION_FIELDS:  # a text field may name its language
    FIELD_OPTIONS[_name] = FIELD_OPTIONS[_name] | {"language"}
TOP_LEVEL_KEYS = {
    "language", "name", "file", "format", "records", "encoding", "delimiter", "source", "licence",
    "unknown_columns", "missing_columns", "id", "fields", "rows",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Where one field comes from. Several columns: the first non-empty one, or all of them
    joined with ``join``; ``split`` turns a cell into a list (subjects, story group).
    ``century`` (story group): the column holds a year and the group is its century; years
    before ``min_year`` stay ungrouped."""

    columns: tuple[str, ...] = ()
    join: str | None = None
    split: str | None = None
    blank: frozenset[str] = frozenset()
    html: bool = False
    strip_trailing_parentheses: bool = False
    pick: str = "first"
    create: bool = True
    century: bool = False
    min_year: int | None = None
    height: str | None = None
    width: str | None = None
    unit: str = ""
    language: str = ""  # text fields: the language of the column(s) ("": the mapping's)

    @property
    def all_columns(self) -> tuple[str, ...]:
        return self.columns + tuple(c for c in (self.height, self.width) if c)


@dataclass(frozen=True, slots=True)
class Mapping:
    name: str
    files: tuple[str, ...]
    id_column: str
    id_prefix: str = ""
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    source: str = ""
    licence: str = ""
    format: str | None = None
    records: str = "paintings"
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    unknown_columns: str = "ignore"
    missing_columns: str = "error"
    origin: str = ""
    #: ``[rows] include``: a row is imported only when every column matches its pattern
    include: tuple[tuple[str, re.Pattern[str]], ...] = ()
    #: ``[rows] exclude``: a row is not imported when any column matches its pattern
    exclude: tuple[tuple[str, re.Pattern[str]], ...] = ()
    language: str = ""  # of the text fields that name none ("": not stated)

    @property
    def main_language(self) -> str:
        """The language of the painting's own text fields: the mapping's ``language``, else the
        one the title names ("": not stated)."""
        title = self.fields.get("title")
        return self.language or (title.language if title is not None else "")

    def text_keys(self, name: str) -> tuple[str | None, dict[str, str]]:
        """For the text field ``name``: the key filling the painting's own field (None: none)
        and the keys filling its translations, by language. A key is ``name`` or
        ``name:<language>``; its language is that suffix, else its ``language`` option, else
        the mapping's; one in ``main_language`` fills the painting's own field."""
        main: str | None = None
        other: dict[str, str] = {}
        for key, spec in self.fields.items():
            base, _, suffix = key.partition(":")
            if base != name:
                continue
            language = suffix or spec.language or self.language
            if not language or language == self.main_language:
                main = key
            else:
                other[language] = key
        return main, other

    def columns(self) -> set[str]:
        """Every column this mapping reads (all must be in the manifest)."""
        cols = {self.id_column}
        for spec in self.fields.values():
            cols.update(spec.all_columns)
        cols.update(column for column, _ in (*self.include, *self.exclude))
        return cols

    def excluded_by(self, values: dict[str, Any]) -> str | None:
        """Why the ``[rows]`` filter leaves this row out ("medium matches ..."), or None."""
        for column, pattern in self.include:
            if not pattern.search(_cell(values, column)):
                return f"{column} does not match {pattern.pattern!r}"
        for column, pattern in self.exclude:
            if pattern.search(_cell(values, column)):
                return f"{column} matches {pattern.pattern!r}"
        return None

    def spec(self, name: str) -> FieldSpec | None:
        return self.fields.get(name)

    def label(self, name: str) -> str:
        """How a problem names a field: its column when it reads one, else the field name."""
        spec = self.fields.get(name)
        return spec.columns[0] if spec is not None and len(spec.columns) == 1 else name

    def format_for(self, path: Path) -> str:
        if self.format:
            return self.format
        return "json" if path.suffix.lower() == ".json" else "csv"


def _cell(values: dict[str, Any], column: str) -> str:
    value = values.get(column)
    return "" if value is None else str(value).strip()


def _row_filters(raw: Any, *, origin: str) -> tuple[tuple[tuple[str, re.Pattern[str]], ...], ...]:
    """``[rows]``: ``include`` and ``exclude``, each a table column -> regular expression
    (Python syntax, searched case-insensitively in the stripped cell; ``^...$`` for a whole cell)."""
    if raw is None:
        return (), ()
    if not isinstance(raw, dict) or set(raw) - {"include", "exclude"}:
        raise _fail(origin, "'rows' accepts only 'include' and 'exclude' tables.")
    out = []
    for key in ("include", "exclude"):
        table = raw.get(key, {})
        if not isinstance(table, dict):
            raise _fail(origin, f"'rows.{key}' must be a table of column -> pattern.")
        compiled = []
        for column, pattern in table.items():
            if not isinstance(pattern, str):
                raise _fail(origin, f"'rows.{key}.{column}' must be a regular expression string.")
            try:
                compiled.append((column, re.compile(pattern, re.IGNORECASE)))
            except re.error as exc:
                message = f"'rows.{key}.{column}' is not a valid regular expression: {exc}."
                raise _fail(origin, message) from exc
        out.append(tuple(compiled))
    return out[0], out[1]


def _field_key_ok(key: str) -> bool:
    """A painting field, or a text field in a named language (``description:fr``)."""
    base, colon, language = key.partition(":")
    if not colon:
        return key in FIELD_OPTIONS
    return base in TRANSLATION_FIELDS and re.fullmatch(LANGUAGE_RE, language) is not None


def _fail(origin: str, message: str) -> ImportFailed:
    return ImportFailed(f"Mapping {origin}: {message}", field="mapping")


def _str_tuple(value: Any, *, origin: str, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
        raise _fail(origin, f"'{key}' must be a column name or a non-empty list of column names.")
    return tuple(items)


def _field_spec(name: str, raw: Any, *, origin: str) -> FieldSpec:
    if isinstance(raw, (str, list)):
        return FieldSpec(columns=_str_tuple(raw, origin=origin, key=f"fields.{name}"))
    if not isinstance(raw, dict):
        raise _fail(origin, f"'fields.{name}' must be a column name, a list or a table.")
    allowed = FIELD_OPTIONS[name.partition(":")[0]] | {"column", "columns"}
    unknown = set(raw) - allowed
    if unknown:
        raise _fail(
            origin,
            f"'fields.{name}' has unknown option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}.",
        )
    columns: tuple[str, ...] = ()
    if "column" in raw or "columns" in raw:
        columns = _str_tuple(raw.get("column", raw.get("columns")), origin=origin, key=f"fields.{name}")
    if name == "dimensions" and not columns and not (raw.get("height") and raw.get("width")):
        raise _fail(origin, "'fields.dimensions' needs a column or both 'height' and 'width'.")
    if name != "dimensions" and not columns:
        raise _fail(origin, f"'fields.{name}' needs 'column' or 'columns'.")
    language = raw.get("language", "")
    if "language" in raw and (not isinstance(language, str) or not re.fullmatch(LANGUAGE_RE, language)):
        raise _fail(origin, f"'fields.{name}.language' must be a language code such as 'en' or 'nl'.")
    if raw.get("pick", "first") not in {"first", "last"}:
        raise _fail(origin, f"'fields.{name}.pick' must be 'first' or 'last'.")
    blank = raw.get("blank", [])
    if not isinstance(blank, list) or not all(isinstance(b, str) for b in blank):
        raise _fail(origin, f"'fields.{name}.blank' must be a list of strings.")
    for key in ("join", "split", "unit", "height", "width"):
        if key in raw and not isinstance(raw[key], str):
            raise _fail(origin, f"'fields.{name}.{key}' must be a string.")
    for key in ("html", "strip_trailing_parentheses", "create", "century"):
        if key in raw and not isinstance(raw[key], bool):
            raise _fail(origin, f"'fields.{name}.{key}' must be true or false.")
    if "min_year" in raw and (not raw.get("century") or type(raw["min_year"]) is not int):
        raise _fail(origin, f"'fields.{name}.min_year' must be a whole number, used with 'century = true'.")
    return FieldSpec(
        columns=columns,
        join=raw.get("join"),
        split=raw.get("split") or None,
        blank=frozenset(b.casefold() for b in blank),
        html=raw.get("html", False),
        strip_trailing_parentheses=raw.get("strip_trailing_parentheses", False),
        pick=raw.get("pick", "first"),
        create=raw.get("create", True),
        century=raw.get("century", False),
        min_year=raw.get("min_year"),
        height=raw.get("height"),
        width=raw.get("width"),
        unit=raw.get("unit", ""),
        language=language,
    )


def mapping_from_dict(raw: dict[str, Any], *, origin: str) -> Mapping:
    """Validate a parsed mapping file; every mistake names its key."""
    unknown = set(raw) - TOP_LEVEL_KEYS
    if unknown:
        raise _fail(origin, f"unknown key(s) {', '.join(sorted(unknown))}.")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(origin, "'name' is required.")
    files = _str_tuple(raw.get("file"), origin=origin, key="file") if raw.get("file") else ()
    if not files:
        raise _fail(origin, "'file' (the manifest file name) is required.")
    ident = raw.get("id")
    if not isinstance(ident, dict) or not isinstance(ident.get("column"), str) or not ident["column"]:
        raise _fail(origin, "'id.column' is required.")
    if set(ident) - {"column", "prefix"}:
        raise _fail(origin, "'id' accepts only 'column' and 'prefix'.")
    prefix = ident.get("prefix", "")
    if not isinstance(prefix, str):
        raise _fail(origin, "'id.prefix' must be a string.")
    fields_raw = raw.get("fields")
    if not isinstance(fields_raw, dict):
        raise _fail(origin, "'fields' (a table of painting field -> column) is required.")
    unknown_fields = {key for key in fields_raw if not _field_key_ok(key)}
    if unknown_fields:
        raise _fail(
            origin,
            f"unknown field(s) {', '.join(sorted(unknown_fields))}; fields are: {', '.join(FIELD_OPTIONS)} "
            f"(text fields also as <field>:<language>, e.g. description:fr).",
        )
    if "title" not in fields_raw:
        raise _fail(origin, "'fields.title' is required.")
    fmt = raw.get("format")
    if fmt not in (None, "csv", "json"):
        raise _fail(origin, "'format' must be 'csv' or 'json'.")
    unknown_columns = raw.get("unknown_columns", "ignore")
    if unknown_columns not in {"ignore", "error"}:
        raise _fail(origin, "'unknown_columns' must be 'ignore' or 'error'.")
    missing_columns = raw.get("missing_columns", "error")
    if missing_columns not in {"error", "empty"}:
        raise _fail(origin, "'missing_columns' must be 'error' or 'empty'.")
    for key in ("source", "licence", "records", "encoding", "delimiter"):
        if key in raw and not isinstance(raw[key], str):
            raise _fail(origin, f"'{key}' must be a string.")
    language = raw.get("language", "")
    if "language" in raw and (not isinstance(language, str) or not re.fullmatch(LANGUAGE_RE, language)):
        raise _fail(origin, "'language' must be a language code such as 'en' or 'nl'.")
    if len(raw.get("delimiter", ",")) != 1:
        raise _fail(origin, "'delimiter' must be one character.")
    include, exclude = _row_filters(raw.get("rows"), origin=origin)
    return Mapping(
        name=name,
        files=files,
        id_column=ident["column"],
        id_prefix=prefix,
        fields={key: _field_spec(key, value, origin=origin) for key, value in fields_raw.items()},
        source=raw.get("source", ""),
        licence=raw.get("licence", ""),
        format=fmt,
        records=raw.get("records", "paintings"),
        encoding=raw.get("encoding", "utf-8-sig"),
        delimiter=raw.get("delimiter", ","),
        unknown_columns=unknown_columns,
        missing_columns=missing_columns,
        origin=origin,
        include=include,
        exclude=exclude,
        language=language,
    )


def load_mapping(path: Path) -> Mapping:
    """Read a mapping file (``.toml`` or ``.json``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportFailed(f"Cannot read mapping file {path}: {exc.strerror}.", field="mapping") from exc
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ImportFailed(
            f"Mapping {path.name} is not valid {path.suffix[1:].upper()}: {exc}", field="mapping"
        ) from exc
    if not isinstance(raw, dict):
        raise ImportFailed(f"Mapping {path.name} must be a table/object.", field="mapping")
    return mapping_from_dict(raw, origin=path.name)


def builtin_mappings() -> dict[str, Mapping]:
    """The mappings shipped in ``catalog/mappings/``, by name."""
    found = {}
    for path in sorted(MAPPINGS_DIR.glob("*.toml")):
        mapping = load_mapping(path)
        found[mapping.name] = mapping
    return found


def resolve_mapping(name_or_path: str) -> Mapping:
    """``--mapping``: a shipped mapping's name or the path of a mapping file."""
    builtins = builtin_mappings()
    if name_or_path in builtins:
        return builtins[name_or_path]
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return load_mapping(path)
    raise ImportFailed(
        f"Unknown mapping {name_or_path!r}: give a mapping file path or one of {', '.join(builtins)}.",
        field="mapping",
    )


def manifest_in(folder: Path, mapping: Mapping) -> Path | None:
    """The mapping's manifest file inside ``folder``, if there is one."""
    for name in mapping.files:
        if (folder / name).is_file():
            return folder / name
    return None
