"""The recommendation service: ratings in, ranked paintings with scores and explanations out.

``recommend`` takes values the API's serializers (or the web forms) have validated, with
paintings as primary keys (external ids are the API layer's business). It reads the story group
/ artist filter (one query), fetches the active artefact of every engine
the recommender needs (opened once per process, memory-mapped, reopened when a new version is
activated: see ``recsys.serving.selectors.active_artefact``) and hands them to
``recommend_with_artefacts``, the database-free core that ``bench/recommend.py`` times, and
checks the returned ids are still catalogued (one query). The core dispatches on the
recommender's kind: each engine's scores and explanations come from
``recsys.serving.recommend_runs`` (eq. 1, demote, BLIP's ITM), the ranking from
``recsys.serving.recommend_ranking`` (single and early, exact or from the ANN index; late
fusion by RRF) or ``recsys.serving.recommend_score`` (score fusion); the learned kind's from
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
* Under the ``demote`` weighting only late fusion's total mode scores every painting's dislikes:
  the other kinds compute each engine's pull L >= S for every row and S near the top only
  (``EngineRun.bound``, ``recsys.algorithms.bounded``), with the same answer as scoring everything.
* Late fusion's partial and total modes, the ANN index above ``RECSYS_ANN_MIN_ITEMS``:
  ``recsys.serving.recommend_ranking``. BLIP's ITM scores and the explanations (the rated
  paintings with the largest |w_j * A_ij / n| for the item): ``recsys.serving.recommend_runs``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import numpy as np
from django.conf import settings

from catalog.selectors import painting_pks_matching
from config.exceptions import ValidationFailed
from recsys.artefacts.reader import LoadedArtefact
from recsys.serving.recommend_learned import learned_result
from recsys.serving.recommend_mmr import POOL_FACTOR, effective_lambda, pool_config, rerank
from recsys.serving.recommend_ranking import rank_late, rank_single, rank_single_from_index
from recsys.serving.recommend_runs import EngineRun, engine_run, uses_index
from recsys.serving.recommend_score import score_fused
from recsys.serving.recommenders import LEARNED, PARTIAL, SCORE, RecommenderConfig, get_recommender
from recsys.serving.results import Contribution, Recommendation, RecommendationResult
from recsys.serving.selectors import active_artefact, catalogued_only, catalogued_pks
from recsys.serving.tuned import tuned_artefacts

__all__ = ["Contribution", "Recommendation", "RecommendationResult", "recommend", "recommend_with_artefacts"]

#: how many contributing rated paintings explain each recommendation by default
EXPLAIN_TOP = 3


# -- the core: one dispatch on the recommender's kind ----------------------------------------------
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
    learned kind is ``recsys.serving.recommend_learned``'s, the others (eq. 1, late and score fusion)
    ``_eq1_or_late``'s.
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
    runs: dict[str, EngineRun] = {}
    ignored: dict[int, list[str]] = {}
    applied: dict[str, str] = {}
    # late fusion's total mode ranks every painting of each engine; the others need the first n only
    every_row = config.is_late and config.mode != PARTIAL
    for engine in config.engines:
        art = artefacts[engine]
        run = engine_run(engine, art, ratings, weighting, exact=not uses_index(config, art), full=every_row)
        used = set() if run is None else set(run.rated_pks.tolist())  # the rated paintings it holds
        for pk in ratings:
            if pk not in used:
                ignored.setdefault(pk, []).append(art.missing_reason(pk))
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
        fuse = score_fused if config.kind == SCORE else rank_late
        items = fuse(config, runs, candidates, n, used_depth or 0, explain)
    else:
        (run,) = runs.values()
        if run.indexed:  # above RECSYS_ANN_MIN_ITEMS
            items = rank_single_from_index(run, removed, allowed, n, explain)
        else:
            items = rank_single(run, run.candidate_rows(removed, allowed), n, explain)
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
