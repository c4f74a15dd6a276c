"""One manifest row -> one validated ``PaintingRecord`` (no database, no image decoding).

The rule for bad values: a row without a usable id or title is rejected; a bad value in any
other field is reported and that field is left empty, and the row is still imported (unless
the import is ``--strict``). Texts are cleaned the same way for every source (whitespace,
HTML where the mapping says so) and shortened at a word boundary to the column's length.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.html import strip_tags
from django.utils.text import slugify

from catalog.importing.dates import MAX_YEAR, MIN_YEAR, parse_date
from catalog.importing.mapping import FieldSpec, Mapping
from catalog.importing.problems import Problem
from catalog.models import EXTERNAL_ID_RE, TRANSLATION_FIELDS, Artist, Painting, StoryGroup

_ID_RE = re.compile(EXTERNAL_ID_RE)
_BLOCK_TAGS = re.compile(r"<\s*/?\s*(?:br|p|li|div|ol|ul)\b[^>]*>", re.IGNORECASE)
_url_validator = URLValidator(schemes=["http", "https"])
#: a bare Wikidata item id ("Q137855550"): an unresolved label, never a title or a name
WIKIDATA_ID = re.compile(r"^Q[1-9][0-9]*$")
UNTITLED = "Untitled"


def _max_length(name: str, model: type = Painting) -> int:
    return model._meta.get_field(name).max_length


@dataclass(frozen=True, slots=True)
class GroupRef:
    slug: str
    name: str


@dataclass(slots=True)
class PaintingRecord:
    row: int
    external_id: str
    title: str
    artist: str = ""
    date_text: str = ""
    year_start: int | None = None
    year_end: int | None = None
    medium: str = ""
    dimensions: str = ""
    description: str = ""
    subjects: tuple[str, ...] = ()
    group: GroupRef | None = None
    image_path: Path | None = None
    image_ref: str = ""
    image_url: str = ""
    source_url: str = ""
    source: str = ""
    licence: str = ""
    language: str = ""  # of title, medium, description and subjects ("": not stated)
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)  # Painting.translations


# --- text cleaning -------------------------------------------------------------------------


def as_text(value: Any) -> str:
    """A JSON or CSV cell as text (``1921.0`` -> ``"1921"``, lists joined with '; ')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "; ".join(t for t in (as_text(v) for v in value) if t)
    return str(value)


def clean_line(text: str, *, line_sep: str = " ") -> str:
    """Collapse whitespace; several lines become one, joined with ``line_sep``."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return line_sep.join(line for line in lines if line)


def html_to_text(text: str) -> str:
    return html.unescape(strip_tags(_BLOCK_TAGS.sub("\n\n", text)))


def clean_text(text: str, *, is_html: bool = False) -> str:
    """Paragraphs (blank-line separated) of single-spaced text; single line breaks are soft
    wraps (CMA's texts break lines with bare ``\\r``)."""
    if is_html:
        text = html_to_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, ending in '…'."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def humanise(value: str) -> str:
    """A readable story group name: ``eighteenth_century`` -> ``Eighteenth century``."""
    if value == value.lower():
        value = " ".join(value.replace("_", " ").replace("-", " ").split())
    return value[:1].upper() + value[1:]


def group_ref(value: str) -> GroupRef:
    slug = slugify(value)[: _max_length("slug", StoryGroup)].strip("-")
    if not slug:  # e.g. a name in a non-Latin script: a stable slug from its hash
        slug = "group-" + hashlib.sha256(value.encode()).hexdigest()[:10]
    return GroupRef(slug=slug, name=shorten(humanise(value), _max_length("name", StoryGroup)))


def ordinal(number: int) -> str:
    """``1`` -> ``1st``, ``12`` -> ``12th``, ``22`` -> ``22nd``."""
    suffix = "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def century_group(year: int) -> GroupRef:
    """The story group of a year's century: 1650 -> slug ``17th-century``, name ``17th-century
    paintings``; 1700 is still the 17th century, 1701 the 18th; years up to 0 count before the
    common era (-50 -> ``1st-century BCE paintings``)."""
    if year >= 1:
        label = f"{ordinal((year - 1) // 100 + 1)}-century"
    else:
        label = f"{ordinal((max(-year, 1) - 1) // 100 + 1)}-century BCE"
    return GroupRef(slug=slugify(label), name=f"{label} paintings")


def sanitise_id(raw: str, prefix: str) -> str:
    """``prefix`` + ``raw`` with every run of characters an external id cannot hold -> '-'."""
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]+", "-", raw.strip()).strip("-").lstrip("._")
    return f"{prefix}{cleaned}" if cleaned else ""


# --- one row -------------------------------------------------------------------------------


class _Row:
    """Reads one row's values through the mapping, collecting problems as it goes."""

    def __init__(self, number: int, values: dict[str, Any], mapping: Mapping) -> None:
        self.number = number
        self.values = values
        self.mapping = mapping
        self.problems: list[Problem] = []

    def problem(self, field: str, reason: str) -> None:
        self.problems.append(Problem(self.number, field, reason, source=self.mapping.name))

    def cells(self, spec: FieldSpec, *, line_sep: str | None = " ") -> list[str]:
        out = []
        for column in spec.columns:
            raw = self.values.get(column)
            items = raw if isinstance(raw, list) else [raw]
            for item in items:
                text = as_text(item)
                parts = text.split(spec.split) if spec.split else [text]
                for part in parts:
                    cleaned = (
                        clean_text(part, is_html=spec.html)
                        if line_sep is None
                        else clean_line(html_to_text(part) if spec.html else part, line_sep=line_sep)
                    )
                    if cleaned and cleaned.casefold() not in spec.blank:
                        out.append(cleaned)
        return out

    def text(self, name: str, *, line_sep: str | None = " ", limit: int | None = None) -> str:
        spec = self.mapping.spec(name)
        if spec is None:
            return ""
        cells = self.cells(spec, line_sep=line_sep)
        if not cells:
            return ""
        value = cells[0] if spec.join is None else spec.join.join(cells)
        return shorten(value, limit) if limit else value

    def items(self, name: str) -> list[str]:
        spec = self.mapping.spec(name)
        return list(dict.fromkeys(self.cells(spec))) if spec is not None else []

    def year(self, name: str) -> int | None:
        text = self.text(name)
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            self.problem(self.mapping.label(name), f"not a year: {text!r}")
            return None
        if not number.is_integer() or not MIN_YEAR <= number <= MAX_YEAR:
            self.problem(self.mapping.label(name), f"not a year between {MIN_YEAR} and {MAX_YEAR}: {text!r}")
            return None
        return int(number)

    def url(self, name: str) -> str:
        text = self.text(name)
        if not text:
            return ""
        try:
            if len(text) > _max_length(name):
                raise ValidationError("too long")
            _url_validator(text)
        except ValidationError:
            self.problem(
                self.mapping.label(name), f"not a valid http(s) URL of at most {_max_length(name)} characters"
            )
            return ""
        return text


def _dimensions(row: _Row) -> str:
    spec = row.mapping.spec("dimensions")
    if spec is None:
        return ""
    if spec.height and spec.width:
        height, width = (clean_line(as_text(row.values.get(c))) for c in (spec.height, spec.width))
        if not (height and width):
            return ""
        return shorten(f"{height} \u00d7 {width} {spec.unit}".strip(), _max_length("dimensions"))
    return row.text("dimensions", line_sep="; ", limit=_max_length("dimensions"))


def _years(row: _Row, date_text: str) -> tuple[int | None, int | None]:
    """Explicit year columns win; else the parsed date; else a plain ``year`` column. A bad
    explicit year is reported and ignored, so the years come from the date text."""
    if row.mapping.spec("year_start") or row.mapping.spec("year_end"):
        start, end = row.year("year_start"), row.year("year_end")
        if start is not None or end is not None:
            start, end = (start if start is not None else end), (end if end is not None else start)
            if start <= end:
                return start, end
            row.problem(row.mapping.label("year_end"), f"year_end {end} is before year_start {start}")
    start, end = parse_date(date_text)
    if start is None and row.mapping.spec("year"):
        start = end = row.year("year")
    return start, end


def _group(row: _Row) -> GroupRef | None:
    """The row's story group: a (first or last) cell's value, or with ``century`` the century
    of the year in the column (none before ``min_year``; a cell that is not a year is reported)."""
    spec = row.mapping.spec("story_group")
    if spec is None:
        return None
    if spec.century:
        year = row.year("story_group")
        if year is None or (spec.min_year is not None and year < spec.min_year):
            return None
        return century_group(year)
    items = row.items("story_group")
    if not items:
        return None
    return group_ref(items[0] if spec.pick == "first" else items[-1])


def _image_path(row: _Row, base_dir: Path) -> tuple[Path | None, str]:
    ref = row.text("image")
    if not ref:
        return None, ""
    candidate = Path(ref)
    resolved = (base_dir / candidate).resolve()
    if candidate.is_absolute() or not resolved.is_relative_to(base_dir.resolve()):
        row.problem(row.mapping.label("image"), f"image path {ref!r} is outside the manifest's folder")
        return None, ref
    return resolved, ref


def _translations(row: _Row, keys: dict[str, tuple[str | None, dict[str, str]]]) -> dict[str, dict[str, Any]]:
    """``Painting.translations`` of the row: each text field mapped in another language, read as
    the painting's own field is (title and medium on one line, description in paragraphs)."""
    out: dict[str, dict[str, Any]] = {}
    for name, (_, others) in keys.items():
        for language, key in sorted(others.items()):
            if name == "subjects":
                value: Any = row.items(key)
            elif name == "description":
                value = row.text(key, line_sep=None)
            else:
                value = row.text(key, line_sep="; " if name == "medium" else " ", limit=_max_length(name))
            if value:
                out.setdefault(language, {})[name] = value
    return out


def build_record(
    number: int, values: dict[str, Any], *, mapping: Mapping, base_dir: Path
) -> tuple[PaintingRecord | None, list[Problem]]:
    """Validate one row. Returns ``(None, problems)`` when the row cannot be imported."""
    row = _Row(number, values, mapping)
    raw_id = as_text(values.get(mapping.id_column)).strip()
    external_id = sanitise_id(raw_id, mapping.id_prefix)
    if not raw_id:
        row.problem(mapping.id_column, "missing id")
        return None, row.problems
    if not _ID_RE.match(external_id):
        row.problem(
            mapping.id_column,
            f"id {raw_id!r} does not make a valid external id (letters, digits, '_', '.', '-', "
            f"at most {_max_length('external_id')} characters with the prefix)",
        )
        return None, row.problems
    keys = {name: mapping.text_keys(name) for name in TRANSLATION_FIELDS}
    title = row.text(keys["title"][0] or "", limit=_max_length("title"))
    if not title:
        row.problem(row.mapping.label("title"), "missing title")
        return None, row.problems
    if WIKIDATA_ID.match(title):  # the export had no label for the work: say so plainly
        title = UNTITLED

    artist = row.text("artist", limit=_max_length("name", model=Artist))
    if WIKIDATA_ID.match(artist):  # no label: no artist (shown as "Unknown artist")
        artist = ""
    artist_spec = mapping.spec("artist")
    if artist and artist_spec is not None and artist_spec.strip_trailing_parentheses:
        # "Claude Monet (French, 1840-1926)" -> "Claude Monet", so one artist is one row
        artist = re.sub(r"\s*\([^()]*\)$", "", artist) or artist
    date_text = row.text("date", limit=_max_length("date_text"))
    year_start, year_end = _years(row, date_text)
    group = _group(row)
    image_path, image_ref = _image_path(row, base_dir)

    record = PaintingRecord(
        row=number,
        external_id=external_id,
        title=title,
        artist=artist,
        date_text=date_text,
        year_start=year_start,
        year_end=year_end,
        medium=row.text(keys["medium"][0] or "", line_sep="; ", limit=_max_length("medium")),
        dimensions=_dimensions(row),
        description=row.text(keys["description"][0] or "", line_sep=None),
        subjects=tuple(row.items(keys["subjects"][0] or "")),
        group=group,
        image_path=image_path,
        image_ref=image_ref,
        image_url=row.url("image_url"),
        source_url=row.url("source_url"),
        source=shorten(row.text("source") or mapping.source, _max_length("source")),
        licence=shorten(row.text("licence") or mapping.licence, _max_length("licence")),
        language=mapping.main_language,
        translations=_translations(row, keys),
    )
    return record, [
        Problem(p.row, p.field, p.reason, source=p.source, external_id=external_id) for p in row.problems
    ]
