"""Reads the offline evaluation needs: candidates, taste groups, stored ratings and their counts."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
from django.db.models import Count

from catalog.models import Painting
from config.exceptions import ValidationFailed
from recsys.evaluation.visitors import TasteGroup
from users.models import Rating

#: an artist is a taste group from this many paintings among the candidates
MIN_ARTIST_PAINTINGS = 5


def candidate_pks(*, collection: str | None = None) -> np.ndarray:
    """Sorted pks of the catalogue, or of one source (``Painting.source``, case-insensitive)."""
    paintings = Painting.objects.order_by()
    if collection is not None:
        sources = sorted(set(paintings.values_list("source", flat=True)))
        match = [s for s in sources if s.lower() == collection.lower()]
        if not match:
            raise ValidationFailed(
                f"Unknown collection {collection!r}; choose one of {', '.join(sources)}.", field="collection"
            )
        paintings = paintings.filter(source=match[0])
    return np.sort(np.fromiter(paintings.values_list("pk", flat=True), dtype=np.int64))


def taste_groups(*, candidates: np.ndarray, min_size: int = MIN_ARTIST_PAINTINGS) -> list[TasteGroup]:
    """Every story group and every artist with at least ``min_size`` candidate paintings.

    A story group's kind names its paintings' main source (``story:Tate`` are Tate's first-listed
    subject categories, ``story:Cleveland Museum of Art`` CMA's departments, AIC's collections
    when AIC is imported); artists are ``artist``.
    """
    allowed = set(candidates.tolist())
    story: dict[int, list[int]] = defaultdict(list)
    story_name: dict[int, str] = {}
    story_sources: dict[int, list[str]] = defaultdict(list)
    artist: dict[int, list[int]] = defaultdict(list)
    artist_name: dict[int, str] = {}
    rows = Painting.objects.order_by("pk").values_list(
        "pk", "story_group_id", "story_group__name", "artist_id", "artist__name", "source"
    )
    for pk, group_id, group_name, artist_id, name, source in rows.iterator(chunk_size=5000):
        if pk not in allowed:
            continue
        if group_id is not None:
            story[group_id].append(pk)
            story_name[group_id] = group_name
            story_sources[group_id].append(source)
        if artist_id is not None:
            artist[artist_id].append(pk)
            artist_name[artist_id] = name
    groups = [
        TasteGroup(
            key=f"story-{gid}",
            kind=f"story:{max(set(story_sources[gid]), key=story_sources[gid].count)}",
            label=story_name[gid],
            members=np.array(pks, dtype=np.int64),
        )
        for gid, pks in sorted(story.items())
        if len(pks) >= min_size
    ]
    groups += [
        TasteGroup(
            key=f"artist-{aid}", kind="artist", label=artist_name[aid], members=np.array(pks, dtype=np.int64)
        )
        for aid, pks in sorted(artist.items())
        if len(pks) >= min_size
    ]
    return groups


#: hidden "subject" tastes of the end-to-end loop: paintings whose title says what they show
SUBJECTS = {
    "landscape": r"landscape|view of|river|mountain|valley|forest|countryside|woods|lake",
    "portrait": r"portrait",
    "religious": r"madonna|christ|saint|\bst\.? |virgin|annunciation|crucifixion|holy|adoration"
    r"|apostle|nativity",
    "still life": r"still life|still-life|flowers|fruit|bouquet",
    "sea": r"\bsea\b|harbou?r|ship|boat|coast|beach|port of",
}


def viewable_pks() -> np.ndarray:
    """Sorted pks of the paintings with a viewable image (what the web shows and recommends)."""
    rows = Painting.objects.order_by().filter(image_status=Painting.ImageStatus.OK).exclude(image="")
    return np.sort(np.fromiter(rows.values_list("pk", flat=True), dtype=np.int64))


def subject_groups(*, candidates: np.ndarray, min_size: int = MIN_ARTIST_PAINTINGS) -> list[TasteGroup]:
    """One taste group per ``SUBJECTS`` entry: the candidates whose title matches it (kind
    ``subject``), e.g. the landscape lover of issue 17."""
    allowed = set(candidates.tolist())
    titles = [
        (pk, t) for pk, t in Painting.objects.order_by("pk").values_list("pk", "title") if pk in allowed
    ]
    groups = []
    for label, pattern in SUBJECTS.items():
        regex = re.compile(pattern, re.IGNORECASE)
        members = [pk for pk, title in titles if regex.search(title)]
        if len(members) >= min_size:
            key = f"subject-{label.replace(' ', '-')}"
            groups.append(TasteGroup(key, "subject", label, np.array(members, dtype=np.int64)))
    return groups


def story_group_members(*, candidates: np.ndarray) -> list[np.ndarray]:
    """The candidates of each story group (what the elicitation draws one painting from)."""
    allowed = set(candidates.tolist())
    members: dict[int, list[int]] = defaultdict(list)
    for pk, group_id in Painting.objects.filter(story_group__isnull=False).values_list(
        "pk", "story_group_id"
    ):
        if pk in allowed:
            members[group_id].append(pk)
    return [np.array(sorted(pks), dtype=np.int64) for _, pks in sorted(members.items())]


def stored_ratings() -> dict[int, dict[int, int]]:
    """user id -> {painting pk: value} of every stored rating."""
    by_user: dict[int, dict[int, int]] = defaultdict(dict)
    for user_id, pk, value in Rating.objects.order_by().values_list("user_id", "painting_id", "value"):
        by_user[user_id][pk] = value
    return dict(by_user)


def rating_counts(*, painting_ids: np.ndarray) -> tuple[np.ndarray, int]:
    """How many users rated each of ``painting_ids`` (same order), and how many users rated any."""
    counts = dict(
        Rating.objects.order_by()
        .values("painting_id")
        .annotate(c=Count("id"))
        .values_list("painting_id", "c")
    )
    users = Rating.objects.order_by().values("user_id").distinct().count()
    return np.array([counts.get(int(pk), 0) for pk in painting_ids], dtype=np.int64), users
