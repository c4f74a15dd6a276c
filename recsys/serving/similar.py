"""Similar paintings: the paintings closest to one painting under one engine (A_ij).

A_ij is the cosine of the engine's embeddings, except for BLIP while ``RECSYS_BLIP_SCORE`` is
``"itm"``: there it is the ITM match probability, a calibrated cosine outside the ITM lists
(``recsys.algorithms.itm``; ``itm_source`` opens the graph once per artefact version, and the recommender
uses the same one). For a cosine, reads the painting's row of the dense A when the artefact has
one, else its precomputed neighbour list when n fits in it, else one product with E; ties go by
painting pk ascending, as everywhere. Paintings deleted since the artefact was built are skipped
(``recsys.serving.selectors.catalogued_only``). With a ``collection`` only its paintings are candidates,
read from the whole row (a neighbour list may hold too few of them).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from catalog.selectors import painting_pks_matching
from config.exceptions import ValidationFailed
from recsys.algorithms import itm, scoring
from recsys.artefacts.reader import LoadedArtefact
from recsys.serving.selectors import active_artefact, catalogued_only


@dataclass(frozen=True, slots=True)
class SimilarPainting:
    painting_id: int
    external_id: str
    similarity: float  # A_ij (cosine) under the engine
    rank: int  # 1-based


@dataclass(frozen=True, slots=True)
class ItmSource:
    """An artefact's ITM graph and fallback line (``recsys.algorithms.itm``)."""

    graph: itm.ItmGraph
    calibration: itm.Calibration


_itm_lock = threading.Lock()
_itm_sources: dict[tuple[str, str], ItmSource | None] = {}


def itm_source(art: LoadedArtefact) -> ItmSource | None:
    """The ITM scores that replace the cosine for ``art``: only for an artefact with ITM lists
    (BLIP's) while ``RECSYS_BLIP_SCORE`` is ``"itm"``. Built once per (engine, version): the
    line fitted by the build (manifest ``postprocess.itm_calibration``), else fitted here."""
    if settings.RECSYS_BLIP_SCORE != itm.ITM:
        return None
    key = (art.engine, art.version)
    if key in _itm_sources:
        return _itm_sources[key]
    with _itm_lock:
        if key not in _itm_sources:
            idx, prob = art.extra(itm.ITM_IDX), art.extra(itm.ITM_PROB)
            source = None
            if idx is not None and prob is not None and idx.shape[0] == art.size:
                graph = itm.itm_graph(idx, prob)
                stored = (art.manifest.get("postprocess") or {}).get("itm_calibration")
                if isinstance(stored, dict):
                    calibration = itm.Calibration(
                        a=float(stored["a"]), b=float(stored["b"]), pairs=int(stored["pairs"])
                    )
                else:
                    calibration = itm.calibrate(itm.graph_cosines(art.embeddings, graph), graph.probs)
                source = ItmSource(graph=graph, calibration=calibration)
            if len(_itm_sources) >= 8:  # old versions: drop them all rather than track use
                _itm_sources.clear()
            _itm_sources[key] = source
        return _itm_sources[key]


def default_similar_engine() -> str:
    """The engine ``/similar/`` uses when the request names none: the default recommender's
    (``recsys.serving.recommenders.get_recommender``), for a fusion its highest-weighted ready engine
    (similarity is one engine's A_ij), else its first engine (whose 503 then says why)."""
    from recsys.serving.active import ready_engines
    from recsys.serving.recommenders import get_recommender

    engines = get_recommender(None).engines
    ready = ready_engines()
    ordered = sorted(engines, key=lambda name: -engines[name])  # stable: settings order on ties
    return next((name for name in ordered if name in ready), ordered[0])


def similar_paintings(
    *, painting_id: int, engine: str, n: int, collection: str | None = None
) -> list[SimilarPainting]:
    """The ``n`` paintings most similar to catalogued painting ``painting_id`` under ``engine``
    (itself excluded), only from ``collection`` (slug or name) when given. ``n`` is validated by
    the caller (the API's serializer, the web form); an unknown collection is a
    ``ValidationFailed`` on field ``collection``.

    A painting the engine could not represent is a ``ValidationFailed`` on field ``painting``
    naming the engine (the request is fine, that painting just has no neighbours under this
    engine); ``UnknownEngine`` / ``EngineUnavailable`` come from ``active_artefact``.
    """
    allowed = painting_pks_matching(story_group=None, artist=None, collection=collection)
    art = active_artefact(engine=engine)
    row = art.row_of.get(painting_id)
    if row is None:
        raise ValidationFailed(
            f"Painting {painting_id} is {art.missing_reason(painting_id)}, so {engine!r} "
            "has no similar paintings for it.",
            field="painting",
            detail={"engine": engine, "version": art.version},
        )
    return catalogued_only(
        lambda gone: _similar_rows(art, row, n, gone, allowed), lambda found: [s.painting_id for s in found]
    )


def _similar_rows(
    art: LoadedArtefact, row: int, n: int, gone: frozenset[int], allowed: list[int] | None = None
) -> list[SimilarPainting]:
    pids = art.painting_ids
    rows = sims = None
    source = itm_source(art)
    # a collection filter reads the whole row: the neighbour list may hold too few of its paintings
    if source is None and allowed is None and art.similarity is None and art.neighbours_idx is not None:
        listed = np.asarray(art.neighbours_idx[row], dtype=np.intp)
        keep = (
            np.flatnonzero([int(pk) not in gone for pk in pids[listed]]) if gone else np.arange(listed.size)
        )
        if keep.size >= n:  # else the list is too short: compute from the embeddings
            rows = listed[keep[:n]]
            sims = np.asarray(art.neighbours_sim[row], dtype=np.float64)[keep[:n]]
    if rows is None:
        if source is not None:
            all_sims = itm.itm_row(
                embeddings=art.embeddings, graph=source.graph, calibration=source.calibration, row=row
            )
        elif art.similarity is not None:
            all_sims = np.asarray(art.similarity[row], dtype=np.float64)
        else:
            all_sims = np.asarray(art.embeddings @ art.embeddings[row], dtype=np.float64)
        keep = pids != pids[row]
        keep[[art.row_of[pk] for pk in gone if pk in art.row_of]] = False
        if allowed is not None:
            keep &= np.isin(pids, np.asarray(allowed, dtype=np.int64))
        others = np.flatnonzero(keep)
        rows = others[scoring.top_n(all_sims[others], pids[others], n)]
        sims = all_sims[rows]
    return [
        SimilarPainting(
            painting_id=int(pids[r]), external_id=art.external_ids[int(r)], similarity=float(s), rank=i
        )
        for i, (r, s) in enumerate(zip(rows.tolist(), sims.tolist(), strict=True), start=1)
    ]
