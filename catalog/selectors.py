"""Reads of the catalogue: painting lists with filters and search, lookups by external id, and the
elicitation set of the paper's study (one painting per story group)."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from catalog.models import EXTERNAL_ID_RE, Artist, Painting, StoryGroup
from config.exceptions import UnknownPainting, ValidationFailed

EXTERNAL_ID_PATTERN = re.compile(EXTERNAL_ID_RE)

_HAS_IMAGE = Q(image_status=Painting.ImageStatus.OK) & ~Q(image="")


def painting_queryset() -> QuerySet[Painting]:
    """Paintings with what every summary shows (artist, story group) joined in the same query."""
    return Painting.objects.select_related("artist", "story_group")


def _artist_filter(artist: int | str, *, prefix: str = "artist__") -> Q:
    """An artist by pk (a whole number) or by name (case-insensitive, exact)."""
    return Q(**{f"{prefix}pk": artist}) if isinstance(artist, int) else Q(**{f"{prefix}name__iexact": artist})


def painting_list(
    *,
    artist: int | str | None = None,
    story_group: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    q: str = "",
    has_image: bool | None = None,
) -> QuerySet[Painting]:
    """Paintings matching every given filter, ordered by external id (stable across pages).

    ``artist`` is an artist pk or name (case-insensitive, exact). ``year_from``/``year_to`` keep
    paintings whose date range ``year_start..year_end`` overlaps the asked range (a painting with
    one known year counts as that year; one with none is left out once a year filter is given).
    ``q`` is split into words; each word must occur (case-insensitive) in the title, the artist's
    name or the curatorial description.
    """
    qs = painting_queryset()
    if artist is not None:
        qs = qs.filter(_artist_filter(artist))
    if story_group:
        qs = qs.filter(story_group__slug=story_group)
    if year_from is not None:
        qs = qs.filter(Q(year_end__gte=year_from) | Q(year_end__isnull=True, year_start__gte=year_from))
    if year_to is not None:
        qs = qs.filter(Q(year_start__lte=year_to) | Q(year_start__isnull=True, year_end__lte=year_to))
    for word in q.split():
        qs = qs.filter(
            Q(title__icontains=word) | Q(artist__name__icontains=word) | Q(description__icontains=word)
        )
    if has_image is not None:
        qs = qs.filter(_HAS_IMAGE if has_image else ~_HAS_IMAGE)
    return qs.order_by("external_id")


def painting_get(*, external_id: str, field: str = "id") -> Painting:
    """The painting with this external id, or ``UnknownPainting`` (404) naming ``field``."""
    painting = None
    if EXTERNAL_ID_PATTERN.fullmatch(external_id):
        painting = painting_queryset().filter(external_id=external_id).first()
    if painting is None:
        raise UnknownPainting(f"Unknown painting id: {external_id}.", field=field)
    return painting


def painting_pks_matching(
    *, story_group: str | None, artist: int | str | None, has_image: bool | None = None
) -> list[int] | None:
    """Pks of the paintings in ``story_group`` (slug) by ``artist`` (pk or name), with a viewable
    image when ``has_image``; None without filters. One query, a second only when nothing
    matches: an unknown story group or artist is a ``ValidationFailed`` naming the field, a
    known one with no such painting an empty list."""
    if story_group is None and artist is None and has_image is None:
        return None
    paintings = Painting.objects.order_by()
    if has_image is not None:
        paintings = paintings.filter(_HAS_IMAGE if has_image else ~_HAS_IMAGE)
    if story_group is not None:
        paintings = paintings.filter(story_group__slug=story_group)
    if artist is not None:
        paintings = paintings.filter(_artist_filter(artist))
    pks = list(paintings.values_list("pk", flat=True))
    if not pks:
        if story_group is not None and not StoryGroup.objects.filter(slug=story_group).exists():
            raise ValidationFailed(f"Unknown story group {story_group!r}.", field="story_group")
        if artist is not None and not Artist.objects.filter(_artist_filter(artist, prefix="")).exists():
            raise ValidationFailed(f"Unknown artist {artist!r}.", field="artist")
    return pks


def external_ids_by_pk(*, pks: Iterable[int]) -> dict[int, str]:
    """pk -> external id in one query (pks no longer catalogued are left out)."""
    return dict(Painting.objects.filter(pk__in=list(pks)).order_by().values_list("pk", "external_id"))


def paintings_by_pk(*, pks: Iterable[int]) -> dict[int, Painting]:
    """pk -> painting (with artist and story group) in one query, for hydrating ranked pk lists."""
    return painting_queryset().in_bulk(list(pks))


def elicitation_set(*, seed: int | None, per_group: int = 1) -> list[Painting]:
    """``per_group`` random paintings from every story group, ordered by story group name.

    As in the paper's study, a visitor rates one painting of each curated group, so the first
    ratings cover the catalogue's themes. Paintings with a stored image are preferred: a group's
    paintings without an image are drawn only when none of them has one (an app cannot show a
    painting it has no picture of). The same ``seed`` draws the same set while the catalogue is
    unchanged; ``None`` draws a fresh one.

    Two queries whatever the catalogue size: the (pk, group, has image) triples, drawn from in
    Python, then the chosen paintings - no ``ORDER BY random()`` per group.
    """
    rows = (
        Painting.objects.filter(story_group__isnull=False)
        .annotate(with_image=ExpressionWrapper(_HAS_IMAGE, output_field=BooleanField()))
        .values_list("pk", "story_group_id", "with_image")
        .order_by("story_group_id", "pk")
    )
    pools: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for pk, group_id, with_image in rows:
        pools[group_id][0 if with_image else 1].append(pk)

    rng = random.Random(seed)
    chosen: list[int] = []
    for group_id in sorted(pools):
        with_image, without_image = pools[group_id]
        pool = with_image or without_image
        chosen.extend(rng.sample(pool, min(per_group, len(pool))))
    return list(
        painting_queryset()
        .filter(pk__in=chosen)
        .order_by("story_group__name", "story_group__slug", "external_id")
    )
