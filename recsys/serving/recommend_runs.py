"""One engine's view of a recommendation request: its usable ratings, their weights, the scores.

``engine_run`` looks every rated painting up in the engine's artefact (one vectorised call),
weights the ones it holds (``recsys.algorithms.scoring``'s weightings, or ``recsys.algorithms.demote``'s
"demote" weighting) and scores every row of the artefact: eq. 1, the demote score
(``recsys.serving.demote_scores``) or, for BLIP while ``RECSYS_BLIP_SCORE`` is ``"itm"``, its ITM
probability (``recsys.algorithms.itm``, a calibrated cosine outside the ITM lists), in scores and
explanations alike. Above ``RECSYS_ANN_MIN_ITEMS`` a single or early recommender leaves the
scores to the artefact's index (``uses_index``; ``recsys.serving.recommend_ranking``).

Explanations (``EngineRun.explain``): the rated paintings with the largest |w_j * A_ij / n| for
the item, each ``Contribution`` naming its engine.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from recsys.algorithms import demote, itm, scoring
from recsys.algorithms.bounded import Bound
from recsys.artefacts.reader import LoadedArtefact
from recsys.serving.demote_scores import artefact_scores
from recsys.serving.recommenders import RecommenderConfig
from recsys.serving.results import Contribution
from recsys.serving.similar import ItmSource, itm_source

#: ``scores_at`` scores every row at once when a call misses more than 1/WHOLE_FRACTION of them
WHOLE_FRACTION = 4


@dataclass(slots=True)
class EngineRun:
    """One engine's view of the request: the rated paintings it knows, their weights, the scores."""

    engine: str
    artefact: LoadedArtefact
    rated_rows: np.ndarray  # rows of the usable rated paintings, sorted by pk
    rated_pks: np.ndarray
    rated_values: np.ndarray
    weights: scoring.Weights
    scores: np.ndarray | None  # every row's score (None: from ``bound`` on demand, or the index's)
    itm: ItmSource | None = None  # BLIP scored by ITM (recsys.algorithms.itm) instead of the cosine
    demote: demote.DemoteWeights | None = None  # the "demote" weighting (not eq. 1)
    bound: np.ndarray | None = None  # demote, not ``full``: every row's pull L >= S; S on demand
    profile: np.ndarray | None = None  # demote, not ``full``: p (L = E @ p), ``bound`` read on demand
    known: np.ndarray | None = None  # S of the rows computed so far (NaN: not yet), ``scores_at``

    @property
    def similarity(self) -> np.ndarray | None:
        return self.artefact.similarity

    @property
    def indexed(self) -> bool:
        """Whether the artefact's ANN index answers (no score of any row computed here)."""
        return self.scores is None and self.bound is None and self.profile is None

    def scores_at(self, rows: np.ndarray) -> np.ndarray:
        """The exact scores of ``rows`` (float64): read from ``scores``, or demote's S computed
        for these rows only from their bound L (``recsys.algorithms.demote.demote_scores_at``)."""
        if self.scores is not None:
            return self.scores[rows]
        if self.indexed or self.demote is None:
            raise ValueError(f"{self.engine}: scored by the ANN index, not row by row")
        if self.known is None:
            self.known = np.full(self.artefact.size, np.nan)
        missing = rows[np.isnan(self.known[rows])]
        if missing.size * WHOLE_FRACTION >= self.artefact.size:  # one product beats the gathers
            self.scores = self._demote(None)
            return self.scores[rows]
        if missing.size:
            self.known[missing] = self._demote(missing)
        return self.known[rows]

    def pull(self) -> np.ndarray:
        """Every row's pull L (float64): ``bound``, read from the profile the first time."""
        if self.bound is None:
            assert self.profile is not None
            self.bound = demote.pull_of(self.artefact.embeddings, self.profile)
        return self.bound

    def upper_bound(self, candidates: np.ndarray, *, array: bool = False) -> np.ndarray | Bound:
        """An upper bound of the exact score of each of ``candidates`` (rows), for
        ``recsys.algorithms.bounded``: exact scores are their own, demote's is the pull, read
        from the artefact's 8-bit codes (``recsys.algorithms.scan_codes``) where it has
        them and the candidates are most rows, unless ``array`` asks for every value."""
        if self.scores is not None:
            return self.scores[candidates]
        codes = None if array or self.bound is not None else self.artefact.scan_codes
        if codes is not None:
            assert self.profile is not None
            scan = codes.bound(
                profile=self.profile, candidates=candidates, full=lambda: self.pull()[candidates]
            )
            if scan is not None:
                return scan
        return self.pull()[candidates]

    def _read_pull(self, rows: np.ndarray | None) -> np.ndarray | None:
        """L of ``rows`` where it was read (of every row: read now); else None, and
        ``demote_scores_at`` computes it from the profile on the rows it gathers for D anyway."""
        if rows is None:
            return self.pull()
        return None if self.bound is None else self.bound[rows]

    def _demote(self, rows: np.ndarray | None) -> np.ndarray:
        assert self.demote is not None
        return demote.demote_scores_at(
            embeddings=self.artefact.embeddings,
            rows=rows,
            pull=self._read_pull(rows),
            profile=self.profile,
            rated_rows=self.rated_rows,
            weights=self.demote,
            similarity=self.similarity,
        )

    def candidate_rows(self, removed: Collection[int], allowed: np.ndarray | None) -> np.ndarray:
        """Rows that may be recommended: not rated, not excluded, matching the filters."""
        art = self.artefact
        keep = np.ones(art.size, dtype=bool)
        keep[self.known_rows(removed)] = False
        if allowed is not None:
            keep &= np.isin(art.painting_ids, allowed)
        return np.flatnonzero(keep)

    def known_rows(self, pks: Collection[int] | np.ndarray) -> np.ndarray:
        """Rows of those of ``pks`` this artefact holds."""
        rows, found = self.artefact.row_of.rows(np.fromiter(pks, dtype=np.int64, count=len(pks)))
        return rows[found]

    def explain(self, item_rows: np.ndarray, top: int) -> list[tuple[Contribution, ...]]:
        if top <= 0 or item_rows.size == 0:
            return [() for _ in range(item_rows.size)]
        art = self.artefact
        if self.itm is not None:
            block = itm.itm_block(
                embeddings=art.embeddings,
                graph=self.itm.graph,
                calibration=self.itm.calibration,
                item_rows=item_rows,
                rated_rows=self.rated_rows,
            )
        else:
            block = scoring.similarity_block(
                embeddings=art.embeddings,
                item_rows=item_rows,
                rated_rows=self.rated_rows,
                similarity=self.similarity,
            )
        pushed = self.demote
        contrib = (
            scoring.contributions(block, self.weights.values)
            if pushed is None
            else pushed.contributions(block)
        )
        best = scoring.top_contributors(contrib, top).tolist()
        # Python lists: indexing numpy scalars one by one costs more than the maths above
        names = [art.external_ids[row] for row in self.rated_rows.tolist()]
        pks, values, weights = (
            self.rated_pks.tolist(),
            self.rated_values.tolist(),
            self.weights.values.tolist(),
        )
        head = list(zip(pks, names, values, weights, strict=True))  # Contribution's first fields
        engine = self.engine
        items = zip(best, block.tolist(), contrib.tolist(), strict=True)
        # positional arguments: a frozen dataclass takes keywords a third slower
        return [
            tuple([Contribution(*head[j], similarity[j], contribution[j], engine) for j in columns])
            for columns, similarity, contribution in items
        ]


def uses_index(config: RecommenderConfig, art: LoadedArtefact) -> bool:
    """Whether a single or early recommender answers from ``art``'s ANN index (above the size
    setting, only when the precompute built one, and never for BLIP scored by ITM)."""
    return (
        config.single_engine
        and art.size > settings.RECSYS_ANN_MIN_ITEMS
        and itm_source(art) is None
        and art.ann_index is not None
    )


def engine_run(
    engine: str,
    art: LoadedArtefact,
    ratings: Mapping[int, int],
    weighting: str,
    *,
    exact: bool = True,
    full: bool = True,
) -> EngineRun | None:
    """Score every painting of ``art`` (``exact``; else the ANN index will); None when the
    artefact knows none of the rated paintings. Not ``full``: the demote weighting on the cosine
    computes only its bound L for every row (``bound``), and S where a ranking asks for it
    (``scores_at``, ``recsys.algorithms.bounded``): for rankings of the first n, not full ones."""
    rated = np.fromiter(sorted(ratings), dtype=np.int64, count=len(ratings))
    rows, found = art.row_of.rows(rated)  # one vectorised lookup of every rated painting
    if not found.any():
        return None
    pks, rows = rated[found], rows[found]
    values = np.array([ratings[pk] for pk in pks.tolist()])
    pushed = demote.demote_weights(values) if weighting == scoring.DEMOTE else None
    weights = pushed.as_weights() if pushed else scoring.rating_weights(values, weighting=weighting)
    source = itm_source(art)
    bound = profile = None
    if not exact:
        scores = None
    elif pushed is not None and source is None and not full:
        scores = None
        if art.similarity is None:  # L = E @ p, read where a ranking asks (``upper_bound``)
            profile = demote.pull_profile(embeddings=art.embeddings, rated_rows=rows, weights=pushed)
        else:
            bound = demote.demote_pull(
                embeddings=art.embeddings, rated_rows=rows, weights=pushed, similarity=art.similarity
            )
    elif pushed is not None:
        scores = artefact_scores(art, source, rows, pushed)
    elif source is not None:
        scores = itm.itm_scores(
            embeddings=art.embeddings,
            graph=source.graph,
            calibration=source.calibration,
            rated_rows=rows,
            weights=weights.values,
            similarity=art.similarity,
        )
    else:
        scores = scoring.eq1_scores(
            embeddings=art.embeddings, rated_rows=rows, weights=weights.values, similarity=art.similarity
        )
    return EngineRun(
        engine=engine,
        artefact=art,
        rated_rows=rows.astype(np.intp),
        rated_pks=pks.astype(np.int64),
        rated_values=values.astype(np.int64),
        weights=weights,
        scores=scores,
        itm=source,
        demote=pushed,
        bound=bound,
        profile=profile,
    )
