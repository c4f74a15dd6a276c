"""Reads of the catalogue: painting lists with filters and search, lookups by external id, the
collections (sources) and centuries a browse page offers, and the elicitation set of the paper's
study (paintings a visitor can see, one per story group).

A **collection** is where a painting comes from: its ``source`` as the import sets it from the
mapping (``catalog/mappings/*.toml``: "Art Institute of Chicago", "Tate", ...). Requests name
it by its slug, ``slugify(source)`` ("art-institute-of-chicago"), which stays the same as long as
the source name does; the full name (case-insensitive) is accepted too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, QuerySet
from django.utils.text import slugify

from catalog.compiled import InListQuery
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


@dataclass(frozen=True, slots=True)
class CollectionRef:
    slug: str  # what requests send: ``slugify(name)``
    name: str  # ``Painting.source``
    count: int  # paintings


def collection_list() -> list[CollectionRef]:
    """Every collection with its number of paintings, by name (one query, on the indexed column)."""
    rows = (
        Painting.objects.exclude(source="")
        .order_by("source")
        .values_list("source")
        .annotate(count=Count("pk"))
    )
    return [CollectionRef(slug=slugify(name), name=name, count=count) for name, count in rows]


def collection_source(collection: str) -> str:
    """The ``source`` a collection slug (or name, any case) stands for; ``ValidationFailed`` on
    field ``collection`` naming the known slugs when none matches. One query."""
    wanted = collection.strip().lower()
    sources = Painting.objects.exclude(source="").order_by("source").values_list("source", flat=True)
    known = list(sources.distinct())
    for source in known:
        if wanted in (slugify(source), source.lower()):
            return source
    listed = ", ".join(slugify(source) for source in known) or "none"
    raise ValidationFailed(
        f"Unknown collection {collection!r}; known collections: {listed}.", field="collection"
    )


def story_group_list() -> list[StoryGroup]:
    """Every story group, by name (one query)."""
    return list(StoryGroup.objects.order_by("name", "slug"))


def century_list() -> list[tuple[int, int]]:
    """(century start year, paintings) of every century with a dated painting, oldest first: a
    painting counts in the century of its ``year_start`` (1890 -> 1800). One query."""
    century = ExpressionWrapper(F("year_start") / 100 * 100, output_field=IntegerField())
    rows = (
        Painting.objects.filter(year_start__gte=0)
        .annotate(century=century)
        .order_by("century")
        .values_list("century")
        .annotate(count=Count("pk"))
    )
    return [(int(start), count) for start, count in rows]


def painting_list(
    *,
    artist: int | str | None = None,
    story_group: str | None = None,
    collection: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    q: str = "",
    has_image: bool | None = None,
) -> QuerySet[Painting]:
    """Paintings matching every given filter, ordered by external id (stable across pages).

    ``artist`` is an artist pk or name (case-insensitive, exact); ``collection`` a collection slug
    or name (``collection_source``: one more query). ``year_from``/``year_to`` keep
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
    if collection:
        qs = qs.filter(source=collection_source(collection))
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
    *,
    story_group: str | None,
    artist: int | str | None,
    collection: str | None = None,
    has_image: bool | None = None,
) -> list[int] | None:
    """Pks of the paintings in ``story_group`` (slug) by ``artist`` (pk or name) from
    ``collection`` (slug or name), with a viewable image when ``has_image``; None without
    filters. One query (plus one to resolve a collection), a second only when nothing matches:
    an unknown story group, artist or collection is a ``ValidationFailed`` naming the field, a
    known one with no such painting an empty list."""
    if story_group is None and artist is None and collection is None and has_image is None:
        return None
    paintings = Painting.objects.order_by()
    if collection is not None:
        paintings = paintings.filter(source=collection_source(collection))
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


@dataclass(frozen=True, slots=True)
class PaintingSummaryRow:
    """What a summary shows of a painting (``PaintingSummarySerializer``'s fields), read as plain
    values: no model instance, for answers that list many paintings per request."""

    pk: int
    external_id: str
    title: str
    date_text: str
    year_start: int | None
    year_end: int | None
    artist_id: int | None
    artist_name: str | None
    story_group_slug: str | None
    story_group_name: str | None
    image: str  # storage name, "" without a file
    image_status: str
    image_sha256: str

    @property
    def has_image(self) -> bool:  # as ``Painting.has_image``
        return self.image_status == Painting.ImageStatus.OK and bool(self.image)


_SUMMARY_COLUMNS = (
    "pk",
    "external_id",
    "title",
    "date_text",
    "year_start",
    "year_end",
    "artist_id",
    "artist__name",
    "story_group__slug",
    "story_group__name",
    "image",
    "image_status",
    "image_sha256",
)


_SUMMARIES = InListQuery(
    Painting,
    lambda pks: Painting.objects.filter(pk__in=pks).order_by().values_list(*_SUMMARY_COLUMNS),
    prepare=int,
)


def painting_summaries_by_pk(*, pks: Iterable[int]) -> dict[int, PaintingSummaryRow]:
    """pk -> summary row (artist and story group joined) in one query; pks no longer catalogued
    are left out. The cheap form of ``paintings_by_pk`` for answers built without serializers
    (and its SQL compiled once per list length: ``catalog.compiled``)."""
    rows = _SUMMARIES.rows(pks)
    return {row[0]: PaintingSummaryRow(*row[:10], row[10] or "", *row[11:]) for row in rows}


_REF_COLUMNS = ("pk", "external_id", "title", "image", "image_status", "image_sha256")
_REFS = InListQuery(
    Painting,
    lambda ids: Painting.objects.filter(external_id__in=ids).order_by().values_list(*_REF_COLUMNS),
    prepare=str,
)


def painting_refs_by_external_id(*, fields: dict[str, list[str]]) -> dict[str, PaintingSummaryRow]:
    """external id -> id, title and image of every painting the request ``fields`` name (no
    artist or story group: those are None), one query for all fields: the ids resolved to pks
    and what explains a recommendation (title, thumbnail). The first field (in order) naming an
    unknown id is an ``UnknownPainting`` listing them (``detail["unknown_ids"]``), worded as
    ``users.services.resolve_paintings`` words it."""
    wanted = {external_id for ids in fields.values() for external_id in ids}
    rows = _REFS.rows(wanted)  # one query, compiled once per number of ids (``catalog.compiled``)
    no_summary = ("", None, None, None, None, None, None)  # date, years, artist, story group
    found = {
        external_id: PaintingSummaryRow(pk, external_id, title, *no_summary, image or "", status, sha256)
        for pk, external_id, title, image, status, sha256 in rows
    }
    for field, ids in fields.items():
        missing = sorted(set(ids) - found.keys())
        if missing:
            raise UnknownPainting.for_ids(missing, field=field)
    return found


def paintings_by_pk(*, pks: Iterable[int]) -> dict[int, Painting]:
    """pk -> painting (with artist and story group) in one query, for hydrating ranked pk lists."""
    return painting_queryset().in_bulk(list(pks))


ELICITATION_SIZE = 9
GROUP_ORDER = ("elicitation_order", "name", "slug")  # the curators' order of story groups
_CURATOR_ORDER = tuple(f"story_group__{f}" for f in GROUP_ORDER)
#: ``set_number`` beyond this counts as this (each set costs ``size`` steps to skip past).
MAX_SET_NUMBER = 10_000


def elicitation_groups() -> QuerySet[StoryGroup]:
    """Story groups the elicitation draws from: used in elicitation, with at least one painting
    a visitor can see, in curator order (``elicitation_order``, then name)."""
    viewable = Painting.objects.filter(_HAS_IMAGE, story_group=OuterRef("pk"))
    return StoryGroup.objects.filter(use_in_elicitation=True).filter(Exists(viewable)).order_by(*GROUP_ORDER)


def elicitation_deal(
    pools: list[list[int]], *, size: int, per_group: int | None, set_number: int
) -> list[int]:
    """Sets ``0..set_number`` dealt from ``pools`` (one shuffled list per group, in curator
    order); returns the last. Cards are dealt round-robin over the groups, continuing where the
    previous set stopped, each group from where its pool stopped, so a new set repeats no
    painting until a group's pool runs out (it then starts over). Within one set no painting
    repeats and no group gives more than ``per_group``. With at least ``size`` groups a set is
    one painting of ``size`` consecutive groups; with fewer the set is spread over all groups."""
    if not pools:
        return []
    cap = min(per_group or size, size)
    cursor = 0
    position = [0] * len(pools)
    chosen: list[int] = []
    for _ in range(min(max(set_number, 0), MAX_SET_NUMBER) + 1):
        chosen, taken = [], [0] * len(pools)
        idle = 0  # groups visited in a row without a pick; a whole round of them ends the set
        while len(chosen) < size and idle < len(pools):
            group = cursor
            cursor = (cursor + 1) % len(pools)
            pool = pools[group]
            if taken[group] >= min(cap, len(pool)):
                idle += 1
                continue
            chosen.append(pool[position[group] % len(pool)])
            position[group] += 1
            taken[group] += 1
            idle = 0
    return chosen


def elicitation_set(
    *,
    seed: int | None,
    per_group: int | None = None,
    size: int = ELICITATION_SIZE,
    set_number: int = 0,
    collection: str | None = None,
    curated_only: bool = True,
) -> list[Painting]:
    """The paintings a new visitor rates first: ``size`` (9, as in the paper's study) paintings
    with a viewable image from the groups of ``elicitation_groups`` (curator order), so the first
    ratings cover the catalogue's themes and every card shows its picture.

    With at least ``size`` groups the set holds one painting of each of ``size`` groups (the
    first ones in curator order for ``set_number`` 0); with fewer it is spread evenly over all of
    them. ``per_group`` caps how many paintings one group gives (``None``: no cap beyond
    ``size``); a cap can make the set smaller than ``size``. The order is the groups' order.

    ``seed`` shuffles each group's paintings (the same seed draws the same set while the
    catalogue is unchanged; ``None`` draws a fresh one). ``collection`` (slug or name) draws from
    that collection's paintings only (a museum app's key restricted to it). "Show another set"
    is ``set_number`` 1, 2, ... with the same seed: it continues with the next groups and each group's next
    paintings, repeating no painting already shown until a group has none left unshown.

    Two queries whatever the catalogue size: the (pk, group) pairs of viewable paintings in
    those groups, dealt in Python (no ``ORDER BY random()``), then the chosen paintings.
    ``curated_only=False`` draws from every story group (``recsys.serving.elicitation``'s
    fallback while no group is flagged and no engine is ready for clusters).
    """
    flagged = Q(story_group__use_in_elicitation=True) if curated_only else Q(story_group__isnull=False)
    rows = (
        Painting.objects.filter(_HAS_IMAGE, flagged)
        .order_by(*_CURATOR_ORDER, "pk")
        .values_list("pk", "story_group_id")
    )
    if collection is not None:
        rows = rows.filter(source=collection_source(collection))
    pools: dict[int, list[int]] = {}  # group id -> its viewable paintings; insertion = curator order
    for pk, group_id in rows:
        pools.setdefault(group_id, []).append(pk)
    if seed is None:
        seed = random.randrange(2**63)
    for group_id, pool in pools.items():  # one generator per group: adding a group changes no other
        random.Random(f"{seed}:{group_id}").shuffle(pool)
    chosen = elicitation_deal(list(pools.values()), size=size, per_group=per_group, set_number=set_number)
    return list(painting_queryset().filter(pk__in=chosen).order_by(*_CURATOR_ORDER, "external_id"))
