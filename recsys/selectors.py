"""Reads for the recommender: active artefacts and their status."""

from __future__ import annotations

from config.exceptions import EngineUnavailable, UnknownEngine
from recsys.artefacts import LoadedArtefact, artefact_cache
from recsys.models import Artefact


def active_artefact_row(*, engine: str) -> Artefact | None:
    return Artefact.objects.filter(engine=engine, is_active=True).first()


def active_artefact(*, engine: str) -> LoadedArtefact:
    """The engine's active artefact, opened once per process and memory-mapped.

    Raises ``UnknownEngine`` for a name not in ``settings.RECSYS_ENGINES`` and
    ``EngineUnavailable`` (503) when no artefact is ready yet, with the reason.
    """
    from django.conf import settings

    if engine not in settings.RECSYS_ENGINES:
        raise UnknownEngine(f"Unknown engine {engine!r}.", field="engine")
    row = Artefact.objects.filter(engine=engine, is_active=True).only("engine", "version", "path").first()
    if row is None:
        open_run = Artefact.objects.filter(engine=engine, status__in=Artefact.OPEN_STATUSES).first()
        if open_run is not None:
            reason = f"Engine {engine!r} is still computing ({open_run.processed}/{open_run.total})."
        else:
            last = Artefact.objects.filter(engine=engine).first()
            reason = (
                f"Engine {engine!r} failed: {last.error}"
                if last is not None and last.status == Artefact.Status.FAILED
                else f"Engine {engine!r} has no computed artefact yet; "
                f"run `manage.py precompute --engine {engine}`."
            )
        raise EngineUnavailable(reason, field="engine", detail={"engine": engine})
    return artefact_cache.get(engine, row.version, row.path)
