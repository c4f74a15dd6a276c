"""Opening a painting's image for the image engines.

The catalogue validates images on import, but files can still disappear or be replaced between
import and a precompute run; an engine must then skip (or, for joint engines, fall back on) that
one painting with a reason the artefact log can show, instead of failing the whole run.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError


class ImageUnreadable(Exception):
    """The image could not be opened; ``str(exc)`` is the reason recorded for the painting."""


def resolve_image_path(path: str | Path) -> Path:
    """Absolute paths are used as they are; relative ones are relative to ``MEDIA_ROOT``."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else Path(settings.MEDIA_ROOT) / candidate


def open_rgb(path: str | Path) -> Image.Image:
    """Decode ``path`` fully into an RGB image, upright according to its EXIF orientation.

    Raises ``ImageUnreadable`` for a missing file, a file Pillow cannot decode, a truncated file
    or a decompression bomb; the returned image holds no open file handle.
    """
    resolved = resolve_image_path(path)
    if not resolved.is_file():
        raise ImageUnreadable(f"image file not found: {resolved.name}")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat it as an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(resolved) as image:
                upright = ImageOps.exif_transpose(image)
                return upright.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageUnreadable(f"image unreadable: {resolved.name} ({type(exc).__name__})") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # truncated data, bad headers, bad EXIF
        raise ImageUnreadable(f"image unreadable: {resolved.name} ({exc})") from exc
