"""Thumbnails of painting images, made on first use and cached on disk.

The import stores one normalised image per painting (longest side ``CATALOG_IMAGE_MAX_SIDE``).
Grids in museum apps need far smaller files, so the API also serves ``thumbnail_url``: a JPEG
whose longest side is ``CATALOG_THUMBNAIL_SIDE``, written under ``MEDIA_ROOT/thumbnails/`` the first
time the painting is serialised. Its name contains the image checksum, so a replaced image gets
a new thumbnail and no cache ever serves a stale one. The write is atomic (temporary file in the
same folder, then ``os.replace``): concurrent first requests may both render, but nobody ever
reads a half-written file.

When no thumbnail can be made (unreadable image, a storage backend without local paths) the URL
of the full image is returned instead: the right picture, only larger, never an error.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from catalog.models import Painting

logger = logging.getLogger(__name__)

THUMBNAIL_DIR = "thumbnails"


def thumbnail_name(painting: Painting) -> str:
    """Storage name of the painting's thumbnail: external id, image checksum and size."""
    return _name(
        external_id=painting.external_id, image=painting.image.name, image_sha256=painting.image_sha256
    )


def _name(*, external_id: str, image: str, image_sha256: str) -> str:
    key = image_sha256[:16] or hashlib.sha256(image.encode()).hexdigest()[:16]
    return f"{THUMBNAIL_DIR}/{external_id}-{key}-{settings.CATALOG_THUMBNAIL_SIDE}.jpg"


def _render(source: Path, target: Path, *, side: int) -> None:
    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened)
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
        if image.mode != "RGB":
            image = image.convert("RGB")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                image.save(handle, format="JPEG", quality=85, optimize=True)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def thumbnail_url(painting: Painting) -> str | None:
    """Storage URL (relative) of the painting's thumbnail, made if missing; None without an image."""
    if not painting.has_image:
        return None
    return stored_thumbnail_url(
        external_id=painting.external_id, image=painting.image.name, image_sha256=painting.image_sha256
    )


def stored_thumbnail_url(*, external_id: str, image: str, image_sha256: str) -> str:
    """``thumbnail_url`` of a painting with a stored image, from its column values (``image``: the
    storage name): no model instance, for answers that list many paintings per request."""
    name = _name(external_id=external_id, image=image, image_sha256=image_sha256)
    try:
        target = Path(default_storage.path(name))
        if not target.exists():
            _render(Path(default_storage.path(image)), target, side=settings.CATALOG_THUMBNAIL_SIDE)
    except NotImplementedError:
        return default_storage.url(image)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        logger.warning("No thumbnail for painting %s: %s", external_id, exc)
        return default_storage.url(image)
    return default_storage.url(name)
