"""Reading, checking, normalising and fetching painting images (no database).

Every stored image is an RGB JPEG whose longest side is at most ``CATALOG_IMAGE_MAX_SIDE``.
A file that already is one is stored byte for byte (re-encoding would only lose quality);
anything else (PNG, CMYK, alpha, rotated by EXIF, too large) is converted. Pillow fully
decodes every image, so a truncated or corrupt file is caught here, not by an engine later.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

USER_AGENT = "painting-recommender/1.0 (catalogue import)"
_EXIF_ORIENTATION = 0x0112
#: Pixel modes decoded at all, each at most 4 bytes a pixel (so pixels bound memory); any other
#: mode a header declares is refused before decoding.
DECODED_MODES = frozenset(
    {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}
    | {"I", "I;16", "I;16B", "I;16L", "F"}
)


class ImageProblem(Exception):
    """An image that cannot be used; ``status`` is the ``Painting.ImageStatus`` it leads to."""

    status = "invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotAnImage(ImageProblem):
    """Data whose header no image format recognises."""


class ImageMissing(ImageProblem):
    status = "missing"


class ImageUnavailable(ImageProblem):
    status = "unavailable"


@dataclass(frozen=True, slots=True)
class NormalisedImage:
    content: bytes
    sha256: str
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.content)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_image_file(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of a local image file, refusing files over ``max_bytes`` before reading them."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise ImageMissing("file not found") from exc
    except OSError as exc:
        raise ImageProblem(f"cannot be read: {exc.strerror}") from exc
    if size > max_bytes:
        raise ImageProblem(f"{size} bytes, more than CATALOG_IMAGE_MAX_BYTES ({max_bytes})")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageProblem(f"cannot be read: {exc.strerror}") from exc


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


@dataclass(frozen=True, slots=True)
class ImageHeader:
    format: str | None
    mode: str
    width: int
    height: int


def _checked_header(image: Image.Image, *, max_pixels: int | None) -> ImageHeader:
    header = ImageHeader(image.format, image.mode, image.width, image.height)
    if header.mode not in DECODED_MODES:
        raise ImageProblem(f"in pixel mode {header.mode}, which is not decoded (8-bit modes only)")
    pixels = header.width * header.height
    if max_pixels is not None and pixels > max_pixels:
        raise ImageProblem(
            f"{header.width}x{header.height} pixels ({pixels / 1e6:.1f} megapixels), more than the "
            f"{max_pixels / 1e6:.1f} megapixels accepted"
        )
    return header


def read_header(data: bytes, *, max_pixels: int | None = None) -> ImageHeader:
    """Format, mode and size of ``data`` from its header alone (nothing is decoded), or
    ``ImageProblem`` when it is no image (``NotAnImage``), has a mode in no ``DECODED_MODES``, or
    more than ``max_pixels`` pixels (decoding costs up to 4 bytes a pixel, before conversion).

    Pillow's own decompression-bomb check (``Image.MAX_IMAGE_PIXELS``) raises inside
    ``Image.open`` for twice its limit: answered here as the same ``ImageProblem``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the pixel bound decides
            with Image.open(io.BytesIO(data)) as probe:
                return _checked_header(probe, max_pixels=max_pixels)
    except Image.DecompressionBombError as exc:
        raise ImageProblem(f"too many pixels to decode ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise NotAnImage(f"not a readable image ({exc})") from exc
    except (OSError, SyntaxError, ValueError, TypeError) as exc:
        raise ImageProblem(f"not a readable image ({exc})") from exc


def normalise_image(
    data: bytes, *, max_side: int, quality: int = 90, max_pixels: int | None = None
) -> NormalisedImage:
    """Decode ``data`` completely and return it as an RGB JPEG no larger than ``max_side``; the
    header is checked first (mode and ``max_pixels``, as ``read_header``), so nothing too large
    is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            source_format = image.format
            _checked_header(image, max_pixels=max_pixels)
            image.load()
            orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
            if (
                source_format == "JPEG"
                and image.mode == "RGB"
                and max(image.size) <= max_side
                and orientation == 1
            ):
                return NormalisedImage(data, sha256_hex(data), image.width, image.height)
            image = _to_rgb(ImageOps.exif_transpose(image))
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=quality, optimize=True)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageProblem(f"not a readable image ({exc})") from exc
    except (OSError, SyntaxError, ValueError, TypeError) as exc:
        raise ImageProblem(f"not a readable image ({exc})") from exc
    content = out.getvalue()
    return NormalisedImage(content, sha256_hex(content), image.width, image.height)


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    """An uploaded image, checked and normalised once; ``source_sha256`` is of the bytes uploaded."""

    image: NormalisedImage
    source_sha256: str


def check_upload(
    upload: BinaryIO, *, max_bytes: int, max_side: int, max_pixels: int | None = None
) -> CheckedUpload:
    """Read at most ``max_bytes`` of an uploaded file and normalise it (the only decode, after the
    header's check against ``max_pixels``)."""
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageProblem(f"larger than CATALOG_IMAGE_MAX_BYTES ({max_bytes} bytes)")
    return CheckedUpload(normalise_image(data, max_side=max_side, max_pixels=max_pixels), sha256_hex(data))


def fetch_image(url: str, *, timeout: float, max_bytes: int) -> bytes:
    """GET ``url`` (http/https only) and return at most ``max_bytes`` of it."""
    if not url.lower().startswith(("http://", "https://")):
        raise ImageUnavailable("only http(s) URLs are fetched")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise ImageUnavailable(f"could not be fetched: HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise ImageUnavailable(f"could not be fetched: {exc.reason}") from exc
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
        raise ImageUnavailable(f"could not be fetched: {exc or type(exc).__name__}") from exc
    if len(data) > max_bytes:
        raise ImageUnavailable(f"larger than CATALOG_IMAGE_MAX_BYTES ({max_bytes})")
    return data
