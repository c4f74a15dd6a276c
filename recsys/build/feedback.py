"""Reads of every visitor's feedback, the training data of the tuned spaces.

A visitor's history is ``{painting pk: rating 1..5}``, keyed by the visitor key the experiments
app uses (``user:<pk>`` for an account). Sources:

* stored ratings (``users.Rating``), here;
* further sources registered with ``register_feedback_source`` by other apps, so this package
  imports none of them: the experiments app adds the ratings and clicks of recommended paintings
  linked to its exposures (``experiments.exposure_feedback``), including web guests and app visitors
  whose ratings are not stored as ``users.Rating``.

Where sources disagree about a painting the first source wins (stored ratings first), so an
explicit rating beats a click.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from users.models import Rating


@dataclass(frozen=True)
class FeedbackSource:
    name: str
    histories: Callable[[], dict[str, dict[int, int]]]  # visitor key -> {pk: 1..5}
    changed_since: Callable[[datetime | None], int]  # rows added or changed since (None: all)


def _rating_histories() -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = defaultdict(dict)
    for user_id, pk, value in Rating.objects.order_by().values_list("user_id", "painting_id", "value"):
        out[f"user:{user_id}"][pk] = value
    return dict(out)


def _ratings_changed_since(when: datetime | None) -> int:
    rows = Rating.objects.order_by()
    return (rows if when is None else rows.filter(Q(updated_at__gt=when) | Q(created_at__gt=when))).count()


RATINGS = FeedbackSource("ratings", _rating_histories, _ratings_changed_since)
_sources: list[FeedbackSource] = [RATINGS]


def register_feedback_source(source: FeedbackSource) -> None:
    """Add a source (once per name; the latest registration of a name replaces it)."""
    _sources[:] = [s for s in _sources if s.name != source.name] + [source]


def feedback_histories() -> tuple[dict[str, dict[int, int]], dict[str, int]]:
    """(visitor key -> history, source name -> visitors it contributed to)."""
    merged: dict[str, dict[int, int]] = defaultdict(dict)
    counts: dict[str, int] = {}
    for source in _sources:
        found = source.histories()
        counts[source.name] = len(found)
        for key, history in found.items():
            mine = merged[key]
            for pk, value in history.items():
                mine.setdefault(pk, value)
    return dict(merged), counts


def feedback_changed_since(when: datetime | None) -> int:
    """Ratings and clicks added or changed since ``when`` over every source (None: all of them)."""
    return sum(source.changed_since(when) for source in _sources)
