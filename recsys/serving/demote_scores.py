"""``recsys.algorithms.demote`` on a loaded artefact (the ``demote`` weighting of the served
recommenders): the plain cosine path, or BLIP's ITM A_ij (``recsys.algorithms.itm``) as a full block."""

from __future__ import annotations

import numpy as np

from recsys.algorithms import demote, itm, scoring
from recsys.artefacts.reader import LoadedArtefact
from recsys.serving.similar import ItmSource


def artefact_scores(
    art: LoadedArtefact, source: ItmSource | None, rows: np.ndarray, weights: demote.DemoteWeights
) -> np.ndarray:
    """S(i) for every row of ``art`` given the rated ``rows`` and their weights."""
    if source is None:
        return demote.demote_scores(
            embeddings=art.embeddings, rated_rows=rows, weights=weights, similarity=art.similarity
        )
    block = itm.itm_block(
        embeddings=art.embeddings,
        graph=source.graph,
        calibration=source.calibration,
        item_rows=np.arange(art.size),
        rated_rows=rows,
    )
    return demote.scores_from_block(block, weights)


def rescored_pool(
    art: LoadedArtefact, rows: np.ndarray, rated_rows: np.ndarray, weights: demote.DemoteWeights, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` best of a pool of rows (found by the ANN index from the likes' profile), scored
    exactly: S <= L, so a painting the push ranks lower can only leave the top, never enter it."""
    block = scoring.similarity_block(embeddings=art.embeddings, item_rows=rows, rated_rows=rated_rows)
    scores = demote.scores_from_block(block, weights)
    best = scoring.top_n(scores, art.painting_ids[rows], n)
    return rows[best], scores[best]
