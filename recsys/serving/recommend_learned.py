"""The learned recommender in the recommendation service: ``recsys.algorithms.learned``'s kernel ridge model.

``learned_result`` answers a request for a recommender of kind ``learned`` the way
``recsys.serving.recommend`` answers eq. 1 and late fusion, on already loaded artefacts:

* the model is fitted on the visitor's ratings over the concatenated unit embeddings of the
  recommender's engines (one n x n solve) and predicts every painting any of those engines
  represents (one pass over each engine's embeddings): ``recsys.algorithms.learned.learned_scores``,
  regularisation the recommender's ``ridge_lambda`` (settings ``LAMBDA``), else
  ``recsys.algorithms.learned.DEFAULT_LAMBDA`` (chosen by ``manage.py evaluate``), or
  ``TUNED_LAMBDA`` in a tuned space (``manage.py evaluate --tuned``);
* rated and excluded paintings are never recommended, ``allowed`` (the filters) restricts the
  candidates; ties: score descending, then painting pk ascending, as everywhere;
* a rated painting that none of the engines represents is reported in ``ignored_ratings`` (with
  each artefact's reason); one missing from some engines only is used (a zero block there);
  when none is usable the request is refused (``ValidationFailed`` on ``ratings``), as for eq. 1;
* explanations: the rated paintings with the largest |alpha_j K_ij| for the item (they add up to
  its score), each a ``Contribution`` with weight alpha_j, similarity K_ij and engine
  ``"learned:<engine>+<engine>"``;
* the request's rating weighting does not apply (the targets are the centred ratings
  (r - 3) / 2, all ones when every rating is 3): ``applied_weighting`` says "centered" or
  "equal" for each engine. Engine weights of an admin definition are ignored (the kernel
  averages the engines' cosines).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

from config.exceptions import ValidationFailed
from recsys.algorithms import scoring
from recsys.algorithms.learned import (
    DEFAULT_LAMBDA,
    TUNED_LAMBDA,
    LearnedScores,
    learned_scores,
    painting_union,
)
from recsys.artefacts.reader import LoadedArtefact
from recsys.serving.recommenders import RecommenderConfig
from recsys.serving.results import Contribution, Recommendation, RecommendationResult


def engine_label(engines: Collection[str]) -> str:
    """The name explanations give the learned model: ``learned:minilm``, ``learned:lda+minilm``."""
    return "learned:" + "+".join(engines)


def _ignored(artefacts: Mapping[str, LoadedArtefact], ratings: Mapping[int, int]) -> dict[int, str]:
    """Rated pks that no engine represents -> every artefact's reason."""
    return {
        pk: "; ".join(art.missing_reason(pk) for art in artefacts.values())
        for pk in sorted(ratings)
        if not any(pk in art.row_of for art in artefacts.values())
    }


def _external_ids(artefacts: Mapping[str, LoadedArtefact], positions: np.ndarray) -> list[str]:
    """External ids of the union's paintings at ``positions`` (from the first engine having each)."""
    union = painting_union(artefacts)
    out = []
    for pos in positions.tolist():
        engine = next(e for e in artefacts if union.rows[e][pos] >= 0)
        out.append(artefacts[engine].external_ids[int(union.rows[engine][pos])])
    return out


def _explanations(
    fit: LearnedScores, positions: np.ndarray, ratings: Mapping[int, int], rated_external: list[str], top: int
) -> list[tuple[Contribution, ...]]:
    if top <= 0 or positions.size == 0:
        return [() for _ in range(positions.size)]
    kernel = fit.kernel_block(positions)
    contrib = kernel * fit.alpha[np.newaxis, :]
    best = scoring.top_contributors(contrib, top)  # ties: rated pk ascending (rated_pks is sorted)
    label = engine_label(fit.engines)
    return [
        tuple(
            Contribution(
                painting_id=int(fit.rated_pks[j]),
                external_id=rated_external[j],
                rating=int(ratings[int(fit.rated_pks[j])]),
                weight=float(fit.alpha[j]),
                similarity=float(kernel[i, j]),
                contribution=float(contrib[i, j]),
                engine=label,
            )
            for j in best[i]
        )
        for i in range(positions.size)
    ]


def learned_result(
    *,
    config: RecommenderConfig,
    artefacts: Mapping[str, LoadedArtefact],
    ratings: Mapping[int, int],
    n: int,
    weighting: str,
    allowed: np.ndarray | None,
    removed: Collection[int],
    explain: int,
    lam: float | None = None,
) -> RecommendationResult:
    """The ``n`` best paintings by the ridge prediction (see the module docstring).

    ``allowed`` (sorted pks) restricts the candidates, ``removed`` (rated and excluded pks) are
    never recommended. ``lam`` None: ``TUNED_LAMBDA`` when an artefact is a tuned space's view,
    else ``DEFAULT_LAMBDA``.
    """
    mine = {engine: artefacts[engine] for engine in config.engines}
    if lam is None:
        lam = TUNED_LAMBDA if any(art.manifest.get("tuned") for art in mine.values()) else DEFAULT_LAMBDA
    ignored = _ignored(mine, ratings)
    if len(ignored) == len(ratings):
        raise ValidationFailed(
            f"None of the rated paintings can be used by {config.name!r}: the {', '.join(mine)} "
            "artefact(s) do not contain them. Rate other paintings.",
            field="ratings",
            detail={"ignored_ratings": ignored},
        )
    lam = lam if config.ridge_lambda is None else config.ridge_lambda
    fit = learned_scores(artefacts=mine, ratings=ratings, lam=lam)
    ids = fit.painting_ids
    keep = ~np.isin(ids, np.fromiter(removed, dtype=np.int64, count=len(removed)))
    if allowed is not None:
        keep &= np.isin(ids, allowed)
    candidates = np.flatnonzero(keep)
    chosen = candidates[scoring.top_n(fit.scores[candidates], ids[candidates], n)]
    rated_positions = np.searchsorted(ids, fit.rated_pks)
    explanations = _explanations(fit, chosen, ratings, _external_ids(mine, rated_positions), explain)
    neutral = all(ratings[int(pk)] == scoring.RATING_MIDPOINT for pk in fit.rated_pks)
    scheme = scoring.EQUAL if neutral else scoring.CENTERED
    return RecommendationResult(
        recommender=config.name,
        kind=config.kind,
        mode=None,
        weighting=weighting,
        items=tuple(
            Recommendation(
                painting_id=int(ids[pos]),
                external_id=external_id,
                rank=rank,
                score=float(fit.scores[pos]),
                contributions=explanations[rank - 1],
                engine_ranks={},
            )
            for rank, (pos, external_id) in enumerate(
                zip(chosen.tolist(), _external_ids(mine, chosen), strict=True), start=1
            )
        ),
        versions={engine: art.version for engine, art in mine.items()},
        ignored_ratings=ignored,
        applied_weighting=dict.fromkeys(mine, scheme),
    )
