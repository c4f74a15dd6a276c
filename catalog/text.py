"""The text every text engine reads for a painting, and the hash that says when to re-embed.

One function builds the text so LDA, MiniLM, CLIP and BLIP all see the same words, and the
import, the admin and the engines agree on ``Painting.content_hash``. A painting's text in other
languages (``Painting.translations``, from import mappings that name a language per text field)
is composed the same way per language and read by the multilingual engine only
(``painting_translations``; ``recsys.engines.xlmr``): the English-only engines keep reading the
main text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

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


def compose_translations(translations: Mapping[str, Mapping[str, object]]) -> tuple[str, ...]:
    """The painting's text in each of its other languages (language code order), composed like
    ``compose_text`` from that language's title, medium, description and subjects (the artist's
    name is the main text's: it is no translation). Languages without any text give nothing."""
    out = []
    for language in sorted(translations):
        fields = translations[language] or {}
        subjects = fields.get("subjects") or ()
        text = compose_text(
            title=str(fields.get("title") or ""),
            medium=str(fields.get("medium") or ""),
            description=str(fields.get("description") or ""),
            subjects=[str(s) for s in subjects] if isinstance(subjects, list | tuple) else [str(subjects)],
        )
        if text:
            out.append(text)
    return tuple(out)


def painting_translations(painting: Painting) -> tuple[str, ...]:
    """The texts the multilingual engine reads besides ``painting_text`` (``Painting.translations``)."""
    return compose_translations(painting.translations or {})


def content_hash(
    *, text: str, image_sha256: str, translations: Mapping[str, Mapping[str, object]] | None = None
) -> str:
    """sha256 over the text, the stored image's checksum and the translations (when there are
    any, so paintings in one language keep their hash): it changes exactly when something an
    engine reads changes."""
    payload = f"{text}\n\x00{image_sha256}"
    if translations:
        payload += "\n\x00" + json.dumps(translations, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def painting_content_hash(painting: Painting) -> str:
    return content_hash(
        text=painting_text(painting),
        image_sha256=painting.image_sha256,
        translations=painting.translations or None,
    )
