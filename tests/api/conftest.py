"""Fixtures for the API tests: a small catalogue, paintings with real image files, tiny artefacts."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from PIL import Image

from catalog.models import Painting
from recsys.artefacts.reader import artefact_cache
from tests.artefact_helpers import write_artefact
from tests.factories import ArtistFactory, PaintingFactory, StoryGroupFactory

# Unit 2-d vectors with hand-checkable cosines (see test_recommendations.py).
VECTORS = {
    "a": (1.0, 0.0),
    "b": (0.0, 1.0),
    "c": (0.8, 0.6),
    "d": (0.6, 0.8),
    "e": (0.96, 0.28),
}


@pytest.fixture(autouse=True)
def _isolated_caches():
    """Throttle counters live in the cache; artefacts are cached per process."""
    cache.clear()
    artefact_cache.clear()
    yield
    cache.clear()
    artefact_cache.clear()


def jpeg_bytes(size: tuple[int, int] = (600, 400), colour: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def give_image(painting: Painting, data: bytes | None = None) -> Painting:
    """Store ``data`` (a JPEG by default) as the painting's image, as the import does."""
    data = jpeg_bytes() if data is None else data
    painting.image.save(f"{painting.external_id}.jpg", ContentFile(data), save=False)
    painting.image_status = Painting.ImageStatus.OK
    painting.image_sha256 = hashlib.sha256(data).hexdigest()
    painting.save()
    return painting


@pytest.fixture
def paintings(db) -> dict[str, Painting]:
    """Five paintings a..e in two story groups by two artists; a, c and e have images."""
    landscapes = StoryGroupFactory(slug="landscapes", name="Landscapes")
    portraits = StoryGroupFactory(slug="portraits", name="Portraits")
    monet = ArtistFactory(name="Claude Monet")
    vermeer = ArtistFactory(name="Johannes Vermeer")
    specs = {
        "a": ("Water Lilies", monet, landscapes, 1906, 1906),
        "b": ("Girl with a Pearl Earring", vermeer, portraits, 1665, 1665),
        "c": ("Haystacks", monet, landscapes, 1890, 1891),
        "d": ("The Milkmaid", vermeer, portraits, 1657, 1658),
        "e": ("Impression, Sunrise", monet, landscapes, 1872, 1872),
    }
    made = {
        key: PaintingFactory(
            external_id=f"p-{key}",
            title=title,
            artist=artist,
            story_group=group,
            year_start=start,
            year_end=end,
            date_text=str(start),
        )
        for key, (title, artist, group, start, end) in specs.items()
    }
    for key in ("a", "c", "e"):
        give_image(made[key])
    return made


@pytest.fixture
def minilm(paintings):
    """A ready artefact of the single-engine recommender ``minilm`` over a..e."""
    return write_artefact(
        engine="minilm", paintings=list(paintings.values()), vectors=[VECTORS[k] for k in paintings]
    )
