"""Reads for the web pages: recommendation results turned into cards, with every painting they
mention (recommended, explaining, ignored) loaded in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from catalog.models import Painting
from catalog.selectors import paintings_by_pk
from catalog.thumbnails import thumbnail_url

#: how many rated paintings an explanation names ("because you rated X and Y")
EXPLANATION_SIZE = 2


@dataclass(frozen=True)
class Reason:
    """One rated painting that pulled a recommendation up: "because you rated X ★★★★★"."""

    painting: Painting
    rating: int
    contribution: float
    engine: str  # whose similarity it is (late fusion: the engine that ranked the item best)


@dataclass(frozen=True)
class Card:
    painting: Painting
    thumbnail: str | None
    rank: int
    score: float
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


def recommendation_page(result: Any) -> RecommendationPage:
    """Cards for a ``recsys.recommend.RecommendationResult``, in its rank order.

    The explanation keeps the rated paintings with the largest positive contributions (a
    painting rated low pushes its neighbours *down*, so it never "explains" a recommendation).
    """
    explaining = {
        item.painting_id: sorted(
            (c for c in item.contributions if c.contribution > 0), key=lambda c: c.contribution, reverse=True
        )[:EXPLANATION_SIZE]
        for item in result.items
    }
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
            Reason(
                painting=paintings[c.painting_id],
                rating=c.rating,
                contribution=c.contribution,
                engine=c.engine,
            )
            for c in explaining[item.painting_id]
            if c.painting_id in paintings
        )
        engine_ranks = tuple(item.engine_ranks.items()) if result.kind == "late" else ()
        cards.append(
            Card(
                painting=painting,
                thumbnail=thumbnail_url(painting),
                rank=item.rank,
                score=item.score,
                reasons=reasons,
                engine_ranks=engine_ranks,
            )
        )
    ignored = tuple(
        Ignored(painting=paintings.get(pk), painting_id=pk, reason=reason)
        for pk, reason in result.ignored_ratings.items()
    )
    return RecommendationPage(cards=tuple(cards), ignored=ignored)


def default_recommender(statuses: Sequence[Any]) -> str | None:
    """The recommender a visitor gets without choosing: ``RECSYS_DEFAULT_RECOMMENDER`` when it is
    ready, else the first ready one, else None (nothing computed yet)."""
    ready = [s.name for s in statuses if s.status == "ready"]
    if settings.RECSYS_DEFAULT_RECOMMENDER in ready:
        return settings.RECSYS_DEFAULT_RECOMMENDER
    return ready[0] if ready else None


@dataclass(frozen=True)
class EngineChoice:
    """A representation engine offered for "similar paintings", with its readiness."""

    name: str
    status: str
    reason: str = ""
    progress: float | None = None


def engine_choices(statuses: Sequence[Any]) -> list[EngineChoice]:
    """Every configured engine, in settings order, with the status of the recommender that
    uses it alone (single engines and early fusion each wrap exactly one engine)."""
    by_engine = {}
    for status in statuses:
        engines = list(status.engines)
        if status.kind != "late" and len(engines) == 1:
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


def default_engine(statuses: Sequence[Any], choices: Sequence[EngineChoice]) -> str | None:
    """The first ready engine of the default recommender, else the first ready engine."""
    ready = [c.name for c in choices if c.status == "ready"]
    preferred = next((s for s in statuses if s.name == settings.RECSYS_DEFAULT_RECOMMENDER), None)
    for name in list(preferred.engines) if preferred is not None else []:
        if name in ready:
            return name
    return ready[0] if ready else None
