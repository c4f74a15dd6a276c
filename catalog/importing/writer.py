"""Writing one batch of validated records: build each row's values, diff them against what is
stored, persist the difference.

``write_batch`` runs the three steps. The image files of the batch are read, normalised and
written first, outside any transaction (``catalog.importing.image_fields``); the rows are then
created/updated in one transaction. Files the transaction would have referenced stay listed in
``ImportFiles.uncommitted`` until the caller knows the rows committed, so an interrupted import
leaves neither a half-written painting nor an orphan file. Files replaced by a new image are
deleted only after the commit.

A row is "unchanged" when every field in ``IMPORTED_FIELDS`` equals the stored one, so a second
run over unchanged data writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone

from catalog.importing.image_fields import batch_images
from catalog.importing.records import GroupRef, PaintingRecord, group_ref
from catalog.importing.reports import SourceReport
from catalog.importing.sources import ImportSource
from catalog.models import Artist, Painting, StoryGroup
from catalog.text import compose_text, content_hash
from config.exceptions import ImportFailed

#: Every painting field an import sets; a row is "unchanged" when all of them are equal.
IMPORTED_FIELDS = (
    "title", "artist_id", "date_text", "year_start", "year_end", "medium", "dimensions",
    "description", "subjects", "story_group_id", "image", "image_status", "image_url",
    "image_sha256", "image_bytes", "image_width", "image_height", "image_source_sha256",
    "source", "source_url", "licence", "language", "translations", "content_hash",
)  # fmt: skip


class ImportFiles:
    """Image files written by the import that no committed row references yet."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.uncommitted: list[str] = []

    def write(self, name: str, content: bytes) -> None:
        if self.storage.exists(name):
            return  # same name = same checksum: the file is already there
        saved = self.storage.save(name, ContentFile(content))
        self.uncommitted.append(saved)
        if saved != name:  # pragma: no cover - only if another process wrote it in between
            raise ImportFailed(f"Image storage renamed {name} to {saved}.")

    def discard(self) -> None:
        for name in self.uncommitted:
            self.storage.delete(name)
        self.uncommitted.clear()


# --- artists and story groups --------------------------------------------------------------


def artists_ensure(*, names: Iterable[str], known: dict[str, int] | None = None) -> dict[str, int]:
    """Primary keys of the artists called ``names``, creating the missing ones."""
    known = known if known is not None else {}
    missing = sorted({n for n in names if n and n not in known})
    if missing:
        known.update(Artist.objects.filter(name__in=missing).values_list("name", "pk"))
        new = [Artist(name=n) for n in missing if n not in known]
        if new:
            Artist.objects.bulk_create(new, ignore_conflicts=True)
            known.update(Artist.objects.filter(name__in=[a.name for a in new]).values_list("name", "pk"))
    return known


def story_groups_ensure(
    *, groups: Iterable[GroupRef], declared: Sequence[dict[str, str]] = ()
) -> tuple[dict[str, StoryGroup], list[int]]:
    """StoryGroups by slug: ``declared`` ones (from a manifest) are created or updated (new ones
    used in elicitation: a manifest's declared groups are curated), the others created when
    missing with their readable name, not used in elicitation (a data column is no curation).
    Returns the groups and the ids of groups whose name changed (their paintings' text changed)."""
    existing = {g.slug: g for g in StoryGroup.objects.all()}
    renamed: list[int] = []
    for item in declared:
        ref = group_ref(item.get("slug") or item["name"])
        name = item.get("name") or ref.name
        description = item.get("description", "")
        group = existing.get(ref.slug)
        if group is None:
            existing[ref.slug] = StoryGroup.objects.create(slug=ref.slug, name=name, description=description)
        elif (group.name, group.description) != (name, description):
            if group.name != name:
                renamed.append(group.pk)
            group.name, group.description = name, description
            group.save(update_fields=["name", "description", "updated_at"])
    new = {g.slug: g for g in groups if g.slug not in existing}
    if new:
        StoryGroup.objects.bulk_create(
            # a data column's groups (centuries, departments) are not a curator's choice of what
            # to elicit from: the elicitation uses the collection's clusters until one flags them
            [StoryGroup(slug=g.slug, name=g.name, use_in_elicitation=False) for g in new.values()],
            ignore_conflicts=True,
        )
        existing.update({g.slug: g for g in StoryGroup.objects.filter(slug__in=list(new))})
    return existing, renamed


# --- one batch: build, diff, persist -------------------------------------------------------


def stored_rows(batch: Sequence[PaintingRecord]) -> dict[str, dict[str, Any]]:
    """The stored values of the batch's paintings that exist already, by external id."""
    rows = Painting.objects.filter(external_id__in=[r.external_id for r in batch])
    return {row["external_id"]: row for row in rows.values("pk", "external_id", *IMPORTED_FIELDS)}


def build_values(
    record: PaintingRecord,
    *,
    image_values: dict[str, Any],
    groups: dict[str, StoryGroup],
    artists: dict[str, int],
) -> dict[str, Any]:
    """Every field of ``IMPORTED_FIELDS`` for ``record``, ``content_hash`` included."""
    group = groups.get(record.group.slug) if record.group else None
    values = {
        "title": record.title,
        "artist_id": artists[record.artist] if record.artist else None,
        "date_text": record.date_text,
        "year_start": record.year_start,
        "year_end": record.year_end,
        "medium": record.medium,
        "dimensions": record.dimensions,
        "description": record.description,
        "subjects": list(record.subjects),
        "story_group_id": group.pk if group else None,
        **image_values,
        "image_url": record.image_url,
        "source": record.source,
        "source_url": record.source_url,
        "licence": record.licence,
        "language": record.language,
        "translations": record.translations,
    }
    text = compose_text(
        title=record.title, artist=record.artist, medium=record.medium, description=record.description,
        subjects=record.subjects,
    )  # fmt: skip
    values["content_hash"] = content_hash(
        text=text, image_sha256=values["image_sha256"], translations=record.translations or None
    )
    return values


@dataclass(slots=True)
class BatchDiff:
    """What persisting a batch changes: rows to create and to update (with the union of the
    fields that differ), the updated pks whose content changed, and files no row will use."""

    to_create: list[Painting] = field(default_factory=list)
    to_update: list[Painting] = field(default_factory=list)
    update_fields: set[str] = field(default_factory=set)
    changed: list[int] = field(default_factory=list)
    stale_files: list[str] = field(default_factory=list)
    unchanged: int = 0


def diff_batch(rows: Iterable[tuple[str, dict[str, Any]]], *, stored: dict[str, dict[str, Any]]) -> BatchDiff:
    """Compare each ``(external_id, values)`` with the stored row (``stored_rows``) field by field."""
    now = timezone.now()
    diff = BatchDiff()
    for external_id, values in rows:
        old = stored.get(external_id)
        if old is None:
            diff.to_create.append(Painting(external_id=external_id, **values))
            continue
        differing = [f for f in IMPORTED_FIELDS if values[f] != old[f]]
        if not differing:
            diff.unchanged += 1
            continue
        diff.update_fields.update(differing)
        diff.to_update.append(Painting(pk=old["pk"], external_id=external_id, updated_at=now, **values))
        if old["content_hash"] != values["content_hash"]:
            diff.changed.append(old["pk"])
        if old["image"] and old["image"] != values["image"]:
            diff.stale_files.append(old["image"])
    return diff


def persist_batch(diff: BatchDiff, *, storage: Storage) -> list[int]:
    """Write ``diff`` (inside the caller's transaction); returns the pks whose content changed,
    the new paintings included. Replaced image files are deleted after the commit."""
    changed = list(diff.changed)
    if diff.to_create:
        Painting.objects.bulk_create(diff.to_create)
        missing_pk = [p.external_id for p in diff.to_create if p.pk is None]
        if missing_pk:  # backends that cannot return ids from a bulk insert
            changed.extend(Painting.objects.filter(external_id__in=missing_pk).values_list("pk", flat=True))
        changed.extend(p.pk for p in diff.to_create if p.pk is not None)
    if diff.to_update:
        Painting.objects.bulk_update(diff.to_update, fields=sorted(diff.update_fields | {"updated_at"}))
    if diff.stale_files:
        names = list(diff.stale_files)
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return changed


def write_batch(
    batch: Sequence[PaintingRecord],
    *,
    source: ImportSource,
    report: SourceReport,
    groups: dict[str, StoryGroup],
    artists: dict[str, int],
    files: ImportFiles,
) -> list[int]:
    """Create/update one batch of paintings in one transaction; counts them in ``report`` and
    returns the pks whose content changed."""
    stored = stored_rows(batch)
    images = batch_images(batch, stored, source=source, storage=files.storage)
    for outcome in images:
        report.problems.extend(outcome.problems)
        if outcome.content is not None:
            files.write(outcome.values["image"], outcome.content)
    with transaction.atomic():
        artists_ensure(names=[r.artist for r in batch], known=artists)
        rows = [
            (
                record.external_id,
                build_values(record, image_values=image.values, groups=groups, artists=artists),
            )
            for record, image in zip(batch, images, strict=True)
        ]
        diff = diff_batch(rows, stored=stored)
        changed = persist_batch(diff, storage=files.storage)
    report.created += len(diff.to_create)
    report.updated += len(diff.to_update)
    report.unchanged += diff.unchanged
    return changed
