"""Removing paintings: the rows (their ratings go with them) and, after the commit, their image
files; the engines are told once (``catalogue_changed``). Used by the import (rows a mapping no
longer imports) and by the admin (``catalog.services.paintings_delete``)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from catalog.importing.image_fields import image_storage
from catalog.models import Painting
from catalog.signals import notify_catalogue_changed


def paintings_delete(*, paintings: QuerySet[Painting]) -> int:
    """Delete paintings (their ratings go with them) and, after the commit, their image files."""
    storage = image_storage()
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
