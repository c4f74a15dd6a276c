"""Writes to the catalogue by hand (the admin): paintings, their images, artists and story groups.

Typed, keyword-only. Every write keeps ``Painting.content_hash`` current and announces the
paintings whose content changed with ``catalog.signals.catalogue_changed`` after the commit.
The import lives in ``catalog.importing`` (``catalog.importing.runner.catalogue_import``).
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet

from catalog.hashes import paintings_refresh_content_hash
from catalog.importing.image_fields import image_storage, stored_image_values
from catalog.importing.images import CheckedUpload
from catalog.importing.records import humanise
from catalog.importing.removal import paintings_delete  # noqa: F401  (the catalogue's writes, one place)
from catalog.models import Artist, Painting, StoryGroup
from catalog.signals import notify_catalogue_changed
from catalog.text import painting_content_hash

# --- single paintings (admin) --------------------------------------------------------------


def painting_save(*, painting: Painting, new_image: CheckedUpload | None = None) -> Painting:
    """Save a painting edited by hand. ``new_image`` is an upload already checked and normalised
    exactly like an imported image (``catalog.importing.images.check_upload``): it is stored
    as it is, not decoded again. Refreshes ``content_hash`` and announces the painting if its
    content changed."""
    storage = image_storage()
    stored = Painting.objects.filter(pk=painting.pk).values_list("content_hash", "image").first()
    previous_hash, old_name = stored if stored else (None, "")
    written: str | None = None
    stale: str | None = None
    if new_image is not None:
        image = new_image.image
        for key, value in stored_image_values(
            image, external_id=painting.external_id, source_sha256=new_image.source_sha256
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
