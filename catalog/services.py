"""Writes to the catalogue. Typed, keyword-only; the import command and the admin call these.

Every write keeps ``Painting.content_hash`` current and announces the paintings whose content
changed with ``catalog.signals.catalogue_changed`` after the commit.

The import (``catalogue_import``) runs in three steps:

1. read and validate every manifest row (``catalog.importing``): nothing is written if a
   manifest is unreadable;
2. create the story groups the rows name;
3. per batch: read, check and normalise the images (outside any transaction), write the new
   image files, then create/update the batch's paintings in one transaction. If the
   transaction fails the files it would have referenced are deleted again, so an interrupted
   import leaves neither a half-written painting nor an orphan file. Files replaced by a new
   image are deleted only after the commit.

Rows are compared field by field with what is stored (preloaded per batch by external id), so a
second run over unchanged data writes nothing; an image is decoded again only when its file's
checksum differs from the one recorded at the last import.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog.importing.images import (
    ImageProblem,
    NormalisedImage,
    fetch_image,
    normalise_image,
    read_image_file,
    sha256_hex,
)
from catalog.importing.problems import Problem
from catalog.importing.records import GroupRef, PaintingRecord, build_record, group_ref, humanise
from catalog.importing.sources import ImportSource
from catalog.models import Artist, ImportProblem, ImportRun, Painting, StoryGroup
from catalog.signals import notify_catalogue_changed
from catalog.text import compose_text, content_hash, painting_content_hash
from config.exceptions import ImportFailed, ValidationFailed

Status = Painting.ImageStatus

#: Every painting field an import sets; a row is "unchanged" when all of them are equal.
IMPORTED_FIELDS = (
    "title", "artist_id", "date_text", "year_start", "year_end", "medium", "dimensions",
    "description", "subjects", "story_group_id", "image", "image_status", "image_url",
    "image_sha256", "image_bytes", "image_width", "image_height", "image_source_sha256",
    "source", "source_url", "licence", "content_hash",
)  # fmt: skip
IMAGE_FIELDS = ("image", "image_status", "image_sha256", "image_bytes", "image_width", "image_height",
                "image_source_sha256")  # fmt: skip
FETCH_THREADS = 8


def _image_storage() -> Storage:
    return Painting._meta.get_field("image").storage


def image_name(*, external_id: str, sha256: str) -> str:
    """Storage name of a painting's normalised image: its id and checksum, so a changed image
    gets a new name (no stale caches) and an unchanged one is never written twice."""
    upload_to = Painting._meta.get_field("image").upload_to
    stem = external_id
    if len(stem) > 60:  # FileField names hold 100 characters
        stem = f"{stem[:48]}-{hashlib.sha256(stem.encode()).hexdigest()[:8]}"
    return f"{upload_to}{stem}-{sha256[:16]}.jpg"


def _no_image() -> dict[str, Any]:
    return {
        "image": "", "image_sha256": "", "image_bytes": None, "image_width": None,
        "image_height": None, "image_source_sha256": "",
    }  # fmt: skip


def _stored_image(image: NormalisedImage, *, external_id: str, source_sha256: str) -> dict[str, Any]:
    return {
        "image": image_name(external_id=external_id, sha256=image.sha256),
        "image_status": Status.OK,
        "image_sha256": image.sha256,
        "image_bytes": image.size,
        "image_width": image.width,
        "image_height": image.height,
        "image_source_sha256": source_sha256,
    }


# --- results -------------------------------------------------------------------------------


@dataclass(slots=True)
class SourceReport:
    name: str
    path: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"problems {len(self.problems)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "mapping": self.name, "path": self.path, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "skipped": self.skipped, "problems": len(self.problems),
        }  # fmt: skip


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

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"problems {len(self.problems)}"
        )


# --- images of one batch -------------------------------------------------------------------


@dataclass(slots=True)
class _ImageOutcome:
    values: dict[str, Any]
    content: bytes | None = None  # normalised bytes to store under values["image"]
    problems: list[Problem] = field(default_factory=list)


def _still_stored(existing: dict[str, Any] | None, storage: Storage) -> bool:
    return bool(
        existing and existing["image_status"] == Status.OK and existing["image"]
        and storage.exists(existing["image"])
    )  # fmt: skip


def _kept(existing: dict[str, Any]) -> _ImageOutcome:
    return _ImageOutcome(values={k: existing[k] for k in IMAGE_FIELDS})


def _problem(record: PaintingRecord, source: str, column: str, reason: str) -> Problem:
    return Problem(record.row, column, reason, source=source, external_id=record.external_id)


def _local_image(
    record: PaintingRecord, existing: dict[str, Any] | None, *, source: str, column: str, storage: Storage
) -> _ImageOutcome:
    try:
        data = read_image_file(record.image_path, max_bytes=settings.CATALOG_IMAGE_MAX_BYTES)
        source_sha = sha256_hex(data)
        if _still_stored(existing, storage) and existing["image_source_sha256"] == source_sha:
            return _kept(existing)  # same file as last time: already checked and stored
        image = normalise_image(data, max_side=settings.CATALOG_IMAGE_MAX_SIDE)
    except ImageProblem as exc:
        problem = _problem(record, source, column, f"image {record.image_ref!r}: {exc.reason}")
        return _ImageOutcome(values={**_no_image(), "image_status": exc.status}, problems=[problem])
    return _ImageOutcome(
        values=_stored_image(image, external_id=record.external_id, source_sha256=source_sha),
        content=image.content,
    )


def _remote_image(record: PaintingRecord, *, source: str, column: str) -> _ImageOutcome:
    try:
        data = fetch_image(
            record.image_url,
            timeout=settings.CATALOG_FETCH_TIMEOUT,
            max_bytes=settings.CATALOG_IMAGE_MAX_BYTES,
        )
        image = normalise_image(data, max_side=settings.CATALOG_IMAGE_MAX_SIDE)
    except ImageProblem as exc:
        problem = _problem(record, source, column, f"remote image {exc.reason}")
        return _ImageOutcome(values={**_no_image(), "image_status": Status.UNAVAILABLE}, problems=[problem])
    return _ImageOutcome(
        values=_stored_image(image, external_id=record.external_id, source_sha256=sha256_hex(data)),
        content=image.content,
    )


def _batch_images(
    records: Sequence[PaintingRecord],
    existing: dict[str, dict[str, Any]],
    *,
    source: ImportSource,
    storage: Storage,
) -> list[_ImageOutcome]:
    """The image fields of every record: stored local image, kept remote image (fetched once,
    never again), fetched now (``CATALOG_FETCH_REMOTE_IMAGES``), or a status saying why none."""
    image_column = source.mapping.label("image")
    url_column = source.mapping.label("image_url")
    outcomes: list[_ImageOutcome] = []
    to_fetch: list[int] = []
    for index, record in enumerate(records):
        old = existing.get(record.external_id)
        outcome = None
        if record.image_path is not None:
            outcome = _local_image(
                record, old, source=source.mapping.name, column=image_column, storage=storage
            )
        elif record.image_ref:  # a path that was refused while validating the row
            outcome = _ImageOutcome(values={**_no_image(), "image_status": Status.MISSING})
        if record.image_url and (outcome is None or outcome.values["image_status"] != Status.OK):
            earlier = outcome.problems if outcome else []
            if outcome is None and _still_stored(old, storage) and old["image_url"] == record.image_url:
                outcome = _kept(old)  # fetched by an earlier run: never fetched again
            elif settings.CATALOG_FETCH_REMOTE_IMAGES:
                to_fetch.append(index)
                outcome = _ImageOutcome(values={}, problems=earlier)
            else:
                outcome = _ImageOutcome(
                    values={**_no_image(), "image_status": Status.REMOTE}, problems=earlier
                )
        if outcome is None:
            outcome = _ImageOutcome(values={**_no_image(), "image_status": Status.NONE})
        outcomes.append(outcome)
    if to_fetch:
        with ThreadPoolExecutor(max_workers=min(FETCH_THREADS, len(to_fetch))) as pool:
            fetched = pool.map(
                lambda i: _remote_image(records[i], source=source.mapping.name, column=url_column), to_fetch
            )
            for index, result in zip(to_fetch, fetched, strict=True):
                result.problems[:0] = outcomes[index].problems
                outcomes[index] = result
    return outcomes


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
    """StoryGroups by slug: ``declared`` ones (from a manifest) are created or updated, the
    others created when missing with their readable name. Returns the groups and the ids of
    groups whose name changed (their paintings' text changed)."""
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
            [StoryGroup(slug=g.slug, name=g.name) for g in new.values()], ignore_conflicts=True
        )
        existing.update({g.slug: g for g in StoryGroup.objects.filter(slug__in=list(new))})
    return existing, renamed


# --- the import ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Parsed:
    source: ImportSource
    report: SourceReport
    records: list[PaintingRecord]


def _parse(sources: Sequence[ImportSource]) -> list[_Parsed]:
    """Validate every row of every manifest; ids must be unique across the whole run."""
    seen: dict[str, tuple[str, int]] = {}
    parsed = []
    for source in sources:
        name = source.mapping.name
        report = SourceReport(name=name, path=str(source.path))
        report.problems = [Problem(p.row, p.field, p.reason, source=name) for p in source.manifest.problems]
        report.skipped = sum(1 for p in source.manifest.problems if p.row is not None and not p.field)
        records = []
        for number, values in source.manifest.rows:
            record, problems = build_record(number, values, mapping=source.mapping, base_dir=source.base_dir)
            report.problems.extend(problems)
            if record is None:
                report.skipped += 1
                continue
            if record.external_id in seen:
                first_source, first_row = seen[record.external_id]
                report.problems.append(
                    Problem(
                        number,
                        source.mapping.id_column,
                        f"duplicate id {record.external_id!r}, already on row {first_row} of {first_source}",
                        source=name,
                        external_id=record.external_id,
                    )
                )
                report.skipped += 1
                continue
            seen[record.external_id] = (name, number)
            records.append(record)
        parsed.append(_Parsed(source=source, report=report, records=records))
    return parsed


def _resolve_groups(parsed: Sequence[_Parsed]) -> tuple[dict[str, StoryGroup], list[int]]:
    """Create the story groups rows name. A manifest that declares its story groups may only
    use those (or groups already in the catalogue); so may a mapping with ``create = false``."""
    declared = [g for p in parsed for g in p.source.manifest.story_groups]
    wanted = [r.group for p in parsed for r in p.records if r.group and _may_create(p.source)]
    groups, renamed = story_groups_ensure(groups=wanted, declared=declared)
    for p in parsed:
        for record in p.records:
            if record.group and record.group.slug not in groups:
                p.report.problems.append(
                    _problem(record, p.source.mapping.name, p.source.mapping.label("story_group"),
                             f"unknown story group {record.group.name!r} (slug {record.group.slug!r})")
                )  # fmt: skip
                record.group = None
    return groups, renamed


def _may_create(source: ImportSource) -> bool:
    spec = source.mapping.spec("story_group")
    return spec is not None and spec.create and not source.manifest.declares_groups


def _batches(items: Sequence[PaintingRecord], size: int) -> Iterator[Sequence[PaintingRecord]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Files:
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


def _write_batch(
    batch: Sequence[PaintingRecord],
    *,
    parsed: _Parsed,
    groups: dict[str, StoryGroup],
    artists: dict[str, int],
    files: _Files,
) -> list[int]:
    """Create/update one batch of paintings; returns the pks whose content changed."""
    storage = files.storage
    existing = {
        row["external_id"]: row
        for row in Painting.objects.filter(external_id__in=[r.external_id for r in batch]).values(
            "pk", "external_id", *IMPORTED_FIELDS
        )
    }
    images = _batch_images(batch, existing, source=parsed.source, storage=storage)
    for outcome in images:
        parsed.report.problems.extend(outcome.problems)
        if outcome.content is not None:
            files.write(outcome.values["image"], outcome.content)

    now = timezone.now()
    to_create: list[Painting] = []
    to_update: list[Painting] = []
    update_fields: set[str] = set()
    changed: list[int] = []
    stale_files: list[str] = []
    with transaction.atomic():
        artists_ensure(names=[r.artist for r in batch], known=artists)
        for record, image in zip(batch, images, strict=True):
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
                **image.values,
                "image_url": record.image_url,
                "source": record.source,
                "source_url": record.source_url,
                "licence": record.licence,
            }
            text = compose_text(
                title=record.title, artist=record.artist, medium=record.medium,
                description=record.description, subjects=record.subjects,
                story_group=group.name if group else "",
            )  # fmt: skip
            values["content_hash"] = content_hash(text=text, image_sha256=values["image_sha256"])
            old = existing.get(record.external_id)
            if old is None:
                to_create.append(Painting(external_id=record.external_id, **values))
                continue
            diff = [f for f in IMPORTED_FIELDS if values[f] != old[f]]
            if not diff:
                parsed.report.unchanged += 1
                continue
            update_fields.update(diff)
            to_update.append(Painting(pk=old["pk"], external_id=record.external_id, updated_at=now, **values))
            if old["content_hash"] != values["content_hash"]:
                changed.append(old["pk"])
            if old["image"] and old["image"] != values["image"]:
                stale_files.append(old["image"])
        if to_create:
            Painting.objects.bulk_create(to_create)
            missing_pk = [p.external_id for p in to_create if p.pk is None]
            if missing_pk:  # backends that cannot return ids from a bulk insert
                changed.extend(
                    Painting.objects.filter(external_id__in=missing_pk).values_list("pk", flat=True)
                )
            changed.extend(p.pk for p in to_create if p.pk is not None)
        if to_update:
            Painting.objects.bulk_update(to_update, fields=sorted(update_fields | {"updated_at"}))
        if stale_files:
            transaction.on_commit(lambda: [storage.delete(name) for name in stale_files])
    parsed.report.created += len(to_create)
    parsed.report.updated += len(to_update)
    return changed


def catalogue_import(
    *,
    sources: Sequence[ImportSource],
    strict: bool = False,
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the paintings of ``sources`` (see ``catalog.importing.sources.resolve_sources``).

    Idempotent: a painting is found again by its external id, and only rows that differ from
    what is stored are written. Not strict: bad rows are reported and skipped (or imported
    without the bad field) and the rest is imported, one transaction per ``batch_size`` rows.
    Strict: everything is written in one transaction that is rolled back, files included, if
    any problem was found; ``ImportFailed`` then lists the problems.

    ``progress(done, total)`` is called after each batch. ``catalogue_changed`` is sent once,
    after the run, with every painting whose content changed. Each run is recorded as an
    ``ImportRun`` with its problems, whether it succeeded or not.
    """
    if batch_size < 1:
        raise ValidationFailed("batch_size must be at least 1.", field="batch_size")
    run = ImportRun.objects.create(
        strict=strict, sources=[{"path": str(s.path), "mapping": s.mapping.name} for s in sources]
    )
    parsed: list[_Parsed] = []
    changed: list[int] = []
    files = _Files(_image_storage())
    status, error = ImportRun.Status.FAILED, ""
    try:
        parsed = _parse(sources)
        with transaction.atomic() if strict else contextlib.nullcontext():
            _import_parsed(
                parsed, strict=strict, batch_size=batch_size, files=files, progress=progress, changed=changed
            )
            problems = [pr for p in parsed for pr in p.report.problems]
            if strict and problems:
                status = ImportRun.Status.REJECTED
                raise ImportFailed(
                    f"--strict: {len(problems)} problem(s) found, nothing was imported.",
                    detail={"run": run.pk, "problems": [str(pr) for pr in problems]},
                )
        status = ImportRun.Status.DONE
    except BaseException as exc:
        files.discard()  # strict: every file of the run; otherwise: those of the failed batch
        if strict:
            changed.clear()  # rolled back
        error = exc.message if isinstance(exc, ImportFailed) else f"{type(exc).__name__}: {exc}"
        raise
    finally:
        _finish_run(run, parsed=parsed, status=status, error=error)
        # Batches committed before an interruption stay imported: engines must hear of them.
        notify_catalogue_changed(changed)
    return ImportReport(run_id=run.pk, sources=[p.report for p in parsed], changed_ids=sorted(set(changed)))


def _import_parsed(
    parsed: Sequence[_Parsed],
    *,
    strict: bool,
    batch_size: int,
    files: _Files,
    progress: Callable[[int, int], None] | None,
    changed: list[int],
) -> None:
    """Write every batch; ``changed`` collects the pks of committed content changes as it goes,
    so the caller still knows them when a later batch fails."""
    groups, renamed = _resolve_groups(parsed)
    artists = dict(Artist.objects.values_list("name", "pk"))
    total = sum(len(p.records) for p in parsed)
    done = 0
    for p in parsed:
        for batch in _batches(p.records, batch_size):
            changed.extend(_write_batch(batch, parsed=p, groups=groups, artists=artists, files=files))
            if not strict:
                files.uncommitted.clear()  # committed: rows reference these files now
            done += len(batch)
            if progress is not None:
                progress(done, total)
    if renamed:
        changed.extend(
            paintings_refresh_content_hash(paintings=Painting.objects.filter(story_group__in=renamed))
        )


def _finish_run(run: ImportRun, *, parsed: Sequence[_Parsed], status: str, error: str) -> None:
    reports = [p.report for p in parsed]
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    if reports:
        run.sources = [r.as_dict() for r in reports]
    rejected = status == ImportRun.Status.REJECTED
    if rejected:  # rolled back: nothing was created or updated
        for r in reports:
            r.created = r.updated = r.unchanged = 0
    run.created = 0 if rejected else sum(r.created for r in reports)
    run.updated = 0 if rejected else sum(r.updated for r in reports)
    run.unchanged = 0 if rejected else sum(r.unchanged for r in reports)
    run.skipped = sum(r.skipped for r in reports)
    run.problem_count = sum(len(r.problems) for r in reports)
    run.save()
    ImportProblem.objects.bulk_create(
        [
            ImportProblem(run=run, source=p.source, row=p.row, field=p.field[:200],
                          external_id=p.external_id, reason=p.reason)
            for r in reports
            for p in r.problems
        ],
        batch_size=1000,
    )  # fmt: skip


# --- single paintings (admin) --------------------------------------------------------------


def painting_save(*, painting: Painting, new_image: File | None = None) -> Painting:
    """Save a painting edited by hand; a ``new_image`` is checked and normalised exactly like an
    imported one. Refreshes ``content_hash`` and announces the painting if its content changed."""
    storage = _image_storage()
    previous_hash = (
        Painting.objects.filter(pk=painting.pk).values_list("content_hash", flat=True).first()
        if painting.pk
        else None
    )
    written: str | None = None
    stale: str | None = None
    if new_image is not None:
        new_image.seek(0)
        data = new_image.read(settings.CATALOG_IMAGE_MAX_BYTES + 1)
        if len(data) > settings.CATALOG_IMAGE_MAX_BYTES:
            raise ValidationFailed(
                f"The image is larger than CATALOG_IMAGE_MAX_BYTES ({settings.CATALOG_IMAGE_MAX_BYTES}).",
                field="image",
            )
        try:
            image = normalise_image(data, max_side=settings.CATALOG_IMAGE_MAX_SIDE)
        except ImageProblem as exc:
            raise ValidationFailed(f"The image is {exc.reason}.", field="image") from exc
        old_name = (
            Painting.objects.filter(pk=painting.pk).values_list("image", flat=True).first()
            if painting.pk
            else ""
        )
        for key, value in _stored_image(
            image, external_id=painting.external_id, source_sha256=sha256_hex(data)
        ).items():
            setattr(painting, key, value)
        if not storage.exists(painting.image.name):
            written = storage.save(painting.image.name, ContentFile(image.content))
        stale = old_name if old_name and old_name != painting.image.name else None
    painting.content_hash = painting_content_hash(painting)
    try:
        with transaction.atomic():
            painting.save()
            if stale:
                transaction.on_commit(lambda: storage.delete(stale))
            if previous_hash != painting.content_hash:
                notify_catalogue_changed([painting.pk])
    except BaseException:
        if written:
            storage.delete(written)
        raise
    return painting


def paintings_delete(*, paintings: QuerySet[Painting]) -> int:
    """Delete paintings (their ratings go with them) and, after the commit, their image files."""
    storage = _image_storage()
    rows = list(paintings.values_list("pk", "image"))
    if not rows:
        return 0
    ids = [pk for pk, _ in rows]
    names = [name for _, name in rows if name]
    with transaction.atomic():
        Painting.objects.filter(pk__in=ids).delete()
        if names:
            transaction.on_commit(lambda: [storage.delete(n) for n in names])
        notify_catalogue_changed(ids)
    return len(ids)


def paintings_refresh_content_hash(*, paintings: QuerySet[Painting]) -> list[int]:
    """Recompute ``content_hash`` (after an artist or story group was renamed); returns and
    announces the pks whose hash changed."""
    stale = []
    for painting in paintings.select_related("artist", "story_group").iterator(chunk_size=1000):
        new_hash = painting_content_hash(painting)
        if new_hash != painting.content_hash:
            painting.content_hash = new_hash
            stale.append(painting)
    if stale:
        with transaction.atomic():
            Painting.objects.bulk_update(stale, fields=["content_hash"], batch_size=1000)
            notify_catalogue_changed(p.pk for p in stale)
    return [p.pk for p in stale]


def artist_save(*, artist: Artist) -> Artist:
    with transaction.atomic():
        artist.save()
        paintings_refresh_content_hash(paintings=Painting.objects.filter(artist=artist))
    return artist


def story_group_save(*, group: StoryGroup) -> StoryGroup:
    if not group.name:
        group.name = humanise(group.slug)
    with transaction.atomic():
        group.save()
        paintings_refresh_content_hash(paintings=Painting.objects.filter(story_group=group))
    return group


def _delete_and_refresh(queryset: QuerySet, *, related: str) -> int:
    """Delete artists or story groups; their paintings keep existing without them
    (``SET_NULL``), so their text and ``content_hash`` change."""
    with transaction.atomic():
        painting_ids = list(
            Painting.objects.filter(**{f"{related}__in": queryset}).values_list("pk", flat=True)
        )
        deleted, _ = queryset.delete()
        paintings_refresh_content_hash(paintings=Painting.objects.filter(pk__in=painting_ids))
    return deleted


def artists_delete(*, artists: QuerySet[Artist]) -> int:
    return _delete_and_refresh(artists, related="artist")


def story_groups_delete(*, groups: QuerySet[StoryGroup]) -> int:
    return _delete_and_refresh(groups, related="story_group")
