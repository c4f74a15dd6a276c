"""Reads for the web pages: the visitor's ratings (stored ones for a user, the session's for an
anonymous visitor), recommendation results turned into cards with every painting they mention
(recommended, explaining, ignored) loaded in one query, similar paintings, and the browse and
search pages (a page of the filtered catalogue, search results as cards).

This module is the web UI's door to the recommender's reads (statuses, similar paintings, plain
names of recommenders); the recommendations themselves come through
``experiments.hooks.recommend_for_web_visitor`` (the A/B integration point, which calls
``recsys.serving.recommend.recommend``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator

from catalog.models import Painting, StoryGroup
from catalog.selectors import (
    CollectionRef,
    century_list,
    collection_list,
    painting_list,
    paintings_by_pk,
    story_group_list,
)
from catalog.thumbnails import thumbnail_url
from recsys.models import Artefact
from recsys.serving.definitions import LATE, SINGLE_ENGINE_KINDS
from recsys.serving.explanations import PULLED_UP
from recsys.serving.explanations import reasons as explanation_reasons
from recsys.serving.recommend import RecommendationResult
from recsys.serving.recommenders import get_recommender as _get_recommender
from recsys.serving.search import IMAGE, TEXT, SearchResult, ready_search_engine
from recsys.serving.search import search_image as _search_image
from recsys.serving.search import search_text as _search_text
from recsys.serving.selectors import RecommenderStatus
from recsys.serving.selectors import recommender_statuses as _recommender_statuses
from recsys.serving.similar import similar_paintings as _similar_paintings
from users.models import RATING_MAX, RATING_MIN, Rating, User
from users.selectors import user_rating_map

#: where an anonymous visitor's ratings live: ``{external_id: value}``, oldest first
SESSION_RATINGS_KEY = "web_ratings"
#: the seed of the elicitation set on screen
SESSION_SEED_KEY = "web_elicitation_seed"
#: which set of that seed is on screen (0, then 1, 2, ... for "show another set")
SESSION_SET_KEY = "web_elicitation_set"
#: set numbers are 0 .. SET_LIMIT - 1
SET_LIMIT = 10_000
#: elicitation seeds are drawn from 0 .. SEED_LIMIT - 1
SEED_LIMIT = 2**31

Visitor = User | AnonymousUser


def session_ratings(*, session: SessionBase) -> dict[str, int]:
    """The session's ratings, ``external_id -> value`` (oldest first); malformed entries are dropped."""
    raw = session.get(SESSION_RATINGS_KEY)
    if not isinstance(raw, dict):
        return {}
    return {
        str(external_id): value
        for external_id, value in raw.items()
        if isinstance(value, int) and not isinstance(value, bool) and RATING_MIN <= value <= RATING_MAX
    }


def visitor_ratings(
    *, user: Visitor, session: SessionBase, only: Collection[str] | None = None
) -> dict[str, int]:
    """The visitor's ratings by external id, oldest first (stored ones for a user, else the
    session's); ``only`` restricts them to those paintings."""
    if user.is_authenticated:
        rows = Rating.objects.filter(user=user).order_by("updated_at", "id")
        if only is not None:
            rows = rows.filter(painting__external_id__in=list(only))
        return dict(rows.values_list("painting__external_id", "value"))
    ratings = session_ratings(session=session)
    if only is None:
        return ratings
    wanted = set(only)
    return {external_id: value for external_id, value in ratings.items() if external_id in wanted}


def visitor_rating_of(*, user: Visitor, session: SessionBase, painting: Painting) -> int | None:
    """The visitor's rating of one painting, or None."""
    if user.is_authenticated:
        return Rating.objects.filter(user=user, painting=painting).values_list("value", flat=True).first()
    return session_ratings(session=session).get(painting.external_id)


def visitor_rating_map(*, user: Visitor, session: SessionBase) -> dict[int, int]:
    """``painting pk -> value``, the input of the recommender.

    A user's most recent ``RECSYS_MAX_RATINGS``; for an anonymous visitor the session's ratings of
    paintings still in the catalogue (those removed since are skipped, so they never fail a
    request; ``web.services.visitor_ratings_save`` drops them from the session).
    """
    if user.is_authenticated:
        return user_rating_map(user=user, limit=settings.RECSYS_MAX_RATINGS)
    ratings = session_ratings(session=session)
    if not ratings:
        return {}
    pks = dict(Painting.objects.filter(external_id__in=list(ratings)).values_list("external_id", "pk"))
    return {pks[external_id]: value for external_id, value in ratings.items() if external_id in pks}


def rated_rows(*, user: Visitor, session: SessionBase) -> list[tuple[Painting, int, str | None]]:
    """(painting, value, thumbnail URL) of everything the visitor rated, newest first."""
    ratings = visitor_ratings(user=user, session=session)  # oldest first
    paintings = Painting.objects.select_related("artist").in_bulk(list(ratings), field_name="external_id")
    return [
        (paintings[external_id], value, thumbnail_url(paintings[external_id]))
        for external_id, value in reversed(ratings.items())
        if external_id in paintings
    ]


def recommender_statuses() -> list[RecommenderStatus]:
    """Every recommender with its readiness, in settings order, past this process's memo
    (``recsys.serving.status_cache``): a page reloaded because ``ready_status`` (the database)
    says a recommender is ready, or a better one is, must show it, not the state memoised up
    to ``RECSYS_STATUS_LOCAL_S`` before the worker's activation. A page costs the shared cache
    round trip the memo saves the API's hot path."""
    return _recommender_statuses(local=False)


def similar_rows(*, painting: Painting, engine: str, n: int) -> list[tuple[Painting, Any, str | None]]:
    """(painting, its ``SimilarPainting``, thumbnail URL) of the ``n`` paintings most similar to
    ``painting`` under ``engine``, most similar first; raises ``ApplicationError`` when the engine
    cannot answer (not computed yet, unknown)."""
    found = _similar_paintings(painting_id=painting.pk, engine=engine, n=n)
    by_pk = paintings_by_pk(pks=[s.painting_id for s in found])
    return [
        (by_pk[s.painting_id], s, thumbnail_url(by_pk[s.painting_id]))
        for s in found
        if s.painting_id in by_pk
    ]


# -- browse and search ---------------------------------------------------------------------------
#: paintings per page of the browse page
BROWSE_PAGE_SIZE = 24


@dataclass(frozen=True)
class PaintingCard:
    """A painting on the browse or search page; ``score`` is the search's cosine (None: browse)."""

    painting: Painting
    thumbnail: str | None
    score: float | None = None


@dataclass(frozen=True)
class BrowsePage:
    cards: tuple[PaintingCard, ...]
    page: DjangoPage  # number, paginator.count / num_pages, has_next/has_previous


def browse_page(*, filters: dict[str, Any], page: int | str | None) -> BrowsePage:
    """One page of ``catalog.selectors.painting_list(**filters)`` (a page out of range gives the
    last one); ``ApplicationError`` for an unknown collection. Two queries: count and page."""
    found = Paginator(painting_list(**filters), BROWSE_PAGE_SIZE).get_page(page)
    return BrowsePage(cards=tuple(PaintingCard(p, thumbnail_url(p)) for p in found), page=found)


@dataclass(frozen=True)
class BrowseChoices:
    """What the browse filters offer, each read once."""

    collections: list[CollectionRef]
    story_groups: list[StoryGroup]
    centuries: list[tuple[int, int]]


def browse_choices() -> BrowseChoices:
    return BrowseChoices(
        collections=collection_list(), story_groups=story_group_list(), centuries=century_list()
    )


def search_engines_ready() -> dict[str, str | None]:
    """modality ("text", "image") -> the engine that would answer a search now, or None."""
    return {modality: ready_search_engine(modality=modality) for modality in (TEXT, IMAGE)}


@dataclass(frozen=True)
class SearchPage:
    engine: str
    modality: str
    cards: tuple[PaintingCard, ...]


def _search_page(result: SearchResult) -> SearchPage:
    by_pk = paintings_by_pk(pks=[hit.painting_id for hit in result.items])
    cards = tuple(
        PaintingCard(by_pk[hit.painting_id], thumbnail_url(by_pk[hit.painting_id]), hit.score)
        for hit in result.items
        if hit.painting_id in by_pk
    )
    return SearchPage(engine=result.engine, modality=result.modality, cards=cards)


def text_search_page(*, q: str, n: int, collection: str | None = None) -> SearchPage:
    """``recsys.serving.search.search_text`` as cards; raises ``ApplicationError`` as it does."""
    return _search_page(_search_text(q=q, n=n, collection=collection))


def image_search_page(*, upload: BinaryIO, n: int, collection: str | None = None) -> SearchPage:
    """``recsys.serving.search.search_image`` as cards; raises ``ApplicationError`` as it does."""
    return _search_page(_search_image(upload=upload, n=n, collection=collection))


@dataclass(frozen=True)
class Reason:
    """A liked painting that pulled a recommendation up ("Because you liked X"), or a disliked one
    that pushed it down ("ranked lower: close to Y, which you disliked"); no numbers."""

    painting: Painting
    rating: int
    effect: str  # recsys.serving.explanations.PULLED_UP or PUSHED_DOWN
    engine: str  # whose similarity it is (late fusion: the engine that ranked the item best)

    @property
    def pulled_up(self) -> bool:
        return self.effect == PULLED_UP


@dataclass(frozen=True)
class Card:
    painting: Painting
    thumbnail: str | None
    rank: int
    reasons: tuple[Reason, ...]
    #: late fusion only: (engine, its rank of this painting or None when outside its list)
    engine_ranks: tuple[tuple[str, int | None], ...] = ()


@dataclass(frozen=True)
class Ignored:
    painting: Painting | None
    painting_id: int
    reason: str


@dataclass(frozen=True)
class RecommendationPage:
    cards: tuple[Card, ...]
    ignored: tuple[Ignored, ...] = field(default=())


def recommendation_page(result: RecommendationResult) -> RecommendationPage:
    """Cards for a ``RecommendationResult``, in its rank order.

    The explanation names the liked paintings that pulled each one up and a disliked painting
    only as the reason it was pushed down (``recsys.serving.explanations``); cards carry no score.
    """
    explaining = {item.painting_id: explanation_reasons(item.contributions) for item in result.items}
    pks = [item.painting_id for item in result.items]
    pks += [c.painting_id for contributions in explaining.values() for c in contributions]
    pks += list(result.ignored_ratings)
    paintings = paintings_by_pk(pks=set(pks))

    cards = []
    for item in result.items:
        painting = paintings.get(item.painting_id)
        if painting is None:  # removed from the catalogue after the artefact was computed
            continue
        reasons = tuple(
            Reason(painting=paintings[c.painting_id], rating=c.rating, effect=c.effect, engine=c.engine)
            for c in explaining[item.painting_id]
            if c.painting_id in paintings
        )
        engine_ranks = tuple(item.engine_ranks.items()) if result.kind == LATE else ()
        cards.append(
            Card(
                painting=painting,
                thumbnail=thumbnail_url(painting),
                rank=item.rank,
                reasons=reasons,
                engine_ranks=engine_ranks,
            )
        )
    ignored = tuple(
        Ignored(painting=paintings.get(pk), painting_id=pk, reason=reason)
        for pk, reason in result.ignored_ratings.items()
    )
    return RecommendationPage(cards=tuple(cards), ignored=ignored)


def default_recommender(statuses: Sequence[RecommenderStatus]) -> str | None:
    """The recommender a visitor gets without choosing: the default (``is_default``: the first
    ready of ``RECSYS_DEFAULT_RECOMMENDERS``) when it is ready, else the first ready one the
    visitors are offered, else None (nothing computed yet)."""
    ready = [s for s in statuses if s.status == "ready" and s.name in settings.RECSYS_RECOMMENDERS]
    preferred = next((s.name for s in ready if s.is_default), None)
    return preferred or (ready[0].name if ready else None)


@dataclass(frozen=True)
class EngineChoice:
    """A representation engine offered for "similar paintings", with its readiness."""

    name: str
    status: str
    reason: str = ""
    progress: float | None = None


def engine_choices(statuses: Sequence[RecommenderStatus]) -> list[EngineChoice]:
    """Every configured engine, in settings order, with the status of the recommender that
    uses it alone (the single-engine kinds of ``recsys.serving.definitions``)."""
    by_engine = {}
    for status in statuses:
        engines = list(status.engines)
        if status.kind in SINGLE_ENGINE_KINDS:
            by_engine.setdefault(engines[0], status)
    choices = []
    for name in settings.RECSYS_ENGINES:
        status = by_engine.get(name)
        if status is None:
            choices.append(
                EngineChoice(name=name, status="unavailable", reason="Not offered as a recommender.")
            )
        else:
            choices.append(
                EngineChoice(name=name, status=status.status, reason=status.reason, progress=status.progress)
            )
    return choices


def default_engine(statuses: Sequence[RecommenderStatus], choices: Sequence[EngineChoice]) -> str | None:
    """The first ready engine of the default recommender, else the first ready engine."""
    ready = [c.name for c in choices if c.status == "ready"]
    preferred = next((s for s in statuses if s.is_default), None)
    for name in list(preferred.engines) if preferred is not None else []:
        if name in ready:
            return name
    return ready[0] if ready else None


# -- what visitors see ----------------------------------------------------------------------------
#: Plain names of the engines and settings recommenders, the only names visitors see (the admin
#: and the API keep the configuration names and the technical reasons).
PLAIN_LABELS = {
    "tfidf": "Text words (TF-IDF)",
    "lda": "Text topics (LDA)",
    "minilm": "Text meaning (MiniLM)",
    "resnet": "Visual look (ResNet)",
    "clip": "Text + image together (CLIP)",
    "blip": "Text + image matched (BLIP)",
    "late-total": "Text + image, fused",
    "late-partial": "Text + image, fused (top picks)",
    "late-text": "Text topics + meaning, fused",
    "learned": "Learned from ratings (MiniLM)",
    "paper:lda": "Paper's formula, text topics (LDA)",
    "paper:minilm": "Paper's formula, text meaning (MiniLM)",
    "paper:resnet": "Paper's formula, visual look (ResNet)",
    "paper:clip": "Paper's formula, text + image (CLIP)",
    "paper:blip": "Paper's formula, text + image (BLIP)",
    "dinov2": "Visual look (DINOv2)",
    "xlmr": "Text meaning, any language",
    "score-text": "Text topics + meaning, weighted",
    "late-tfidf-minilm": "Text words + meaning",
    "score-dinov2-xlmr": "Image + text, weighted",
}


def plain_label(name: str) -> str:
    """The visitor-facing name of an engine or recommender (a tidied name when none is set)."""
    return PLAIN_LABELS.get(name) or name.replace("-", " ").replace("_", " ").capitalize()


@dataclass(frozen=True)
class VisitorChoice:
    """A recommender (or engine) a visitor may pick: its name for the URL, its plain label."""

    name: str
    label: str


def visitor_recommenders(statuses: Sequence[RecommenderStatus]) -> list[VisitorChoice]:
    """The recommenders a visitor may choose: ready ones of the settings, in settings order
    (experiment arms defined in the admin are served by the A/B assignment, not offered here;
    nor the seed paper's eq. 1, ``paper:*``, kept for the API, A/B arms and the evaluation)."""
    return [
        VisitorChoice(name=s.name, label=plain_label(s.name))
        for s in statuses
        if s.status == "ready" and s.name in settings.RECSYS_RECOMMENDERS and offered_to_visitors(s.name)
    ]


def offered_to_visitors(name: str) -> bool:
    """The seed paper's eq. 1 (``paper:*``) is kept for the API, A/B arms and the evaluation: a
    visitor is offered the served recommenders only."""
    return not name.startswith("paper:")


def visitor_engines(choices: Sequence[EngineChoice]) -> list[VisitorChoice]:
    """The engines whose "similar paintings" a visitor may ask for: ready ones only."""
    return [VisitorChoice(name=c.name, label=plain_label(c.name)) for c in choices if c.status == "ready"]


def ready_recommender_names(active: Collection[str] | None = None) -> list[str]:
    """Names of the settings recommenders whose every engine has an active artefact (``active``:
    those engines, if the caller read them), in settings order: what the "getting ready" page
    polls, so one query, no artefact opened (the same rule as
    ``recsys.serving.selectors.recommender_statuses``' "ready")."""
    if active is None:
        active = set(Artefact.objects.filter(is_active=True).values_list("engine", flat=True))
    return [
        name
        for name in settings.RECSYS_RECOMMENDERS
        if offered_to_visitors(name) and all(engine in active for engine in _get_recommender(name).engines)
    ]
