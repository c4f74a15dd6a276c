"""The tuned space in the recommendation service: which version is active, and the artefacts a
``TUNED`` recommender scores in.

``tuned_artefacts(artefacts)`` swaps each engine's active artefact for its view through the
active version's map (``recsys.serving.tuned_view``) when that version has a map for the engine
of the same model and dimensions; every other engine keeps its untuned artefact. With no active
version every engine stays untuned: the recommender answers as before, and the recommenders list
says so (``space``, ``tuned_note``). The active version's row is read through the status cache
(one query per ``RECSYS_STATUS_CACHE_S`` at most; an activation or roll-back invalidates it),
and its maps are loaded once per process and version.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from recsys.artefacts import store
from recsys.artefacts.reader import LoadedArtefact
from recsys.models import TunedSpace
from recsys.serving.status_cache import cached
from recsys.serving.tuned_view import tuned_view

UNTUNED = "untuned"
NO_VERSION = "no tuned version is active yet (it trains once enough visitors have rated; admin: Tuned spaces)"


@dataclass(frozen=True)
class ActiveTuned:
    version: str
    path: str
    engines: dict[str, dict]  # engine -> {"base_version", "model_id", "dims"} (manifest)


def _active_row() -> tuple:
    row = TunedSpace.objects.filter(is_active=True).values_list("version", "path", "manifest").first()
    if row is None:
        return ()
    version, path, manifest = row
    return (version, path, manifest.get("engines", {}))


def active_tuned() -> ActiveTuned | None:
    row = cached("tuned:active", _active_row)
    return ActiveTuned(*row) if row else None


_maps: dict[str, dict[str, np.ndarray]] = {}
_lock = threading.Lock()


def _projections(active: ActiveTuned) -> dict[str, np.ndarray]:
    maps = _maps.get(active.version)
    if maps is None:
        folder = store.local_copy(active.path)
        maps = {engine: np.load(folder / f"{engine}.npy", allow_pickle=False) for engine in active.engines}
        with _lock:
            _maps.clear()  # one version is active at a time
            _maps[active.version] = maps
    return maps


def _fits(art: LoadedArtefact, info: Mapping, projection: np.ndarray) -> bool:
    same_model = not info.get("model_id") or info.get("model_id") == art.manifest.get("model_id", "")
    return same_model and projection.shape[0] == art.embeddings.shape[1]


def tuned_artefacts(artefacts: Mapping[str, LoadedArtefact]) -> dict[str, LoadedArtefact]:
    """The artefacts a ``TUNED`` recommender scores in (see the module docstring)."""
    active = active_tuned()
    if active is None:
        return dict(artefacts)
    maps = _projections(active)
    out = {}
    for engine, art in artefacts.items():
        info = active.engines.get(engine)
        if info is not None and engine in maps and _fits(art, info, maps[engine]):
            out[engine] = tuned_view(art, maps[engine], f"tuned-{active.version}")
        else:
            out[engine] = art
    return out


def tuned_note(engines: Mapping[str, float] | list[str], active: ActiveTuned | None) -> tuple[str, str]:
    """(space, note) for a ``TUNED`` recommender over ``engines``: ``"tuned:<version>"`` and "" when
    the active version (``active_tuned()``, read once by the caller however many ``TUNED``
    recommenders it describes) tunes one of them, else ``"untuned"`` and why."""
    if active is None:
        return UNTUNED, f"untuned space: {NO_VERSION}"
    mine = [engine for engine in engines if engine in active.engines]
    if not mine:
        return UNTUNED, f"untuned space: tuned version {active.version} tunes none of its engines"
    return f"tuned:{active.version}", ""
