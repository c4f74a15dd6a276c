"""The image fields of painting rows: where a normalised image is stored, and what each record
of an import batch stores (kept, read and normalised, fetched, or a status saying why none).

Reading, checking and normalising the bytes is ``catalog.importing.images`` (no database); this
module turns the outcome into ``Painting`` field values. An image is decoded again only when its
file's checksum differs from the one recorded at the last import, and a remote image is fetched
once, never again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage

from catalog.importing.images import (
    ImageProblem,
    NormalisedImage,
    fetch_image,
    normalise_image,
    read_image_file,
    sha256_hex,
)
from catalog.importing.problems import Problem
from catalog.importing.records import PaintingRecord
from catalog.importing.sources import ImportSource
from catalog.models import Painting

Status = Painting.ImageStatus

IMAGE_FIELDS = ("image", "image_status", "image_sha256", "image_bytes", "image_width", "image_height",
                "image_source_sha256")  # fmt: skip
FETCH_THREADS = 8


def image_storage() -> Storage:
    return Painting._meta.get_field("image").storage


def image_name(*, external_id: str, sha256: str) -> str:
    """Storage name of a painting's normalised image: its id and checksum, so a changed image
    gets a new name (no stale caches) and an unchanged one is never written twice."""
    upload_to = Painting._meta.get_field("image").upload_to
    stem = external_id
    if len(stem) > 60:  # FileField names hold 100 characters
        stem = f"{stem[:48]}-{hashlib.sha256(stem.encode()).hexdigest()[:8]}"
    return f"{upload_to}{stem}-{sha256[:16]}.jpg"


def no_image_values() -> dict[str, Any]:
    return {
        "image": "", "image_sha256": "", "image_bytes": None, "image_width": None,
        "image_height": None, "image_source_sha256": "",
    }  # fmt: skip


def stored_image_values(image: NormalisedImage, *, external_id: str, source_sha256: str) -> dict[str, Any]:
    """The fields of a painting whose image is ``image`` (read from bytes hashing to ``source_sha256``)."""
    return {
        "image": image_name(external_id=external_id, sha256=image.sha256),
        "image_status": Status.OK,
        "image_sha256": image.sha256,
        "image_bytes": image.size,
        "image_width": image.width,
        "image_height": image.height,
        "image_source_sha256": source_sha256,
    }


@dataclass(slots=True)
class ImageOutcome:
    values: dict[str, Any]
    content: bytes | None = None  # normalised bytes to store under values["image"]
    problems: list[Problem] = field(default_factory=list)


def _still_stored(existing: dict[str, Any] | None, storage: Storage) -> bool:
    return bool(
        existing and existing["image_status"] == Status.OK and existing["image"]
        and storage.exists(existing["image"])
    )  # fmt: skip


def _kept(existing: dict[str, Any]) -> ImageOutcome:
    return ImageOutcome(values={k: existing[k] for k in IMAGE_FIELDS})


def _without(status: str, problems: list[Problem] | None = None) -> ImageOutcome:
    return ImageOutcome(values={**no_image_values(), "image_status": status}, problems=problems or [])


def _problem(record: PaintingRecord, source: str, column: str, reason: str) -> Problem:
    return Problem(record.row, column, reason, source=source, external_id=record.external_id)


def _local_image(
    record: PaintingRecord, existing: dict[str, Any] | None, *, source: str, column: str, storage: Storage
) -> ImageOutcome:
    try:
        data = read_image_file(record.image_path, max_bytes=settings.CATALOG_IMAGE_MAX_BYTES)
        source_sha = sha256_hex(data)
        if _still_stored(existing, storage) and existing["image_source_sha256"] == source_sha:
            return _kept(existing)  # same file as last time: already checked and stored
        image = normalise_image(
            data, max_side=settings.CATALOG_IMAGE_MAX_SIDE, max_pixels=settings.CATALOG_IMAGE_MAX_PIXELS
        )
    except ImageProblem as exc:
        return _without(
            exc.status, [_problem(record, source, column, f"image {record.image_ref!r}: {exc.reason}")]
        )
    return ImageOutcome(
        values=stored_image_values(image, external_id=record.external_id, source_sha256=source_sha),
        content=image.content,
    )


def _remote_image(record: PaintingRecord, *, source: str, column: str) -> ImageOutcome:
    try:
        data = fetch_image(
            record.image_url,
            timeout=settings.CATALOG_FETCH_TIMEOUT,
            max_bytes=settings.CATALOG_IMAGE_MAX_BYTES,
        )
        image = normalise_image(
            data, max_side=settings.CATALOG_IMAGE_MAX_SIDE, max_pixels=settings.CATALOG_IMAGE_MAX_PIXELS
        )
    except ImageProblem as exc:
        return _without(Status.UNAVAILABLE, [_problem(record, source, column, f"remote image {exc.reason}")])
    return ImageOutcome(
        values=stored_image_values(image, external_id=record.external_id, source_sha256=sha256_hex(data)),
        content=image.content,
    )


def batch_images(
    records: Sequence[PaintingRecord],
    existing: dict[str, dict[str, Any]],
    *,
    source: ImportSource,
    storage: Storage,
) -> list[ImageOutcome]:
    """The image fields of every record: stored local image, kept remote image (fetched once,
    never again), fetched now (``CATALOG_FETCH_REMOTE_IMAGES``), or a status saying why none.
    ``existing`` holds the stored rows of the batch by external id."""
    image_column = source.mapping.label("image")
    url_column = source.mapping.label("image_url")
    outcomes: list[ImageOutcome] = []
    to_fetch: list[int] = []
    for index, record in enumerate(records):
        old = existing.get(record.external_id)
        outcome = None
        if record.image_path is not None:
            outcome = _local_image(
                record, old, source=source.mapping.name, column=image_column, storage=storage
            )
        elif record.image_ref:  # a path that was refused while validating the row
            outcome = _without(Status.MISSING)
        if record.image_url and (outcome is None or outcome.values["image_status"] != Status.OK):
            earlier = outcome.problems if outcome else []
            if outcome is None and _still_stored(old, storage) and old["image_url"] == record.image_url:
                outcome = _kept(old)  # fetched by an earlier run: never fetched again
            elif settings.CATALOG_FETCH_REMOTE_IMAGES:
                to_fetch.append(index)
                outcome = ImageOutcome(values={}, problems=earlier)
            else:
                outcome = _without(Status.REMOTE, earlier)
        outcomes.append(outcome if outcome is not None else _without(Status.NONE))
    if to_fetch:
        with ThreadPoolExecutor(max_workers=min(FETCH_THREADS, len(to_fetch))) as pool:
            fetched = pool.map(
                lambda i: _remote_image(records[i], source=source.mapping.name, column=url_column), to_fetch
            )
            for index, result in zip(to_fetch, fetched, strict=True):
                result.problems[:0] = outcomes[index].problems
                outcomes[index] = result
    return outcomes
