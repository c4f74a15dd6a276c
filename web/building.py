"""Reads for the visitor's view of builds in progress: what is being prepared and how long it
will take (the "getting ready" state), and whether a better recommender than the one shown is on
its way ("better" = earlier in ``RECSYS_DEFAULT_RECOMMENDERS``, the offline evaluation's order)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from recsys.models import Artefact
from recsys.serving.progress import describe_seconds
from recsys.serving.selectors import RecommenderStatus
from web.selectors import plain_label


@dataclass(frozen=True)
class BuildNote:
    """One engine being prepared, in plain words for a visitor."""

    label: str  # e.g. "Text meaning (MiniLM)"
    text: str  # e.g. "step 3 of 4, encoding paintings: 2304/11577 paintings, about 6 min left"


def active_and_building() -> tuple[set[str], bool]:
    """(engines with an active artefact, whether any build is open), in one query."""
    rows = Artefact.objects.filter(Q(is_active=True) | Q(status__in=Artefact.OPEN_STATUSES))
    seen = list(rows.values_list("engine", "is_active"))
    return {engine for engine, active in seen if active}, any(not active for _, active in seen)


def build_notes(statuses: Sequence[RecommenderStatus]) -> list[BuildNote]:
    """Every engine of the visitors' recommenders with an open build, once, in settings order."""
    notes: dict[str, BuildNote] = {}
    for status in statuses:
        if status.name not in settings.RECSYS_RECOMMENDERS:
            continue
        for engine, build in status.builds.items():
            notes.setdefault(engine, BuildNote(label=plain_label(engine), text=build.describe()))
    return list(notes.values())


@dataclass(frozen=True)
class BetterComing:
    """A recommender the visitor will get by default once it is ready."""

    name: str
    label: str
    wait: str  # "about 6 min" (the current step of its slowest engine), "" while unknown


def better_on_the_way(statuses: Sequence[RecommenderStatus], current: str | None) -> BetterComing | None:
    """The most preferred recommender that is still computing and ranks before ``current`` in
    ``RECSYS_DEFAULT_RECOMMENDERS`` (None: ``current`` is the best that can come)."""
    preference = list(settings.RECSYS_DEFAULT_RECOMMENDERS)
    rank = preference.index(current) if current in preference else len(preference)
    by_name = {status.name: status for status in statuses}
    for name in preference[:rank]:
        status = by_name.get(name)
        if status is not None and status.status == "computing":
            wait = describe_seconds(status.eta_s) if status.eta_s is not None else ""
            return BetterComing(name=name, label=plain_label(name), wait=wait)
    return None
