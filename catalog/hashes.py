"""Keeping ``Painting.content_hash`` current after what it is computed from changed elsewhere (an
artist or story group renamed by hand or by an import), announcing the paintings whose hash
changed. Used by the catalogue services and the import, which import nothing of each other.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from catalog.models import Painting
from catalog.signals import notify_catalogue_changed
from catalog.text import painting_content_hash


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
