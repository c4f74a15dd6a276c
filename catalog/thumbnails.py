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
    key = painting.image_sha256[:16] or hashlib.sha256(painting.image.name.encode()).hexdigest()[:16]
    return f"{THUMBNAIL_DIR}/{painting.external_id}-{key}-{settings.CATALOG_THUMBNAIL_SIDE}.jpg"


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
    name = thumbnail_name(painting)
    try:
        target = Path(default_storage.path(name))
        if not target.exists():
            _render(Path(painting.image.path), target, side=settings.CATALOG_THUMBNAIL_SIDE)
    except NotImplementedError:
        return painting.image.url
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        logger.warning("No thumbnail for painting %s: %s", painting.external_id, exc)
        return painting.image.url
    return default_storage.url(name)
