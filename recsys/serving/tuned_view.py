"""An engine's artefact seen through a tuned map (``recsys.algorithms.tuning``), with no database.

``tuned_view(base, projection, tag)`` is a ``LoadedArtefact`` of the same paintings, rows and ids
whose embeddings are the tuned unit rows ``z_i = x_i W / ||x_i W||`` of the base artefact's rows,
so every scorer that reads an artefact (eq. 1, the learned model, MMR) works on it unchanged.
Its version is ``<base version>+<tag>`` (the learned model caches by version, responses report
it). It holds no dense similarity, no neighbour lists and no ANN index: those were computed in
the untuned space, so the tuned view is always scored from its embeddings (exact). Views are
kept per process, keyed by (base version, tag): projecting 11,577 x 384 rows takes ~20 ms once.
"""

from __future__ import annotations

import threading

import numpy as np

from recsys.algorithms.tuning import project
from recsys.artefacts.reader import LoadedArtefact

_views: dict[tuple[str, str, str], LoadedArtefact] = {}
_lock = threading.Lock()
#: views kept per process (old tags or base versions are dropped all at once beyond this)
MAX_VIEWS = 16


def tuned_view(base: LoadedArtefact, projection: np.ndarray, tag: str) -> LoadedArtefact:
    """``base`` through ``projection`` (d x d'); cached per (engine, base version, tag)."""
    key = (base.engine, base.version, tag)
    view = _views.get(key)
    if view is not None:
        return view
    embeddings = project(np.asarray(base.embeddings), projection)
    embeddings.setflags(write=False)
    view = LoadedArtefact(
        engine=base.engine,
        version=f"{base.version}+{tag}",
        # a folder without ann.faiss or engine extras: nothing computed in the untuned space is read
        path=base.path / f".tuned-{tag}",
        manifest={**base.manifest, "tuned": tag},
        painting_ids=base.painting_ids,
        external_ids=base.external_ids,
        embeddings=embeddings,
        row_of=base.row_of,
    )
    with _lock:
        if len(_views) >= MAX_VIEWS:
            _views.clear()
        _views[key] = view
    return view


def forget_views() -> None:
    with _lock:
        _views.clear()
