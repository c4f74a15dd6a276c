"""Similar paintings: the paintings closest to one painting under one engine (cosine, A_ij).

Reads the painting's row of the dense A when the artefact has one, else its precomputed
neighbour list when n fits in it, else one product with E; ties go by painting pk ascending, as
everywhere. Paintings deleted since the artefact was built are skipped
(``recsys.selectors.catalogued_only``). With a ``collection`` only its paintings are candidates,
read from the whole row (a neighbour list may hold too few of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog.selectors import painting_pks_matching
from config.exceptions import ValidationFailed
from recsys import scoring
from recsys.artefacts import LoadedArtefact
from recsys.selectors import active_artefact, catalogued_only


@dataclass(frozen=True, slots=True)
class SimilarPainting:
    painting_id: int
    external_id: str
    similarity: float  # A_ij (cosine) under the engine
    rank: int  # 1-based


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
    # a collection filter reads the whole row: the neighbour list may hold too few of its paintings
    if allowed is None and art.similarity is None and art.neighbours_idx is not None:
        listed = np.asarray(art.neighbours_idx[row], dtype=np.intp)
        keep = (
            np.flatnonzero([int(pk) not in gone for pk in pids[listed]]) if gone else np.arange(listed.size)
        )
        if keep.size >= n:  # else the list is too short: compute from the embeddings
            rows = listed[keep[:n]]
            sims = np.asarray(art.neighbours_sim[row], dtype=np.float64)[keep[:n]]
    if rows is None:
        if art.similarity is not None:
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
