"""The catalogue import: ``catalogue_import`` (the ``import_catalog`` command calls it).

It runs in three steps, holding the import lock (``catalog.importing.lock``) throughout, so a
second import started meanwhile stops at once with ``ImportAlreadyRunning``:

1. read and validate every manifest row (``catalog.importing.records``): nothing is written if
   a manifest is unreadable;
2. create the story groups the rows name;
3. per batch, ``catalog.importing.writer.write_batch``: images first (outside any transaction),
   then the batch's paintings in one transaction.

Every write keeps ``Painting.content_hash`` current, and the paintings whose content changed
are announced once, after the run, with ``catalog.signals.catalogue_changed``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from catalog.hashes import paintings_refresh_content_hash
from catalog.importing.image_fields import image_storage
from catalog.importing.lock import import_lock
from catalog.importing.problems import Problem
from catalog.importing.records import PaintingRecord, build_record, sanitise_id
from catalog.importing.removal import paintings_delete
from catalog.importing.reports import ImportReport, SourceReport
from catalog.importing.sources import ImportSource
from catalog.importing.writer import ImportFiles, story_groups_ensure, write_batch
from catalog.models import Artist, ImportProblem, ImportRun, Painting, StoryGroup
from catalog.signals import notify_catalogue_changed
from config.exceptions import ImportAlreadyRunning, ImportFailed, ValidationFailed
from config.iterables import batched

INTERRUPTED = "Interrupted: the process ended before the run finished."


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
            if source.mapping.excluded_by(values) is not None:  # not a painting this mapping keeps
                raw_id = str(values.get(source.mapping.id_column) or "").strip()
                report.excluded += 1
                if raw_id:
                    report.excluded_ids.append(sanitise_id(raw_id, source.mapping.id_prefix))
                continue
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


def _may_create(source: ImportSource) -> bool:
    spec = source.mapping.spec("story_group")
    return spec is not None and spec.create and not source.manifest.declares_groups


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
                    Problem(record.row, p.source.mapping.label("story_group"),
                            f"unknown story group {record.group.name!r} (slug {record.group.slug!r})",
                            source=p.source.mapping.name, external_id=record.external_id)
                )  # fmt: skip
                record.group = None
    return groups, renamed


def _naming_the_run() -> ImportAlreadyRunning | None:
    """The error naming the run that holds the lock, when it is on record."""
    running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING).order_by("-started_at").first()
    if running is None:
        return None
    started = timezone.localtime(running.started_at).strftime("%Y-%m-%d %H:%M:%S")
    return ImportAlreadyRunning(
        f"An import is already running (import run #{running.pk}, started {started}).",
        detail={"run": running.pk},
    )


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """Hold the import lock. Runs still marked running when it is free were interrupted (their
    process died), so they are marked failed."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(import_lock())
        except ImportAlreadyRunning as exc:
            named = _naming_the_run()
            if named is None:
                raise
            raise named from exc
        ImportRun.objects.filter(status=ImportRun.Status.RUNNING).update(
            status=ImportRun.Status.FAILED, error=INTERRUPTED, finished_at=timezone.now()
        )
        yield


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

    Only one import runs at a time: while another holds the lock this raises
    ``ImportAlreadyRunning`` (an ``ImportFailed``) and changes nothing.

    ``progress(done, total)`` is called after each batch. ``catalogue_changed`` is sent once,
    after the run, with every painting whose content changed. Each run is recorded as an
    ``ImportRun`` with its problems, whether it succeeded or not.
    """
    if batch_size < 1:
        raise ValidationFailed("batch_size must be at least 1.", field="batch_size")
    with _exclusive():
        return _run(sources=sources, strict=strict, batch_size=batch_size, progress=progress)


def _run(
    *,
    sources: Sequence[ImportSource],
    strict: bool,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
) -> ImportReport:
    run = ImportRun.objects.create(
        strict=strict, sources=[{"path": str(s.path), "mapping": s.mapping.name} for s in sources]
    )
    parsed: list[_Parsed] = []
    changed: list[int] = []
    files = ImportFiles(image_storage())
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
    files: ImportFiles,
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
        for batch in batched(p.records, batch_size):
            changed.extend(
                write_batch(
                    batch, source=p.source, report=p.report, groups=groups, artists=artists, files=files
                )
            )
            if not strict:
                files.uncommitted.clear()  # committed: rows reference these files now
            done += len(batch)
            if progress is not None:
                progress(done, total)
    if renamed:
        changed.extend(
            paintings_refresh_content_hash(paintings=Painting.objects.filter(story_group__in=renamed))
        )
    _remove_excluded(parsed)


def _remove_excluded(parsed: Sequence[_Parsed]) -> None:
    """Delete the stored paintings whose rows the mappings now exclude (e.g. a rug imported
    before the mapping kept paintings only). Their ratings go with them, as with any deleted
    painting; every other painting, and its ratings, is untouched."""
    imported = {r.external_id for p in parsed for r in p.records}
    for p in parsed:
        gone = Painting.objects.filter(external_id__in=set(p.report.excluded_ids) - imported)
        ids = list(gone.values_list("pk", flat=True))
        if ids:
            # paintings_delete tells the engines (catalogue_changed) after the commit
            p.report.removed = paintings_delete(paintings=Painting.objects.filter(pk__in=ids))


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
            r.created = r.updated = r.unchanged = r.removed = 0
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
