"""Image search is bounded before decoding: pixel count, bytes and mode are checked from the header
whatever the engine choice, a decompression bomb is a 400, and a named engine that is not ready
answers 503 before the upload is read."""
# ruff: noqa: F811  (the image-search fixtures of test_search.py, imported as parameters)

from __future__ import annotations

import struct
import zlib
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.importing.images import ImageProblem, normalise_image, read_header
from tests.api.test_search import _image_artefact, museum, pictures, tiny_engines  # noqa: F401
from tests.recsys_engines.conftest import tiny_models  # noqa: F401

IMAGE_URL = "/api/v1/search/image/"


def png_header_only(width: int, height: int, *, colour_type: int = 6, depth: int = 8) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` (RGBA by default) but whose pixel data is
    a few bytes: what a 362 KB "9400x9400" upload looks like to the header reader, without this
    test allocating the pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _post(api_client, data: bytes, **fields):
    image = SimpleUploadedFile("bomb.png", data, content_type="image/png")
    return api_client.post(IMAGE_URL, {"image": image, **fields}, format="multipart")


@pytest.mark.parametrize("engine", [None, "resnet"])  # the guard held only without a named engine
def test_too_many_pixels_is_400_from_the_header_without_decoding(
    api_client,
    tiny_engines,
    pictures,
    museum,
    tmp_path,
    settings,
    engine,
):
    _image_artefact("resnet", museum, tmp_path)
    fields = {"engine": engine} if engine else {}
    with mock.patch.object(Image.Image, "load", side_effect=AssertionError("decoded")) as load:
        response = _post(api_client, png_header_only(9400, 9400), **fields)
    error = response.json()["error"]
    assert (response.status_code, error["field"]) == (400, "image")
    assert "9400x9400 pixels (88.4 megapixels), more than the 16.0 megapixels accepted" in error["message"]
    assert load.call_count == 0


def test_a_decompression_bomb_is_a_400_not_a_500(
    api_client, tiny_engines, pictures, museum, tmp_path, settings
):
    _image_artefact("resnet", museum, tmp_path)
    settings.RECSYS_SEARCH_IMAGE_MAX_PIXELS = 10**10  # Pillow's own check (2 x MAX_IMAGE_PIXELS) fires
    response = _post(api_client, png_header_only(20000, 20000))
    error = response.json()["error"]
    assert (response.status_code, error["field"]) == (400, "image")
    assert "too many pixels to decode" in error["message"]


def test_a_named_engine_that_is_not_ready_is_503_before_the_upload_is_read(api_client, museum):
    with mock.patch("recsys.serving.search.query_image") as read:
        response = _post(api_client, png_header_only(9400, 9400), engine="clip")
    assert response.status_code == 503 and response.json()["error"]["code"] == "engine_unavailable"
    assert read.call_count == 0


def test_the_catalogue_import_refuses_too_many_pixels_before_decoding():
    with pytest.raises(ImageProblem, match=r"more than the 1\.0 megapixels accepted"):
        normalise_image(png_header_only(2000, 1000), max_side=1024, max_pixels=1_000_000)


def test_the_header_reader_names_format_mode_and_size():
    header = read_header(png_header_only(30, 20, colour_type=2))
    assert (header.format, header.mode, header.width, header.height) == ("PNG", "RGB", 30, 20)
