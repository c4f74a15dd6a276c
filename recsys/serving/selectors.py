"""Reads for the recommender: active artefacts (opened), the engines' and recommenders' status, and the
guard that keeps paintings deleted since an artefact was built out of every answer."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import numpy as np
from django.conf import settings
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber

from catalog.models import Painting
from config.exceptions import EmptyCatalogue, EngineUnavailable, UnknownEngine
from recsys.artefacts.reader import LoadedArtefact, artefact_cache
from recsys.engines.registry import engine_names, engine_unavailable_reason, get_engine
from recsys.models import Artefact
from recsys.serving.active import active_row
from recsys.serving.progress import StepProgress, step_progress, steps_of
from recsys.serving.recommenders import (
    RecommenderConfig,
    default_recommender_name,
    get_recommender,
    preferred_recommender,
    recommenders,
)
from recsys.serving.status_cache import cached
from recsys.serving.tuned import ActiveTuned, active_tuned, tuned_note

T = TypeVar("T")


def active_artefact(*, engine: str) -> LoadedArtefact:
    """The engine's active artefact, opened once per process and memory-mapped.

    Raises ``UnknownEngine`` for a name not in ``settings.RECSYS_ENGINES`` and
    ``EngineUnavailable`` (503) when no artefact is ready yet, with the reason.
    """
    if engine not in settings.RECSYS_ENGINES:
        raise UnknownEngine(f"Unknown engine {engine!r}.", field="engine")
    row = active_row(engine)
    if not row:
        status = engine_status(engine)
        raise EngineUnavailable(
            f"Engine {engine!r} is {status.status}: {status.reason.rstrip('.')}.",
            field="engine",
            detail={"engine": engine, "status": status.status, "progress": status.progress},
        )
    version, path = row
    return artefact_cache.get(engine, version, path)


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
    build: StepProgress | None = None  # the open build's step, its count and time left


def _coverage(row: Artefact, catalogue: np.ndarray) -> float:
    if catalogue.size == 0:
        return 0.0
    loaded = artefact_cache.get(row.engine, row.version, row.path)
    return float(np.isin(catalogue, loaded.painting_ids).mean())


def _status(name: str, rows: list[Artefact], catalogue: np.ndarray, last: Artefact | None) -> EngineStatus:
    active = next((r for r in rows if r.is_active), None)
    running = next((r for r in rows if r.status in Artefact.OPEN_STATUSES), None)
    model_reason = engine_unavailable_reason(name)
    try:
        engine = get_engine(name)
        kind, steps = engine.kind, steps_of(needs_fit=engine.needs_fit, scores_pairs=engine.scores_pairs)
    except ImportError:
        kind, steps = "", steps_of(needs_fit=False, scores_pairs=False)
    build = step_progress(running, steps=steps) if running is not None else None
    # while building: the current step's share (every step counts its own units)
    progress = (build.fraction or 0.0) if build is not None else (1.0 if active is not None else 0.0)
    computing = f"computing ({build.describe()})" if build is not None else ""
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
        if model_reason:
            reason = model_reason
        elif catalogue.size == 0:
            reason = EmptyCatalogue.reason
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
        build=build,
    )


def engine_statuses(names: list[str] | None = None, *, local: bool = True) -> list[EngineStatus]:
    """Status of the given engines (default: every configured one), in a few queries: the
    active and open rows of all of them at once, the catalogue's ids once, and the latest row
    only of engines that have neither. Availability is cached per process; no model loads. The
    answer is cached until the next activation or for ``RECSYS_STATUS_CACHE_S`` seconds (not
    ``local``: past this process's memo, ``status_cache.cached``)."""
    names = engine_names() if names is None else names
    return cached(f"engines:{','.join(names)}", lambda: _engine_statuses(names), local=local)


def _engine_statuses(names: list[str]) -> list[EngineStatus]:
    rows: dict[str, list[Artefact]] = {name: [] for name in names}
    for row in Artefact.objects.filter(
        Q(is_active=True) | Q(status__in=Artefact.OPEN_STATUSES), engine__in=names
    ).defer("log", "manifest", "params"):
        rows[row.engine].append(row)
    catalogue = np.fromiter(Painting.objects.values_list("pk", flat=True), dtype=np.int64)
    latest = _latest_rows([name for name in names if not rows[name]])
    return [_status(name, rows[name], catalogue, latest.get(name)) for name in names]


def _latest_rows(names: list[str]) -> dict[str, Artefact]:
    """The latest row of each of ``names`` (engines with neither an active nor an open row: why
    they are unavailable), in one query however many engines."""
    if not names:
        return {}
    newest = Window(
        RowNumber(), partition_by=[F("engine")], order_by=[F("created_at").desc(), F("id").desc()]
    )
    rows = Artefact.objects.filter(engine__in=names).annotate(newest=newest).filter(newest=1)
    return {row.engine: row for row in rows.only("engine", "status", "error")}


def engine_status(name: str) -> EngineStatus:
    """One engine's status; ``UnknownEngine`` for a name not configured."""
    if name not in settings.RECSYS_ENGINES:
        raise UnknownEngine(f"Unknown engine {name!r}.", field="engine")
    return engine_statuses([name])[0]


# -- recommenders ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RecommenderStatus:
    name: str
    kind: str  # one of recsys.serving.definitions.KINDS
    mode: str | None  # "partial" | "total" for late
    engines: dict[str, float]  # engine -> RRF weight (1.0 for single/early)
    status: str  # "ready" only when every engine is ready; else "computing" or "unavailable"
    # "engine: why" for each engine that is not ready; when ready, notes (e.g. a refresh running)
    reason: str
    progress: float | None  # 1.0 ready, least progress of the engines computing, None unavailable
    versions: dict[str, str | None]  # engine -> active artefact version (None: none yet)
    coverage: float | None  # smallest share of the catalogue in the engines' artefacts (when ready)
    is_default: bool
    # engine -> its open build (a first build, or a refresh of a ready engine)
    builds: dict[str, StepProgress] = field(default_factory=dict)
    # seconds until the slowest engine still computing has finished its current step (None: unknown)
    eta_s: float | None = None
    # TUNED recommenders: "tuned:<version>" or "untuned" (the reason says why); None otherwise
    space: str | None = None


def recommender_names() -> list[str]:
    """The configured recommenders, in settings order."""
    return list(recommenders())


def _recommender_status(
    config: RecommenderConfig,
    states: Mapping[str, EngineStatus],
    default: str,
    tuned: ActiveTuned | None = None,
) -> RecommenderStatus:
    mine = [states[engine] for engine in config.engines]
    not_ready = [state for state in mine if state.status != "ready"]
    if not not_ready:
        status, progress = "ready", 1.0
    elif any(state.status == "unavailable" for state in not_ready):
        status, progress = "unavailable", None
    else:
        status, progress = "computing", min(state.progress for state in not_ready)
    builds = {state.name: state.build for state in mine if state.build is not None}
    waits = [state.build.eta_s if state.build is not None else None for state in not_ready]
    eta = max(waits) if status == "computing" and None not in waits else None  # type: ignore[type-var]
    notes = [f"{state.name}: {state.reason}" for state in (not_ready or mine) if state.reason]
    space = None
    if config.tuned:
        space, note = tuned_note(list(config.engines), tuned)
        notes += [note] if note else []
    return RecommenderStatus(
        name=config.name,
        kind=config.kind,
        mode=config.mode,
        engines=dict(config.engines),
        status=status,
        # not ready: why, per engine; ready: notes such as a refresh in progress or the space used
        reason="; ".join(notes),
        progress=progress,
        versions={state.name: state.version for state in mine},
        coverage=None if not_ready else min(state.coverage for state in mine),
        is_default=config.name == default,
        builds=builds,
        eta_s=eta,
        space=space,
    )


def recommender_statuses(*, local: bool = True) -> list[RecommenderStatus]:
    """Every configured recommender with its readiness, in settings order (the engines' states
    are read once, in a few queries, however many recommenders share them; not ``local``: past
    this process's memo of them)."""
    configs = recommenders()
    engines = list(dict.fromkeys(engine for config in configs.values() for engine in config.engines))
    states = {state.name: state for state in engine_statuses(engines, local=local)}
    default = preferred_recommender(name for name, state in states.items() if state.status == "ready")
    tuned = active_tuned() if any(config.tuned for config in configs.values()) else None
    return [_recommender_status(config, states, default, tuned) for config in configs.values()]


def recommender_status(*, name: str) -> RecommenderStatus:
    """One recommender's readiness; unknown name -> ``UnknownEngine`` (field ``recommender``)."""
    config = get_recommender(name)
    states = {state.name: state for state in engine_statuses(list(config.engines))}
    tuned = active_tuned() if config.tuned else None
    return _recommender_status(config, states, default_recommender_name(), tuned)


# -- deleted paintings ----------------------------------------------------------------------------
def catalogued_pks(pks: list[int]) -> Collection[int]:
    """Which of ``pks`` the catalogue still has (one query)."""
    return set(Painting.objects.filter(pk__in=pks).values_list("pk", flat=True))


def catalogued_only(
    run: Callable[[frozenset[int]], T],
    pks_of: Callable[[T], list[int]],
    catalogued: Callable[[list[int]], Collection[int]] = catalogued_pks,
) -> T:
    """``run(gone)`` again without every returned painting the catalogue no longer has.

    An artefact keeps a deleted painting until the refresh rebuilds it; one query on the few
    returned ids makes sure none is handed out. Each round excludes at least one more stale
    painting, so this ends (normally after the first query). ``catalogued`` answers the query
    (a caller that reads those paintings anyway can answer it with the same query).
    """
    gone: frozenset[int] = frozenset()
    while True:
        result = run(gone)
        pks = pks_of(result)
        missing = set(pks) - set(catalogued(pks))
        if not missing:
            return result
        gone |= missing
