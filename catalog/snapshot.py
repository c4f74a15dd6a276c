"""What the engines read of the catalogue, frozen at one moment, and the hashes that say when it
changed.

``catalogue_snapshot`` reads every painting once (pk order) into ``PaintingInput`` values (the
text of ``catalog.text.painting_text`` and the stored image's path) with each painting's content
hash; ``catalogue_hash`` condenses those into one hash that is equal iff the engines' input is:

    catalogue_hash = sha256( "pk_1:h_1\\n" "pk_2:h_2\\n" ... )   over the pks in ascending order

where ``h_i`` is the painting's ``content_hash`` (``catalog.text.content_hash``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from catalog.models import Painting
from catalog.text import content_hash, painting_text, painting_translations


@dataclass(frozen=True, slots=True)
class PaintingInput:
    """What an engine may read of one painting."""

    pk: int
    external_id: str
    text: str
    image_path: str | None = None
    #: the painting's text in each of its other languages (``catalog.text.painting_translations``)
    translations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    items: list[PaintingInput]  # ordered by pk
    hashes: dict[int, str]  # pk -> content hash
    catalogue_hash: str


def painting_input(painting: Painting) -> PaintingInput:
    return PaintingInput(
        pk=painting.pk,
        external_id=painting.external_id,
        text=painting_text(painting),
        image_path=painting.image.path if painting.has_image else None,
        translations=painting_translations(painting),
    )


def catalogue_hash(hashes: dict[int, str]) -> str:
    """sha256 over the (pk, content hash) pairs in pk order: equal iff the engines' input is."""
    digest = hashlib.sha256()
    for pk in sorted(hashes):
        digest.update(f"{pk}:{hashes[pk]}\n".encode())
    return digest.hexdigest()


def catalogue_snapshot() -> Snapshot:
    """Every painting's engine input and content hash. A row written without the catalogue
    services has a blank stored hash: it is computed here the same way, so it is still compared
    by content, never taken as unchanged."""
    items: list[PaintingInput] = []
    hashes: dict[int, str] = {}
    paintings = Painting.objects.select_related("artist", "story_group").order_by("pk")
    for painting in paintings.iterator(chunk_size=2000):
        item = painting_input(painting)
        items.append(item)
        hashes[item.pk] = painting.content_hash or content_hash(
            text=item.text, image_sha256=painting.image_sha256, translations=painting.translations or None
        )
    return Snapshot(items=items, hashes=hashes, catalogue_hash=catalogue_hash(hashes))


def current_catalogue_hash() -> str:
    """The hash ``catalogue_snapshot`` would give, from the stored content hashes alone (one
    narrow query, no text built) unless some painting has none yet."""
    hashes = dict(Painting.objects.order_by().values_list("pk", "content_hash"))
    if all(hashes.values()):
        return catalogue_hash(hashes)
    return catalogue_snapshot().catalogue_hash
