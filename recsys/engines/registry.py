"""Engines by name: instantiated from ``settings.RECSYS_ENGINES``, once per process.

An engine object is cheap (models load lazily inside it), but its loaded model must survive
between batches, so the instance is cached. The availability check is cached as well: it may
touch the file system or the model config, and status pages ask for it on every request.
``clear_engine_cache`` drops both (tests, and the ``setting_changed`` receiver).
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.utils.module_loading import import_string

from config.exceptions import ApplicationError, ModelNotAvailable, UnknownEngine
from recsys.engines.base import Engine

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_availability: dict[str, str | None] = {}


def engine_names() -> list[str]:
    """Every configured engine, in settings order."""
    return list(settings.RECSYS_ENGINES)


def enabled_engine_names() -> list[str]:
    """The configured engines that ``precompute all`` and the automatic refresh build."""
    return [name for name in settings.RECSYS_ENABLED_ENGINES if name in settings.RECSYS_ENGINES]


def get_engine(name: str) -> Engine:
    """The engine called ``name``; ``UnknownEngine`` if it is not configured."""
    engine = _engines.get(name)
    if engine is not None:
        return engine
    config = settings.RECSYS_ENGINES.get(name)
    if config is None:
        known = ", ".join(engine_names())
        raise UnknownEngine(f"Unknown engine {name!r}; configured engines: {known}.", field="engine")
    with _lock:
        engine = _engines.get(name)
        if engine is None:
            cls = import_string(config["BACKEND"])
            engine = cls(name=name, model=config.get("MODEL"), options=config.get("OPTIONS"))
            _engines[name] = engine
    return engine


def engine_unavailable_reason(name: str) -> str | None:
    """Why the engine cannot compute (the message names the setting to change), or None.

    Cached per process: availability changes only when settings or installed weights do, and
    both mean a restart (or ``clear_engine_cache``).
    """
    if name in _availability:
        return _availability[name]
    try:
        get_engine(name).check_available()
        reason = None
    except UnknownEngine:
        raise
    except ApplicationError as exc:
        reason = exc.message
    except ImportError as exc:
        reason = f"Engine {name!r} cannot be loaded ({settings.RECSYS_ENGINES[name]['BACKEND']}): {exc}."
    _availability[name] = reason
    return reason


def require_available(name: str) -> Engine:
    """The engine, or ``ModelNotAvailable`` with the reason (never a silent substitute)."""
    reason = engine_unavailable_reason(name)
    if reason is not None:
        raise ModelNotAvailable(reason, field="engine", detail={"engine": name})
    return get_engine(name)


def clear_engine_cache() -> None:
    with _lock:
        _engines.clear()
        _availability.clear()
