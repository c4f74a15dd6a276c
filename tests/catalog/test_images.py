"""Image checks and normalisation, and fetching remote images (a local HTTP server stands in
for the museum's CDN)."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from catalog.importing.images import ImageProblem, ImageUnavailable, fetch_image, normalise_image, sha256_hex
from catalog.models import Painting
from tests.catalog.conftest import jpeg_bytes, png_bytes, run_import, stored_files, write_csv


def decoded(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def test_small_rgb_jpeg_is_stored_byte_for_byte():
    data = jpeg_bytes(size=(40, 30))

    image = normalise_image(data, max_side=100)

    assert image.content == data
    assert (image.sha256, image.width, image.height) == (sha256_hex(data), 40, 30)


def test_large_image_is_shrunk_to_the_longest_side():
    image = normalise_image(jpeg_bytes(size=(400, 100)), max_side=100)

    assert (image.width, image.height) == (100, 25)
    assert decoded(image.content).size == (100, 25)


def test_png_with_alpha_becomes_rgb_jpeg_on_white():
    image = normalise_image(png_bytes(size=(20, 10)), max_side=100)

    stored = decoded(image.content)
    assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (20, 10))


def test_greyscale_becomes_rgb():
    image = normalise_image(png_bytes(size=(8, 8), mode="L"), max_side=100)

    assert decoded(image.content).mode == "RGB"


def test_garbage_is_not_an_image():
    with pytest.raises(ImageProblem, match="not a readable image"):
        normalise_image(b"GIF89a but not really", max_side=100)


# --- remote images -------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, bytes] = {}
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    """A local image server in a thread: ``(base_url, routes, hits)``."""
    _Handler.routes, _Handler.hits = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", _Handler.routes, _Handler.hits
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_fetch_returns_the_bytes(server):
    base, routes, _ = server
    routes["/a.jpg"] = jpeg_bytes()

    assert fetch_image(f"{base}/a.jpg", timeout=5, max_bytes=10_000) == routes["/a.jpg"]


def test_fetch_of_a_missing_url_is_unavailable(server):
    base, _, _ = server

    with pytest.raises(ImageUnavailable, match="HTTP 404"):
        fetch_image(f"{base}/nope.jpg", timeout=5, max_bytes=10_000)


def test_fetch_refuses_more_than_the_limit(server):
    base, routes, _ = server
    routes["/big.jpg"] = jpeg_bytes(size=(300, 300))

    with pytest.raises(ImageUnavailable, match="larger than CATALOG_IMAGE_MAX_BYTES"):
        fetch_image(f"{base}/big.jpg", timeout=5, max_bytes=100)


def _remote_manifest(tmp_path, url: str):
    columns = ["external_id", "title", "image_url"]
    return write_csv(
        tmp_path / "catalogue.csv", [{"external_id": "r-1", "title": "Remote", "image_url": url}], columns
    )


@pytest.mark.django_db
def test_remote_image_is_not_fetched_when_fetching_is_off(tmp_path, server, media_root):
    base, routes, hits = server
    routes["/a.jpg"] = jpeg_bytes()

    report = run_import(_remote_manifest(tmp_path, f"{base}/a.jpg"))

    assert report.problems == []
    painting = Painting.objects.get()
    assert (painting.image_status, painting.image.name, painting.image_url) == ("remote", "", f"{base}/a.jpg")
    assert hits == []
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_remote_image_is_fetched_once_and_then_kept(tmp_path, server, settings, media_root):
    settings.CATALOG_FETCH_REMOTE_IMAGES = True
    base, routes, hits = server
    routes["/a.jpg"] = jpeg_bytes(size=(50, 20))
    manifest = _remote_manifest(tmp_path, f"{base}/a.jpg")

    run_import(manifest)
    second = run_import(manifest)

    painting = Painting.objects.get()
    assert (painting.image_status, painting.image_width, painting.image_height) == ("ok", 50, 20)
    assert hits == ["/a.jpg"]
    assert second.unchanged == 1
    assert stored_files(media_root) == [painting.image.name.split("/")[1]]


@pytest.mark.django_db
def test_unreachable_remote_image_is_marked_unavailable(tmp_path, server, settings):
    settings.CATALOG_FETCH_REMOTE_IMAGES = True
    base, _, _ = server

    report = run_import(_remote_manifest(tmp_path, f"{base}/gone.jpg"))

    assert [(p.row, p.field, p.reason) for p in report.problems] == [
        (2, "image_url", "remote image could not be fetched: HTTP 404")
    ]
    assert Painting.objects.get().image_status == Painting.ImageStatus.UNAVAILABLE
