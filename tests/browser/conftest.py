"""End-to-end tests in real headless Chromium (Playwright for Python, Debian's /usr/bin/chromium).

The pages are served by pytest-django's ``live_server`` (a real HTTP server on this test
database, transactional) from a small catalogue of story groups whose paintings have real,
tiny generated JPEG images, and artefacts written with ``tests.artefact_helpers``. Screenshots
of every step go to ``var/test-artefacts/browser/`` (ignored by git), named after the test.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, sync_playwright

from catalog.models import Painting
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, StoryGroupFactory

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(settings.BASE_DIR) / "var" / "test-artefacts" / "browser"
GROUPS = 9  # one painting of each is shown: the paper's nine-painting elicitation set
PER_GROUP = 2
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def jpeg_upload(
    name: str, colour: tuple[int, int, int], *, size: tuple[int, int] = (240, 180)
) -> SimpleUploadedFile:
    """A tiny real JPEG: a coloured field with a lighter band, so screenshots show distinct images."""
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).rectangle(
        (0, size[1] // 3, size[0], size[1] // 2), fill=tuple(min(255, c + 80) for c in colour)
    )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, for one test module. Playwright's sync API keeps an event loop running in this
    thread, which Django takes for an async context; the ORM calls of these tests are plain
    blocking calls between browser steps, so its guard is lifted while the browser is open only."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it).")
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def live_site(live_server, settings) -> str:
    """The live server's base URL, serving media files too (tests/browser/urls.py)."""
    settings.ROOT_URLCONF = "tests.browser.urls"
    return live_server.url


def _page(browser: Browser, viewport: dict[str, int], request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(40_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"{msg.text} ({msg.location.get('url')})")
            if msg.type == "error" and not str(msg.location.get("url", "")).endswith("/favicon.ico")
            else None
        ),
    )
    yield page
    context.close()
    # a broken image, a CSP violation or a script error is a failure, not a silent glitch
    assert errors == [], errors


@pytest.fixture
def desktop(browser, request) -> Iterator[Page]:
    yield from _page(browser, DESKTOP, request)


@pytest.fixture
def phone(browser, request) -> Iterator[Page]:
    yield from _page(browser, PHONE, request)


@pytest.fixture
def shoot(request):
    """``shoot(page, "step")`` saves a full-page screenshot of the step as a test artefact."""
    folder = ARTEFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    count = 0

    def shoot(page: Page, step: str, *, full_page: bool = True) -> Path:
        nonlocal count
        count += 1
        path = folder / f"{count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    print(f"\nscreenshots: {folder}")
    return shoot


@pytest.fixture
def collection(transactional_db) -> list[Painting]:
    """Nine story groups of two paintings each with a real JPEG image, and in three of them a
    third painting without an image (in the artefacts too: it must never be shown)."""
    rng = np.random.default_rng(7)
    paintings = []
    for g in range(GROUPS):
        group = StoryGroupFactory(slug=f"group-{g}", name=f"Story group {g + 1}")
        for i in range(PER_GROUP):
            colour = tuple(int(c) for c in rng.integers(30, 200, size=3))
            paintings.append(
                PaintingFactory(
                    external_id=f"art-{g}-{i}",
                    title=f"Painting {g + 1}.{i + 1}",
                    story_group=group,
                    image=jpeg_upload(f"art-{g}-{i}.jpg", colour),
                    image_status=Painting.ImageStatus.OK,
                )
            )
        if g < 3:
            paintings.append(
                PaintingFactory(external_id=f"blind-{g}", title=f"Unseen {g + 1}", story_group=group)
            )
    return paintings


def publish(engines: tuple[str, ...], paintings: list[Painting]) -> None:
    """Ready artefacts for ``engines``: non-negative vectors, so every similarity is positive and
    every recommendation has an explanation."""
    rng = np.random.default_rng(11)
    for engine in engines:
        write_artefact(
            engine=engine, paintings=paintings, vectors=rng.uniform(0.05, 1.0, size=(len(paintings), 8))
        )


def images_loaded(page: Page, selector: str) -> list[int]:
    """naturalWidth of every image under ``selector`` once each has finished loading."""
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel + ' img')].every(img => img.complete)", arg=selector
    )
    return page.eval_on_selector_all(f"{selector} img", "imgs => imgs.map(img => img.naturalWidth)")
