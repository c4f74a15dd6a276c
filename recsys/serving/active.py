"""Which artefact of each engine is active: one indexed query, served through the status cache.

Read by the recommender registry (the default recommender is the first whose engines are ready)
and by the selectors (which open the active artefact), so neither imports the other for it.
"""

from __future__ import annotations

from recsys.models import Artefact
from recsys.serving.status_cache import cached


def active_row(engine: str) -> tuple[str, str] | tuple[()]:
    """(version, path) of the engine's active artefact, () if none (cached:
    ``recsys.serving.status_cache``)."""
    return cached(f"active:{engine}", lambda: _active_row(engine))


def _active_row(engine: str) -> tuple[str, str] | tuple[()]:
    row = Artefact.objects.filter(engine=engine, is_active=True).values_list("version", "path").first()
    return tuple(row) if row is not None else ()


def ready_engines() -> set[str]:
    """Engines with an active artefact (one indexed query): what the default recommender needs."""
    return set(Artefact.objects.filter(is_active=True).values_list("engine", flat=True))
