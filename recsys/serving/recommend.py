"""The recommendation service: ratings in, ranked paintings with scores and explanations out.

``recommend`` takes values the API's serializers (or the web forms) have validated, with
paintings as primary keys (external ids are the API layer's business). It reads the story group
/ artist filter (one query), fetches the active artefact of every engine
the recommender needs (opened once per process, memory-mapped, reopened when a new version is
activated: see ``recsys.serving.selectors.active_artefact``) and hands them to
``recommend_with_artefacts``, the database-free core that ``bench/recommend.py`` times, and
checks the returned ids are still catalogued (one query). Numbers come from
``recsys.algorithms.scoring`` (eq. 1), ``recsys.algorithms.fusion`` (RRF) and
``recsys.serving.recommend_score`` (score fusion); the learned kind's from
``recsys.serving.recommend_learned``, MMR re-ranking from ``recsys.serving.recommend_mmr``;
nothing here loops over the catalogue in Python.

Decisions worth knowing:

* Rated paintings and ``exclude`` are never recommended. A rated painting the catalogue knows
  but an engine's artefact does not (no image for ResNet, no text for LDA, added after the
  artefact was built) is reported in ``ignored_ratings`` with the engine(s) that ignored it;
  only when no engine can use any rating is the request refused.
* Ties: score descending, then painting pk ascending, everywhere.
* A painting deleted from the catalogue stays in the artefacts until their refresh; one query on
  the returned ids keeps it out of every answer (``recsys.serving.selectors.catalogued_only``).
* Late fusion, partial mode: each engine ranks its own artefact's candidates and contributes its
  top-r list (r = the recommender's ``R``, else n). Total mode: each engine ranks every
  candidate of its own artefact, and the fused list keeps every painting that at least one fused
  engine represents (one without an image is still recommended by the text engine): an engine
  that cannot rank a painting gives it no RRF term (its rank is None), exactly as an engine with
  no usable rating contributes no list and the others decide. Total mode fuses with
  ``recsys.algorithms.fusion.fuse_top_n``: the exact first n of the fused full rankings, none sorted.
* Above ``RECSYS_ANN_MIN_ITEMS`` paintings a single or early recommender answers from the
  artefact's approximate index (``recsys.algorithms.ann``: eq. 1 is one inner-product query with the profile
  q = sum_j w_j e_j / n; the rows it finds are re-scored exactly). Rated, excluded and filtered
  paintings are masked inside the index and checked again, so they never come back; only which
  of the best paintings are found is approximate (recall@10 in bench/README.md). BLIP scored by
  ITM is no inner product and always takes the exact path.
* BLIP's A_ij is its ITM probability while ``RECSYS_BLIP_SCORE`` is ``"itm"`` (``recsys.algorithms.itm``,
  a calibrated cosine outside the ITM lists), in scores and explanations alike.
* Explanations: the rated paintings with the largest |w_j * A_ij / n| for the item. For late
  fusion they come from the engine that ranked the item best (ties: the recommender's engine
  order); each ``Contribution`` names its engine.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from catalog.selectors import painting_pks_matching
from config.exceptions import ValidationFailed
from recsys.algorithms import demote, itm, scoring
from recsys.algorithms.fusion import fuse_top_n, reciprocal_rank_fusion
from recsys.artefacts.reader import LoadedArtefact
from recsys.serving.demote_scores import artefact_scores, rescored_pool
from recsys.serving.recommend_learned import learned_result
from recsys.serving.recommend_mmr import POOL_FACTOR, effective_lambda, pool_config, rerank
from recsys.serving.recommend_score import score_fused
from recsys.serving.recommenders import LEARNED, PARTIAL, SCORE, RecommenderConfig, get_recommender
from recsys.serving.results import Contribution, Recommendation, RecommendationResult
from recsys.serving.selectors import active_artefact, catalogued_only, catalogued_pks
from recsys.serving.similar import ItmSource, itm_source
from recsys.serving.tuned import tuned_artefacts

__all__ = ["Contribution", "Recommendation", "RecommendationResult", "recommend", "recommend_with_artefacts"]

#: how many contributing rated paintings explain each recommendation by default
EXPLAIN_TOP = 3


# -- the core -------------------------------------------------------------------------------------
@dataclass(slots=True)
class _EngineRun:
    """One engine's view of the request: the rated paintings it knows, their weights, the scores."""

    engine: str
    artefact: LoadedArtefact
    rated_rows: np.ndarray  # rows of the usable rated paintings, sorted by pk
    rated_pks: np.ndarray
    rated_values: np.ndarray
    weights: scoring.Weights
    scores: np.ndarray | None  # eq. 1 for every row of the artefact (None: answered by the index)
    itm: ItmSource | None = None  # BLIP scored by ITM (recsys.algorithms.itm) instead of the cosine
    demote: demote.DemoteWeights | None = None  # the "demote" weighting (not eq. 1)

    @property
    def similarity(self) -> np.ndarray | None:
        return self.artefact.similarity

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
        pks, rows, values = self.rated_pks.tolist(), self.rated_rows.tolist(), self.rated_values.tolist()
        weights, similarities, contributions = self.weights.values.tolist(), block.tolist(), contrib.tolist()
        return [
            tuple(
                Contribution(
                    painting_id=pks[j],
                    external_id=art.external_ids[rows[j]],
                    rating=values[j],
                    weight=weights[j],
                    similarity=similarities[i][j],
                    contribution=contributions[i][j],
                    engine=self.engine,
                )
                for j in best[i]
            )
            for i in range(item_rows.size)
        ]


def _uses_index(config: RecommenderConfig, art: LoadedArtefact) -> bool:
    """Whether a single or early recommender answers from ``art``'s ANN index (above the size
    setting, only when the precompute built one, and never for BLIP scored by ITM)."""
    return (
        config.single_engine
        and art.size > settings.RECSYS_ANN_MIN_ITEMS
        and itm_source(art) is None
        and art.ann_index is not None
    )


def _engine_run(
    engine: str, art: LoadedArtefact, ratings: Mapping[int, int], weighting: str, *, exact: bool = True
) -> _EngineRun | None:
    """Score every painting of ``art`` (``exact``; else the ANN index will); None when the
    artefact knows none of the rated paintings."""
    rated = np.fromiter(sorted(ratings), dtype=np.int64, count=len(ratings))
    rows, found = art.row_of.rows(rated)  # one vectorised lookup of every rated painting
    if not found.any():
        return None
    pks, rows = rated[found], rows[found]
    values = np.array([ratings[pk] for pk in pks.tolist()])
    pushed = demote.demote_weights(values) if weighting == scoring.DEMOTE else None
    weights = pushed.as_weights() if pushed else scoring.rating_weights(values, weighting=weighting)
    source = itm_source(art)
    if not exact:
        scores = None
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
    return _EngineRun(
        engine=engine,
        artefact=art,
        rated_rows=rows.astype(np.intp),
        rated_pks=pks.astype(np.int64),
        rated_values=values.astype(np.int64),
        weights=weights,
        scores=scores,
        itm=source,
        demote=pushed,
    )


def _single(run: _EngineRun, candidates: np.ndarray, n: int, explain: int) -> tuple[Recommendation, ...]:
    assert run.scores is not None
    pids = run.artefact.painting_ids
    rows = candidates[scoring.top_n(run.scores[candidates], pids[candidates], n)]
    return _ranked(run, rows, run.scores[rows], explain)


def _single_from_index(
    run: _EngineRun, removed: Collection[int], allowed: np.ndarray | None, n: int, explain: int
) -> tuple[Recommendation, ...]:
    from recsys.algorithms import ann  # faiss is imported only by processes that query an index

    art = run.artefact
    allowed_rows = None
    if allowed is not None:
        rows, found = art.row_of.rows(allowed)
        allowed_rows = rows[found]
    pushed = run.demote  # demote: the likes' profile finds a pool, re-scored exactly (S <= L)
    rows, scores = ann.profile_top_n(
        art.ann_index,
        embeddings=art.embeddings,
        rated_rows=run.rated_rows,
        weights=run.weights.values if pushed is None else pushed.pull,
        n=n if pushed is None else n * POOL_FACTOR,
        allowed=allowed_rows,
        exclude=run.known_rows(removed),
        keys=art.painting_ids,
    )
    if pushed is not None:
        rows, scores = rescored_pool(art, rows, run.rated_rows, pushed, n)
    return _ranked(run, rows, scores, explain)


def _ranked(
    run: _EngineRun, rows: np.ndarray, scores: np.ndarray, explain: int
) -> tuple[Recommendation, ...]:
    """Recommendations for ``rows`` (best first) with their eq.-1 ``scores``."""
    pids = run.artefact.painting_ids
    explanations = run.explain(rows, explain)
    return tuple(
        Recommendation(
            painting_id=int(pids[row]),
            external_id=run.artefact.external_ids[int(row)],
            rank=rank,
            score=float(score),
            contributions=explanations[rank - 1],
            engine_ranks={},
        )
        for rank, (row, score) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True), start=1)
    )


def _late(
    config: RecommenderConfig,
    runs: dict[str, _EngineRun],
    candidates: dict[str, np.ndarray],
    n: int,
    depth: int,
    explain: int,
) -> tuple[Recommendation, ...]:
    scored = {
        e: (run.artefact.painting_ids[candidates[e]], run.scores[candidates[e]])  # type: ignore[index]
        for e, run in runs.items()
    }
    if config.mode == PARTIAL:
        lists = {e: pids[scoring.top_n(scores, pids, depth)] for e, (pids, scores) in scored.items()}
        fused = reciprocal_rank_fusion(lists, weights=config.engines, k=config.rrf_k)
    else:  # total: exact RRF of the full rankings, first n only, without sorting them
        fused = fuse_top_n(scored, weights=config.engines, n=n, k=config.rrf_k)

    chosen = range(min(n, fused.keys.shape[0]))
    ranks = [{engine: None for engine in config.engines} | fused.engine_ranks(i) for i in chosen]
    # Explain each item from the engine that ranked it best (config order breaks ties).
    explainer = [
        min((r, pos, e) for pos, (e, r) in enumerate(rk.items()) if r is not None)[2] for rk in ranks
    ]
    explanations: dict[int, tuple[Contribution, ...]] = {}
    for engine, run in runs.items():
        mine = [i for i in chosen if explainer[i] == engine]
        rows = np.array([run.artefact.row_of[int(fused.keys[i])] for i in mine], dtype=np.intp)
        explanations.update(zip(mine, run.explain(rows, explain), strict=True))

    def external_id(i: int) -> str:
        art = runs[explainer[i]].artefact
        return art.external_ids[art.row_of[int(fused.keys[i])]]

    return tuple(
        Recommendation(
            painting_id=int(fused.keys[i]),
            external_id=external_id(i),
            rank=i + 1,
            score=float(fused.scores[i]),
            contributions=explanations[i],
            engine_ranks=ranks[i],
        )
        for i in chosen
    )


def recommend_with_artefacts(
    *,
    config: RecommenderConfig,
    artefacts: Mapping[str, LoadedArtefact],
    ratings: Mapping[int, int],
    n: int,
    weighting: str,
    allowed: np.ndarray | None = None,
    exclude: Collection[int] = (),
    explain: int = EXPLAIN_TOP,
    mmr_lambda: float | None = None,
) -> RecommendationResult:
    """The database-free core of ``recommend`` on already validated input and loaded artefacts.

    ``ratings`` maps painting pk -> 1..5, ``allowed`` (sorted pks) restricts the candidates,
    ``exclude`` removes pks; rated paintings are always removed. The one dispatch on kind: the
    learned kind is ``recsys.serving.recommend_learned``'s, the others (eq. 1, late fusion) this module's.
    ``mmr_lambda`` (None: the recommender's own) re-ranks by MMR (``recsys.serving.recommend_mmr``).
    """
    lam = effective_lambda(config, mmr_lambda)
    scorer, size = (config, n) if lam is None else (pool_config(config, n), n * POOL_FACTOR)
    if config.kind == LEARNED:
        result = learned_result(
            config=scorer,
            artefacts=artefacts,
            ratings=ratings,
            n=size,
            weighting=weighting,
            allowed=allowed,
            removed=set(ratings) | set(exclude),
            explain=explain,
        )
    else:
        result = _eq1_or_late(
            config=scorer,
            artefacts=artefacts,
            ratings=ratings,
            n=size,
            weighting=weighting,
            allowed=allowed,
            exclude=exclude,
            explain=explain,
        )
    return result if lam is None else rerank(result, config=config, artefacts=artefacts, lam=lam, n=n)


def _eq1_or_late(
    *,
    config: RecommenderConfig,
    artefacts: Mapping[str, LoadedArtefact],
    ratings: Mapping[int, int],
    n: int,
    weighting: str,
    allowed: np.ndarray | None,
    exclude: Collection[int],
    explain: int,
) -> RecommendationResult:
    """Single, early, late and score fusion recommenders (eq. 1, RRF, ``recommend_score``)."""
    runs: dict[str, _EngineRun] = {}
    ignored: dict[int, list[str]] = {}
    applied: dict[str, str] = {}
    for engine in config.engines:
        art = artefacts[engine]
        rated = np.fromiter(ratings, dtype=np.int64, count=len(ratings))
        for pk in rated[~art.row_of.rows(rated)[1]].tolist():
            ignored.setdefault(pk, []).append(art.missing_reason(pk))
        run = _engine_run(engine, art, ratings, weighting, exact=not _uses_index(config, art))
        if run is not None:
            runs[engine] = run
            applied[engine] = run.weights.scheme
    if not runs:
        engines = ", ".join(config.engines)
        raise ValidationFailed(
            f"None of the rated paintings can be used by {config.name!r}: the {engines} artefact(s) "
            "do not contain them. Rate other paintings.",
            field="ratings",
            detail={"ignored_ratings": {pk: "; ".join(r) for pk, r in ignored.items()}},
        )

    removed = set(ratings) | set(exclude)
    used_depth = None
    if config.is_late or config.kind == SCORE:
        candidates = {engine: run.candidate_rows(removed, allowed) for engine, run in runs.items()}
        if config.mode == PARTIAL:
            used_depth = config.depth or n
        fuse = score_fused if config.kind == SCORE else _late
        items = fuse(config, runs, candidates, n, used_depth or 0, explain)
    else:
        (run,) = runs.values()
        if run.scores is None:  # above RECSYS_ANN_MIN_ITEMS
            items = _single_from_index(run, removed, allowed, n, explain)
        else:
            items = _single(run, run.candidate_rows(removed, allowed), n, explain)
    return RecommendationResult(
        recommender=config.name,
        kind=config.kind,
        mode=config.mode,
        weighting=weighting,
        items=items,
        versions={engine: artefacts[engine].version for engine in config.engines},
        ignored_ratings={pk: "; ".join(reasons) for pk, reasons in sorted(ignored.items())},
        applied_weighting=applied,
        depth=used_depth,
    )


# -- public service -------------------------------------------------------------------------------
def recommend(
    *,
    ratings: Mapping[int, int],
    recommender: str | None = None,
    n: int = 9,
    story_group: str | None = None,
    artist: int | str | None = None,
    exclude: Collection[int] = (),
    weighting: str | None = None,
    explain: int = EXPLAIN_TOP,
    mmr_lambda: float | None = None,
    collection: str | None = None,
    viewable_only: bool = False,
    catalogued: Callable[[list[int]], Collection[int]] = catalogued_pks,
) -> RecommendationResult:
    """Recommend ``n`` paintings for ``ratings`` (painting pk -> 1..5) with ``recommender``.

    Takes values its callers have validated (the API's serializers, the web forms): ``n`` in
    1..RECSYS_MAX_N, ratings 1..5 of catalogued paintings, ``exclude`` catalogued pks,
    ``weighting`` one of ``recsys.algorithms.scoring.WEIGHTINGS`` (the recommender's own ``WEIGHTING`` wins;
    None: RECSYS_WEIGHTING), ``artist`` an
    artist pk or name, ``collection`` a collection slug or name (``catalog.selectors``). What
    only the data can tell is checked here: ``ValidationFailed`` when there are no ratings, for
    an unknown story group, artist or collection, and when no engine can use any rating
    (``detail["ignored_ratings"]`` keyed by painting pk); ``UnknownEngine`` for an unknown
    recommender; ``EngineUnavailable`` (503) while an engine has no ready artefact.
    ``viewable_only`` recommends only paintings with a stored image (rated ones may have none).
    ``catalogued`` answers which returned pks are still catalogued (one query; the API passes
    the query that reads the paintings it shows, so checking and reading them is one query).
    """
    config = get_recommender(recommender)
    if not ratings:
        raise ValidationFailed("Rate at least one painting.", field="ratings")
    allowed = painting_pks_matching(
        story_group=story_group,
        artist=artist,
        collection=collection,
        has_image=True if viewable_only else None,
    )
    artefacts = {engine: active_artefact(engine=engine) for engine in config.engines}
    if config.tuned:  # the active tuned space's view of each engine it tunes (else untuned)
        artefacts = tuned_artefacts(artefacts)
    excluded = frozenset(exclude)

    def run(gone: frozenset[int]) -> RecommendationResult:
        return recommend_with_artefacts(
            config=config,
            artefacts=artefacts,
            ratings=dict(sorted(ratings.items())),
            n=n,
            weighting=config.weighting or weighting or settings.RECSYS_WEIGHTING,
            allowed=None if allowed is None else np.sort(np.asarray(allowed, dtype=np.int64)),
            exclude=gone | excluded,
            explain=explain,
            mmr_lambda=mmr_lambda,
        )

    return catalogued_only(run, lambda result: [item.painting_id for item in result.items], catalogued)
