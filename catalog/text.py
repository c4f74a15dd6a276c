"""The text every text engine reads for a painting, and the hash that says when to re-embed.

One function builds the text so LDA, MiniLM, CLIP and BLIP all see the same words, and the
import, the admin and the engines agree on ``Painting.content_hash``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from catalog.models import Painting


def compose_text(
    *,
    title: str,
    artist: str = "",
    medium: str = "",
    description: str = "",
    subjects: Sequence[str] = (),
) -> str:
    """Title, artist, medium, then the curatorial description (or, when a painting has none,
    its subject terms): one non-empty part per line.

    Dates and dimensions are left out on purpose: numbers carry no topical meaning for the
    text models and would make two paintings look alike for being the same size. The story
    group's name is left out too: it is the curators' grouping, and putting it in every
    engine's "content" would make paintings of one group similar by construction (and leak the
    grouping the offline evaluation holds out).
    """
    body = description.strip() or ", ".join(s.strip() for s in subjects if s.strip())
    parts = (title, artist, medium, body)
    return "\n".join(p.strip() for p in parts if p and p.strip())


def painting_text(painting: Painting) -> str:
    """The engines' text of ``painting`` (load it with ``select_related("artist")`` when calling
    this in a loop)."""
    return compose_text(
        title=painting.title,
        artist=painting.artist.name if painting.artist_id else "",
        medium=painting.medium,
        description=painting.description,
        subjects=painting.subjects or (),
    )


def content_hash(*, text: str, image_sha256: str) -> str:
    """sha256 over the text and the stored image's checksum: it changes exactly when something
    an engine reads changes."""
    return hashlib.sha256(f"{text}\n\x00{image_sha256}".encode()).hexdigest()


def painting_content_hash(painting: Painting) -> str:
    return content_hash(text=painting_text(painting), image_sha256=painting.image_sha256)
