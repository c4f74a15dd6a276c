"""``recsys.algorithms.demote`` on a loaded artefact (the ``demote`` weighting of the served
recommenders): the plain cosine path, or BLIP's ITM A_ij (``recsys.algorithms.itm``) as a full block."""

from __future__ import annotations

import numpy as np

from recsys.algorithms import demote, itm
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
