"""The recommenders the evaluation compares, each reduced to "ratings in, ranked pks and scores out".

* every configured recommender (``settings.RECSYS_RECOMMENDERS``) whose engines are all ready,
  through ``core_ranking``, the ONE call of ``recsys.serving.recommend``'s database-free core;
* ``late-total:a+b`` / ``late-partial:a+b``: late fusion (RRF, k = 60, equal weights) of every
  ready text/image engine pair not already configured (e.g. LDA + MiniLM on an offline install);
* ``score:a+b``: weighted score fusion (``recsys.algorithms.score_fusion``) of every ready engine
  pair not already configured as a score recommender, S = beta S_a + (1 - beta) S_b (a painting
  lacking one engine's modality scored by the other alone), beta the best of the beta sweep
  (``recsys.evaluation.sweeps``) on validation visitors (``score_fusion``; 0.5 when no sweep is given);
* ``learned:a+b``: the kernel ridge model of ``recsys.algorithms.learned`` on all ready engines, and
  ``learned:<engine>`` on each engine alone when several are ready;
* ``paper:<engine>``: the seed paper's algorithm, eq. 1 with min-max weights and rated paintings
  NOT excluded (they come back as their own nearest neighbours);
* ``centered:<name>``: each configured single, early or late recommender with eq. 1's centred
  weights, when the served weighting (``RECSYS_WEIGHTING``) is another one (``demote``): the
  before/after of issue 17, paired with the served row;
* ``random``: a seeded random order of the candidates, the floor.

All rank only the evaluation's candidates (``allowed``) and never recommend excluded paintings.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
from django.conf import settings

from config.exceptions import ValidationFailed
from recsys.algorithms import scoring
from recsys.algorithms.learned import NoKnownRatings, learned_scores, mean_kernel, painting_union
from recsys.artefacts.reader import LoadedArtefact
from recsys.serving.definitions import SCORE, parse_definition
from recsys.serving.recommend import recommend_with_artefacts
from recsys.serving.recommenders import LATE, LEARNED, PARTIAL, TOTAL, RecommenderConfig, recommenders


@dataclass(frozen=True)
class Ranked:
    pks: np.ndarray  # int64, best first
    scores: np.ndarray  # float64, same order (the recommender's own scale)


EMPTY = Ranked(np.empty(0, dtype=np.int64), np.empty(0))


@dataclass(frozen=True)
class EvalRecommender:
    name: str
    kind: str  # a recommender kind (recsys.serving.definitions.KINDS), "paper" or "random"
    engines: tuple[str, ...]
    rank: Callable[[Mapping[int, int], int], Ranked]  # (ratings, n) -> ranked
    # pairwise similarity of some paintings for MMR (None: no notion of similarity)
    similarity: Callable[[np.ndarray], np.ndarray] | None


def core_ranking(
    *,
    config: RecommenderConfig,
    artefacts: Mapping[str, LoadedArtefact],
    ratings: Mapping[int, int],
    n: int,
    allowed: np.ndarray,
    weighting: str,
) -> Ranked:
    """The evaluation's only call of ``recsys.serving.recommend``'s core (adjust here if it changes)."""
    try:
        result = recommend_with_artefacts(
            config=config,
            artefacts={engine: artefacts[engine] for engine in config.engines},
            ratings=ratings,
            n=n,
            weighting=weighting,
            allowed=allowed,
            explain=0,
        )
    except ValidationFailed:  # none of the rated paintings is in the engines' artefacts
        return EMPTY
    return Ranked(
        np.array([item.painting_id for item in result.items], dtype=np.int64),
        np.array([item.score for item in result.items], dtype=np.float64),
    )


def _kernel(artefacts: Mapping[str, LoadedArtefact]) -> Callable[[np.ndarray], np.ndarray]:
    return lambda pks: mean_kernel(artefacts=artefacts, pks=pks)


CENTERED_PREFIX = "centered:"


def _through_core(
    config: RecommenderConfig,
    artefacts: Mapping[str, LoadedArtefact],
    allowed: np.ndarray,
    weighting: str | None = None,
) -> EvalRecommender:
    mine = {engine: artefacts[engine] for engine in config.engines}
    weighting = weighting or config.weighting or settings.RECSYS_WEIGHTING

    def rank(ratings: Mapping[int, int], n: int) -> Ranked:
        return core_ranking(
            config=config,
            artefacts=mine,
            ratings=ratings,
            n=n,
            allowed=allowed,
            weighting=weighting,
        )

    return EvalRecommender(config.name, config.kind, tuple(config.engines), rank, _kernel(mine))


def score_fusion(
    pair: tuple[str, str], artefacts: Mapping[str, LoadedArtefact], allowed: np.ndarray, beta: float
) -> EvalRecommender:
    """``score:a+b`` with weight ``beta`` on a and 1 - beta on b, through the service's core."""
    a, b = pair
    config = parse_definition(
        f"score:{a}+{b}",
        {"kind": SCORE, "engines": {a: beta, b: 1.0 - beta}},
        engines=list(artefacts),
        source="evaluation",
    )
    return _through_core(config, artefacts, allowed)


def learned(artefacts: Mapping[str, LoadedArtefact], allowed: np.ndarray, lam: float) -> EvalRecommender:
    mine = dict(artefacts)
    allowed_mask = np.isin(painting_union(mine).painting_ids, allowed)

    def rank(ratings: Mapping[int, int], n: int) -> Ranked:
        try:
            fit = learned_scores(artefacts=mine, ratings=ratings, lam=lam)
        except NoKnownRatings:
            return EMPTY
        keep = allowed_mask & ~np.isin(fit.painting_ids, list(ratings))
        rows = np.flatnonzero(keep)
        top = rows[scoring.top_n(fit.scores[rows], fit.painting_ids[rows], n)]
        return Ranked(fit.painting_ids[top], fit.scores[top])

    return EvalRecommender(f"learned:{'+'.join(mine)}", "learned", tuple(mine), rank, _kernel(mine))


def paper(engine: str, art: LoadedArtefact, allowed: np.ndarray) -> EvalRecommender:
    """Eq. 1, min-max weights, rated paintings left among the candidates (as the paper's code)."""
    rows = np.flatnonzero(np.isin(art.painting_ids, allowed))

    def rank(ratings: Mapping[int, int], n: int) -> Ranked:
        usable = [(art.row_of[pk], v) for pk, v in sorted(ratings.items()) if pk in art.row_of]
        if not usable:
            return EMPTY
        rated_rows, values = (np.array(c) for c in zip(*usable, strict=True))
        weights = scoring.rating_weights(values, weighting=scoring.MINMAX)
        scores = scoring.eq1_scores(embeddings=art.embeddings, rated_rows=rated_rows, weights=weights.values)
        top = rows[scoring.top_n(scores[rows], art.painting_ids[rows], n)]
        return Ranked(art.painting_ids[top], scores[top])

    return EvalRecommender(f"paper:{engine}", "paper", (engine,), rank, _kernel({engine: art}))


def random_baseline(allowed: np.ndarray, seed: int) -> EvalRecommender:
    def rank(ratings: Mapping[int, int], n: int) -> Ranked:
        # seeded by the rated paintings' positions among the candidates, not their pks, so the
        # same visitors draw the same floor whatever the database numbered the paintings
        rated = np.fromiter(sorted(ratings), dtype=np.int64)
        rng = np.random.default_rng([seed, *np.searchsorted(allowed, rated).tolist()])
        pool = np.setdiff1d(allowed, np.fromiter(ratings, dtype=np.int64))
        picked = rng.choice(pool, size=min(n, pool.shape[0]), replace=False)
        return Ranked(picked.astype(np.int64), np.zeros(picked.shape[0]))

    return EvalRecommender("random", "random", (), rank, None)


def build(
    *,
    artefacts: Mapping[str, LoadedArtefact],
    allowed: np.ndarray,
    seed: int,
    lam: float,
    betas: Mapping[tuple[str, str], float] | None = None,
) -> list[EvalRecommender]:
    """Every recommender the ready ``artefacts`` allow, in a fixed order (``betas``: the score
    fusion weight of each engine pair's first engine, from the validation sweep)."""
    out: list[EvalRecommender] = []
    fused: set[tuple[str, frozenset[str]]] = set()
    twins: list[EvalRecommender] = []
    for config in recommenders().values():
        # a configured ``paper:*`` is measured by the faithful ``paper()`` row of the same name
        if all(engine in artefacts for engine in config.engines) and not config.name.startswith("paper:"):
            out.append(_through_core(config, artefacts, allowed))
            if config.kind in (LATE, SCORE):
                fused.add((config.mode or config.kind, frozenset(config.engines)))
            served = config.weighting or settings.RECSYS_WEIGHTING
            if config.kind != LEARNED and served != scoring.CENTERED:
                twin = replace(config, name=f"{CENTERED_PREFIX}{config.name}")
                twins.append(_through_core(twin, artefacts, allowed, scoring.CENTERED))
    out += twins
    for a, b in itertools.combinations(artefacts, 2):
        for mode in (TOTAL, PARTIAL):
            if (mode, frozenset((a, b))) not in fused:
                config = parse_definition(
                    f"late-{mode}:{a}+{b}",
                    {"kind": LATE, "engines": [a, b], "mode": mode},
                    engines=list(artefacts),
                    source="evaluation",
                )
                out.append(_through_core(config, artefacts, allowed))
    for pair in itertools.combinations(artefacts, 2):
        if (SCORE, frozenset(pair)) not in fused:
            out.append(score_fusion(pair, artefacts, allowed, (betas or {}).get(pair, 0.5)))
    if artefacts:
        out.append(learned(artefacts, allowed, lam))
    if len(artefacts) > 1:  # the same model on each engine alone: ridge vs eq. 1 on one representation
        out += [learned({engine: art}, allowed, lam) for engine, art in artefacts.items()]
    out += [paper(engine, art, allowed) for engine, art in artefacts.items()]
    out.append(random_baseline(allowed, seed))
    return out
