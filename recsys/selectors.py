"""Reads for the recommender: active artefacts and their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db.models import Q

from catalog.models import Painting
from config.exceptions import EngineUnavailable, UnknownEngine
from recsys.artefacts import LoadedArtefact, artefact_cache
from recsys.engines.registry import engine_names, engine_unavailable_reason, get_engine
from recsys.models import Artefact


def active_artefact_row(*, engine: str) -> Artefact | None:
    return Artefact.objects.filter(engine=engine, is_active=True).first()


def active_artefact(*, engine: str) -> LoadedArtefact:
    """The engine's active artefact, opened once per process and memory-mapped.

    Raises ``UnknownEngine`` for a name not in ``settings.RECSYS_ENGINES`` and
    ``EngineUnavailable`` (503) when no artefact is ready yet, with the reason.
    """
    if engine not in settings.RECSYS_ENGINES:
        raise UnknownEngine(f"Unknown engine {engine!r}.", field="engine")
    row = Artefact.objects.filter(engine=engine, is_active=True).only("engine", "version", "path").first()
    if row is None:
        status = engine_status(engine)
        raise EngineUnavailable(
            f"Engine {engine!r} is {status.status}: {status.reason.rstrip('.')}.",
            field="engine",
            detail={"engine": engine, "status": status.status, "progress": status.progress},
        )
    return artefact_cache.get(engine, row.version, row.path)


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """What a status page or the API says about one engine."""

    name: str
    kind: str
    status: str  # "ready" (an active artefact serves it) | "computing" | "unavailable"
    reason: str  # empty when ready and idle
    progress: float  # 0..1 of the open build; 1.0 when ready and idle
    version: str | None  # active artefact
    n_items: int  # paintings in the active artefact
    coverage: float  # fraction of the current catalogue present in the active artefact
    updated: datetime | None  # activation time of the active artefact


def _coverage(row: Artefact, catalogue: np.ndarray) -> float:
    if catalogue.size == 0:
        return 0.0
    loaded = artefact_cache.get(row.engine, row.version, row.path)
    return float(np.isin(catalogue, loaded.painting_ids).mean())


def _status(name: str, rows: list[Artefact], catalogue: np.ndarray) -> EngineStatus:
    active = next((r for r in rows if r.is_active), None)
    running = next((r for r in rows if r.status in Artefact.OPEN_STATUSES), None)
    model_reason = engine_unavailable_reason(name)
    try:
        kind = get_engine(name).kind
    except ImportError:
        kind = ""
    progress = running.progress if running is not None else (1.0 if active is not None else 0.0)
    computing = f"computing ({running.processed}/{running.total})" if running is not None else ""
    if active is not None:
        status = "ready"
        reason = "; ".join(
            r
            for r in (
                computing and f"refresh {computing}",
                model_reason and f"cannot refresh: {model_reason}",
            )
            if r
        )
    elif running is not None:
        status, reason = "computing", computing
    else:
        status = "unavailable"
        last = Artefact.objects.filter(engine=name).only("status", "error").first()
        if model_reason:
            reason = model_reason
        elif last is not None and last.status == Artefact.Status.FAILED:
            reason = f"last build failed: {last.error}"
        else:
            reason = f"no artefact computed yet; run `manage.py precompute --engine {name}`"
    if name not in settings.RECSYS_ENABLED_ENGINES and status == "unavailable":
        reason = f"{reason} (not in RECSYS_ENABLED_ENGINES)"
    return EngineStatus(
        name=name,
        kind=kind,
        status=status,
        reason=reason,
        progress=progress,
        version=active.version if active is not None else None,
        n_items=active.n_items if active is not None else 0,
        coverage=_coverage(active, catalogue) if active is not None else 0.0,
        updated=active.activated_at if active is not None else None,
    )


def engine_statuses(names: list[str] | None = None) -> list[EngineStatus]:
    """Status of the given engines (default: every configured one), in a few queries: the
    active and open rows of all of them at once, the catalogue's ids once, and the latest row
    only of engines that have neither. Availability is cached per process; no model loads."""
    names = engine_names() if names is None else names
    rows: dict[str, list[Artefact]] = {name: [] for name in names}
    for row in Artefact.objects.filter(
        Q(is_active=True) | Q(status__in=Artefact.OPEN_STATUSES), engine__in=names
    ).defer("log", "manifest", "params"):
        rows[row.engine].append(row)
    catalogue = np.fromiter(Painting.objects.values_list("pk", flat=True), dtype=np.int64)
    return [_status(name, rows[name], catalogue) for name in names]


def engine_status(name: str) -> EngineStatus:
    """One engine's status; ``UnknownEngine`` for a name not configured."""
    if name not in settings.RECSYS_ENGINES:
        raise UnknownEngine(f"Unknown engine {name!r}.", field="engine")
    return engine_statuses([name])[0]
