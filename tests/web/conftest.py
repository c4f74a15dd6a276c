"""Fixtures of the web UI tests: a small catalogue of story groups and a tiny computed artefact."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import Painting
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, StoryGroupFactory

# Five paintings on a quarter circle: cosine similarity falls off with the angle between them.
VECTORS = {
    "p-a": (1.0, 0.0),
    "p-b": (0.9, 0.1),
    "p-c": (0.5, 0.5),
    "p-e": (0.1, 0.9),
    "p-d": (0.0, 1.0),
}


def png_upload(name: str = "painting.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 80, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def viewable(name: str = "painting.png") -> dict:
    """PaintingFactory arguments of a painting with a stored image (what visitors can see)."""
    return {"image": png_upload(name), "image_status": Painting.ImageStatus.OK}


@pytest.fixture
def groups(db) -> list:
    return [
        StoryGroupFactory(slug=slug, name=name)
        for slug, name in [
            ("impressionism", "Impressionism"),
            ("baroque", "Baroque"),
            ("modern", "Modern"),
        ]
    ]


@pytest.fixture
def catalogue(groups) -> dict[str, Painting]:
    """Two paintings per story group, keyed by external id: ``<group>-1`` with an image (so the
    elicitation shows it), ``<group>-2`` without."""
    paintings = {}
    for group in groups:
        for i in (1, 2):
            painting = PaintingFactory(
                external_id=f"{group.slug}-{i}",
                title=f"{group.name} painting {i}",
                story_group=group,
                **(viewable() if i == 1 else {}),
            )
            paintings[painting.external_id] = painting
    return paintings


@pytest.fixture
def scored(db) -> dict[str, Painting]:
    """The five VECTORS paintings (with images), with a ready artefact for the ``lda`` and
    ``resnet`` engines."""
    group = StoryGroupFactory(slug="landscapes", name="Landscapes")
    paintings = {
        external_id: PaintingFactory(
            external_id=external_id, title=f"Title {external_id}", story_group=group, **viewable()
        )
        for external_id in VECTORS
    }
    vectors = np.array([VECTORS[k] for k in paintings], dtype=np.float32)
    for engine in ("lda", "resnet"):
        write_artefact(engine=engine, paintings=list(paintings.values()), vectors=vectors)
    return paintings
