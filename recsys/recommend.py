"""The recommendation service: ratings in, ranked paintings with scores and explanations out.

``recommend`` validates the request (one small query for the painting ids, one for a story
group / artist filter, one on the ids it returns), fetches the active artefact of every engine
the recommender needs (opened once per process, memory-mapped, reopened when a new version is
activated: see ``recsys.selectors.active_artefact``) and hands them to
``recommend_with_artefacts``, the database-free core that ``bench/recommend.py`` times. Numbers
come from ``recsys.scoring`` (eq. 1) and ``recsys.fusion`` (RRF); nothing here loops over the
catalogue in Python.

Decisions worth knowing:

* Rated paintings and ``exclude`` are never recommended. A rated painting the catalogue knows
  but an engine's artefact does not (no image for ResNet, no text for LDA, added after the
  artefact was built) is reported in ``ignored_ratings`` with the engine(s) that ignored it;
  only when no engine can use any rating is the request refused.
* Ties: score descending, then painting pk ascending, everywhere.
* A painting deleted from the catalogue stays in the artefacts until their refresh; one query on
  the returned ids keeps it out of every answer (``_catalogued_only``).
* Late fusion, partial mode: each engine ranks its own artefact's candidates and contributes its
  top-r list (r = ``depth``, else the recommender's ``R``, else n). Total mode: each engine ranks
  the candidates present in *every* fused engine's artefact, so no painting is pushed down merely
  because one engine could not represent it. An engine with no usable rating contributes no
  list (its ranks are None) and the others decide.
* Explanations: the rated paintings with the largest |w_j * A_ij / n| for the item. For late
  fusion they come from the engine that ranked the item best (ties: the recommender's engine
  order); each ``Contribution`` names its engine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from django.conf import settings

from catalog.models import Artist, Painting, StoryGroup
from config.exceptions import UnknownPainting, ValidationFailed
from recsys import scoring
from recsys.artefacts import LoadedArtefact
from recsys.fusion import reciprocal_rank_fusion
from recsys.recommenders import (
    PARTIAL,
    TOTAL,
    RecommenderConfig,
    default_recommender_name,
    get_recommender,
    recommenders,
)
from recsys.selectors import EngineStatus, active_artefact, engine_statuses
from users.services import validate_rating_value

#: how many contributing rated paintings explain each recommendation by default
EXPLAIN_TOP = 3

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Contribution:
    painting_id: int  # pk of the rated painting
    external_id: str
    rating: int
    weight: float  # w_j
    similarity: float  # A_ij
    contribution: float  # w_j * A_ij / n
    engine: str  # the engine whose A and n these are


@dataclass(frozen=True, slots=True)
class Recommendation:
    painting_id: int  # pk
    external_id: str
    rank: int  # 1-based
    score: float  # eq. 1 score (single/early) or RRF score (late)
    # top |contribution| first; for late fusion from the engine that ranked the item best
    contributions: tuple[Contribution, ...]
    # late fusion: each engine's 1-based rank (None = not in that engine's list); {} otherwise
    engine_ranks: dict[str, int | None]


@dataclass(frozen=True, slots=True)
class RecommendationResult:
    recommender: str
    kind: str  # "single" | "early" | "late"
    mode: str | None  # "partial" | "total" for late
    weighting: str  # as requested (or the RECSYS_WEIGHTING default)
    items: tuple[Recommendation, ...]
    versions: dict[str, str]  # engine -> artefact version used
    ignored_ratings: dict[int, str]  # rated painting pk -> reason
    # engine -> weighting actually applied ("centered", "minmax" or "equal": see recsys.scoring)
    applied_weighting: dict[str, str]
    depth: int | None = None  # each engine's list length (late, partial mode)


@dataclass(frozen=True, slots=True)
class SimilarPainting:
    painting_id: int
    external_id: str
    similarity: float  # A_ij (cosine) under the engine
    rank: int  # 1-based


@dataclass(frozen=True, slots=True)
class RecommenderStatus:
    name: str
    kind: str  # "single" | "early" | "late"
    mode: str | None  # "partial" | "total" for late
    engines: dict[str, float]  # engine -> RRF weight (1.0 for single/early)
    status: str  # "ready" only when every engine is ready; else "computing" or "unavailable"
    # "engine: why" for each engine that is not ready; when ready, notes (e.g. a refresh running)
    reason: str
    progress: float | None  # 1.0 ready, least progress of the engines computing, None unavailable
    versions: dict[str, str | None]  # engine -> active artefact version (None: none yet)
    coverage: float | None  # smallest share of the catalogue in the engines' artefacts (when ready)
    is_default: bool


# -- validation ---------------------------------------------------------------------------------
def _whole_number(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _validate_n(n: object, *, field: str = "n") -> int:
    if not _whole_number(n) or not 1 <= n <= settings.RECSYS_MAX_N:
        raise ValidationFailed(
            f"{field} must be a whole number from 1 to {settings.RECSYS_MAX_N}, got {n!r}.", field=field
        )
    return int(n)


def _validate_weighting(weighting: str | None) -> str:
    if weighting is None:
        return settings.RECSYS_WEIGHTING
    if weighting not in scoring.WEIGHTINGS:
        raise ValidationFailed(
            f"Unknown weighting {weighting!r}; choose one of {', '.join(scoring.WEIGHTINGS)}.",
            field="weighting",
        )
    return weighting


def _validate_ratings(ratings: Mapping[int, int]) -> dict[int, int]:
    if not isinstance(ratings, Mapping) or not ratings:
        raise ValidationFailed("Rate at least one painting.", field="ratings")
    if len(ratings) > settings.RECSYS_MAX_RATINGS:
        raise ValidationFailed(
            f"At most {settings.RECSYS_MAX_RATINGS} ratings per request, got {len(ratings)}.", field="ratings"
        )
    validated: dict[int, int] = {}
    for pk, value in ratings.items():
        if not _whole_number(pk):
            raise ValidationFailed(f"Painting ids must be whole numbers, got {pk!r}.", field="ratings")
        validated[int(pk)] = validate_rating_value(value, field=f"ratings.{pk}")
    return dict(sorted(validated.items()))


def _validate_exclude(exclude: Collection[int]) -> list[int]:
    if isinstance(exclude, str | bytes) or not isinstance(exclude, Collection):
        raise ValidationFailed("exclude must be a list of painting ids.", field="exclude")
    if len(exclude) > settings.RECSYS_MAX_RATINGS:
        raise ValidationFailed(
            f"At most {settings.RECSYS_MAX_RATINGS} excluded paintings, got {len(exclude)}.", field="exclude"
        )
    if not all(_whole_number(pk) for pk in exclude):
        raise ValidationFailed("exclude must be a list of painting ids.", field="exclude")
    return sorted({int(pk) for pk in exclude})


def _check_catalogued(rated: Collection[int], excluded: Collection[int]) -> None:
    """Every id must be a painting: one query for both lists; unknown ids are errors."""
    known = set(
        Painting.objects.filter(pk__in=set(rated) | set(excluded)).order_by().values_list("pk", flat=True)
    )
    for ids, field in ((rated, "ratings"), (excluded, "exclude")):
        missing = sorted(set(ids) - known)
        if missing:
            raise UnknownPainting(
                f"Unknown painting id{'s' if len(missing) > 1 else ''}: {', '.join(map(str, missing[:10]))}.",
                field=field,
                detail={"unknown_ids": missing},
            )


def _allowed_paintings(*, story_group: str | None, artist_id: int | None) -> np.ndarray | None:
    """Sorted pks matching the filters (None: no filter). One query, a second only if it is empty."""
    if story_group is None and artist_id is None:
        return None
    if story_group is not None and (not isinstance(story_group, str) or not story_group):
        raise ValidationFailed("story_group must be a story group slug.", field="story_group")
    if artist_id is not None and not _whole_number(artist_id):
        raise ValidationFailed(f"artist_id must be a whole number, got {artist_id!r}.", field="artist_id")
    paintings = Painting.objects.order_by()
    if story_group is not None:
        paintings = paintings.filter(story_group__slug=story_group)
    if artist_id is not None:
        paintings = paintings.filter(artist_id=artist_id)
    allowed = np.fromiter(paintings.values_list("pk", flat=True), dtype=np.int64)
    if allowed.size == 0:
        if story_group is not None and not StoryGroup.objects.filter(slug=story_group).exists():
            raise ValidationFailed(f"Unknown story group {story_group!r}.", field="story_group")
        if artist_id is not None and not Artist.objects.filter(pk=artist_id).exists():
            raise ValidationFailed(f"Unknown artist {artist_id!r}.", field="artist_id")
    return np.sort(allowed)


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
    scores: np.ndarray  # eq. 1 for every row of the artefact

    @property
    def similarity(self) -> np.ndarray | None:
        return self.artefact.similarity

    def candidate_rows(
        self, removed: Collection[int], allowed: np.ndarray | None, shared: np.ndarray | None
    ) -> np.ndarray:
        """Rows that may be recommended: not rated, not excluded, matching the filters and, for
        late fusion in total mode, present in every fused artefact (``shared``)."""
        art = self.artefact
        keep = np.ones(art.size, dtype=bool) if shared is None else shared.copy()
        keep[[art.row_of[pk] for pk in removed if pk in art.row_of]] = False
        if allowed is not None:
            keep &= np.isin(art.painting_ids, allowed)
        return np.flatnonzero(keep)

    def explain(self, item_rows: np.ndarray, top: int) -> list[tuple[Contribution, ...]]:
        if top <= 0 or item_rows.size == 0:
            return [() for _ in range(item_rows.size)]
        art = self.artefact
        block = scoring.similarity_block(
            embeddings=art.embeddings,
            item_rows=item_rows,
            rated_rows=self.rated_rows,
            similarity=self.similarity,
        )
        contrib = scoring.contributions(block, self.weights.values)
        best = scoring.top_contributors(contrib, top)
        return [
            tuple(
                Contribution(
                    painting_id=int(self.rated_pks[j]),
                    external_id=art.external_ids[int(self.rated_rows[j])],
                    rating=int(self.rated_values[j]),
                    weight=float(self.weights.values[j]),
                    similarity=float(block[i, j]),
                    contribution=float(contrib[i, j]),
                    engine=self.engine,
                )
                for j in best[i]
            )
            for i in range(item_rows.size)
        ]


_shared_rows: dict[tuple[tuple[str, str], ...], dict[str, np.ndarray]] = {}


def _in_every_artefact(artefacts: Mapping[str, LoadedArtefact]) -> dict[str, np.ndarray]:
    """engine -> mask of its rows whose painting is in every one of ``artefacts``.

    Computed once per combination of artefact versions (they are immutable), not per request.
    """
    key = tuple(sorted((engine, art.version) for engine, art in artefacts.items()))
    masks = _shared_rows.get(key)
    if masks is None:
        common = functools.reduce(np.intersect1d, (art.painting_ids for art in artefacts.values()))
        masks = {engine: np.isin(art.painting_ids, common) for engine, art in artefacts.items()}
        if len(_shared_rows) >= 16:  # old versions: drop them all rather than track use
            _shared_rows.clear()
        _shared_rows[key] = masks
    return masks


def _ignored_reason(art: LoadedArtefact, pk: int) -> str:
    reason = f"not in the {art.engine} artefact {art.version}"
    skipped = art.manifest.get("skipped")
    if isinstance(skipped, dict) and skipped.get(str(pk)):
        reason += f": {skipped[str(pk)]}"
    return reason


def _engine_run(
    engine: str, art: LoadedArtefact, ratings: Mapping[int, int], weighting: str
) -> _EngineRun | None:
    """Score every painting of ``art``; None when the artefact knows none of the rated paintings."""
    usable = [(pk, art.row_of[pk], value) for pk, value in sorted(ratings.items()) if pk in art.row_of]
    if not usable:
        return None
    pks, rows, values = (np.array(column) for column in zip(*usable, strict=True))
    weights = scoring.rating_weights(values, weighting=weighting)
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
    )


def _single(run: _EngineRun, candidates: np.ndarray, n: int, explain: int) -> tuple[Recommendation, ...]:
    pids = run.artefact.painting_ids
    rows = candidates[scoring.top_n(run.scores[candidates], pids[candidates], n)]
    explanations = run.explain(rows, explain)
    return tuple(
        Recommendation(
            painting_id=int(pids[row]),
            external_id=run.artefact.external_ids[int(row)],
            rank=rank,
            score=float(run.scores[row]),
            contributions=explanations[rank - 1],
            engine_ranks={},
        )
        for rank, row in enumerate(rows.tolist(), start=1)
    )


def _late(
    config: RecommenderConfig,
    runs: dict[str, _EngineRun],
    candidates: dict[str, np.ndarray],
    n: int,
    depth: int,
    explain: int,
) -> tuple[Recommendation, ...]:
    lists: dict[str, np.ndarray] = {}
    for engine, run in runs.items():
        cand = candidates[engine]
        pids = run.artefact.painting_ids[cand]
        if config.mode == PARTIAL:
            order = scoring.top_n(run.scores[cand], pids, depth)
        else:
            order = scoring.rank_all(run.scores[cand], pids)
        lists[engine] = pids[order]
    fused = reciprocal_rank_fusion(lists, weights=config.engines, k=config.rrf_k)

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
    depth: int | None = None,
    explain: int = EXPLAIN_TOP,
) -> RecommendationResult:
    """The database-free core of ``recommend`` on already validated input and loaded artefacts.

    ``ratings`` maps painting pk -> 1..5, ``allowed`` (sorted pks) restricts the candidates,
    ``exclude`` removes pks; rated paintings are always removed.
    """
    runs: dict[str, _EngineRun] = {}
    ignored: dict[int, list[str]] = {}
    applied: dict[str, str] = {}
    for engine in config.engines:
        art = artefacts[engine]
        for pk in ratings:
            if pk not in art.row_of:
                ignored.setdefault(pk, []).append(_ignored_reason(art, pk))
        run = _engine_run(engine, art, ratings, weighting)
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
    shared = (
        _in_every_artefact({e: artefacts[e] for e in config.engines})
        if config.is_late and config.mode == TOTAL
        else {}
    )
    candidates = {
        engine: run.candidate_rows(removed, allowed, shared.get(engine)) for engine, run in runs.items()
    }

    used_depth = None
    if config.is_late:
        if config.mode == PARTIAL:
            used_depth = depth or config.depth or n
        items = _late(config, runs, candidates, n, used_depth or 0, explain)
    else:
        (run,) = runs.values()
        items = _single(run, candidates[run.engine], n, explain)
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
    artist_id: int | None = None,
    exclude: Collection[int] = (),
    weighting: str | None = None,
    depth: int | None = None,
    explain: int = EXPLAIN_TOP,
) -> RecommendationResult:
    """Recommend ``n`` paintings for ``ratings`` (painting pk -> 1..5) with ``recommender``.

    Raises ``ValidationFailed`` (field named) for bad input, ``InvalidRating`` for a rating
    outside 1..5, ``UnknownPainting`` for ids not in the catalogue, ``UnknownEngine`` for an
    unknown recommender and ``EngineUnavailable`` (503) while an engine has no ready artefact.
    ``depth`` overrides the list length of late fusion in partial mode (ignored otherwise).
    """
    config = get_recommender(recommender)
    n = _validate_n(n)
    if depth is not None:
        depth = _validate_n(depth, field="depth")
    if not _whole_number(explain) or explain < 0:
        raise ValidationFailed(f"explain must be a whole number >= 0, got {explain!r}.", field="explain")
    weighting = _validate_weighting(weighting)
    rated = _validate_ratings(ratings)
    excluded = _validate_exclude(exclude)
    _check_catalogued(rated, excluded)
    allowed = _allowed_paintings(story_group=story_group, artist_id=artist_id)
    artefacts = {engine: active_artefact(engine=engine) for engine in config.engines}

    def run(gone: frozenset[int]) -> RecommendationResult:
        return recommend_with_artefacts(
            config=config,
            artefacts=artefacts,
            ratings=rated,
            n=n,
            weighting=weighting,
            allowed=allowed,
            exclude=gone.union(excluded),
            depth=depth,
            explain=explain,
        )

    try:
        return _catalogued_only(run, lambda result: [item.painting_id for item in result.items])
    except ValidationFailed as exc:
        _ignored_by_external_id(exc)
        raise


def _ignored_by_external_id(exc: ValidationFailed) -> None:
    """Clients know paintings by external id: rewrite the error's ``ignored_ratings`` keys."""
    if not isinstance(exc.detail, dict) or not exc.detail.get("ignored_ratings"):
        return
    ignored = exc.detail["ignored_ratings"]
    external = dict(Painting.objects.filter(pk__in=list(ignored)).values_list("pk", "external_id"))
    exc.detail["ignored_ratings"] = {external.get(pk, str(pk)): reason for pk, reason in ignored.items()}


def _catalogued_only(run: Callable[[frozenset[int]], T], pks_of: Callable[[T], list[int]]) -> T:
    """``run(gone)`` again without every returned painting the catalogue no longer has.

    An artefact keeps a deleted painting until the refresh rebuilds it; one query on the few
    returned ids makes sure none is handed out. Each round excludes at least one more stale
    painting, so this ends (normally after the first query).
    """
    gone: frozenset[int] = frozenset()
    while True:
        result = run(gone)
        pks = pks_of(result)
        missing = set(pks) - set(Painting.objects.filter(pk__in=pks).values_list("pk", flat=True))
        if not missing:
            return result
        gone |= missing


def similar_paintings(*, painting_id: int, engine: str, n: int = 10) -> list[SimilarPainting]:
    """The ``n`` paintings most similar to ``painting_id`` under ``engine`` (itself excluded).

    Reads the painting's row of the dense A when the artefact has one, else its precomputed
    neighbour list when n fits in it, else one product with E; paintings deleted since the
    artefact was built are skipped. A catalogued painting the engine
    could not represent is a ``ValidationFailed`` on field ``painting`` naming the engine (the
    request is fine, that painting just has no neighbours under this engine).
    """
    n = _validate_n(n)
    if not _whole_number(painting_id) or not Painting.objects.filter(pk=painting_id).exists():
        raise UnknownPainting(f"Unknown painting id {painting_id!r}.", field="painting")
    art = active_artefact(engine=engine)
    row = art.row_of.get(int(painting_id))
    if row is None:
        raise ValidationFailed(
            f"Painting {painting_id} is {_ignored_reason(art, int(painting_id))}, so {engine!r} "
            "has no similar paintings for it.",
            field="painting",
            detail={"engine": engine, "version": art.version},
        )
    return _catalogued_only(
        lambda gone: _similar_rows(art, row, n, gone), lambda found: [s.painting_id for s in found]
    )


def _similar_rows(art: LoadedArtefact, row: int, n: int, gone: frozenset[int]) -> list[SimilarPainting]:
    pids = art.painting_ids
    rows = sims = None
    if art.similarity is None and art.neighbours_idx is not None:
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
        others = np.flatnonzero(keep)
        rows = others[scoring.top_n(all_sims[others], pids[others], n)]
        sims = all_sims[rows]
    return [
        SimilarPainting(
            painting_id=int(pids[r]), external_id=art.external_ids[int(r)], similarity=float(s), rank=i
        )
        for i, (r, s) in enumerate(zip(rows.tolist(), sims.tolist(), strict=True), start=1)
    ]


def recommender_names() -> list[str]:
    """The configured recommenders, in settings order."""
    return list(recommenders())


def _recommender_status(
    config: RecommenderConfig, states: Mapping[str, EngineStatus], default: str
) -> RecommenderStatus:
    mine = [states[engine] for engine in config.engines]
    not_ready = [state for state in mine if state.status != "ready"]
    if not not_ready:
        status, progress = "ready", 1.0
    elif any(state.status == "unavailable" for state in not_ready):
        status, progress = "unavailable", None
    else:
        status, progress = "computing", min(state.progress for state in not_ready)
    return RecommenderStatus(
        name=config.name,
        kind=config.kind,
        mode=config.mode,
        engines=dict(config.engines),
        status=status,
        # not ready: why, per engine; ready: notes such as a refresh in progress
        reason="; ".join(f"{state.name}: {state.reason}" for state in (not_ready or mine) if state.reason),
        progress=progress,
        versions={state.name: state.version for state in mine},
        coverage=None if not_ready else min(state.coverage for state in mine),
        is_default=config.name == default,
    )


def recommender_statuses() -> list[RecommenderStatus]:
    """Every configured recommender with its readiness, in settings order (the engines' states
    are read once, in a few queries, however many recommenders share them)."""
    configs = recommenders()
    engines = list(dict.fromkeys(engine for config in configs.values() for engine in config.engines))
    states = {state.name: state for state in engine_statuses(engines)}
    default = default_recommender_name()
    return [_recommender_status(config, states, default) for config in configs.values()]


def recommender_status(name: str) -> RecommenderStatus:
    """One recommender's readiness; unknown name -> ``UnknownEngine`` (field ``engine``)."""
    config = get_recommender(name)
    states = {state.name: state for state in engine_statuses(list(config.engines))}
    return _recommender_status(config, states, default_recommender_name())
