"""One recommender definition: the typed schema and the ONE function that validates it.

A recommender is defined in three places: the settings (``RECSYS_RECOMMENDERS``, read by
``recsys.serving.recommenders``), the admin (``experiments.RecommenderDefinition``, read by
``experiments.definitions``) and, for the offline evaluation, in code
(``recsys.evaluation.recommenders``). Each only translates its own spelling into the plain
fields below and calls ``parse_definition``; the API's request options (``mmr_lambda``) and the
web's choices read the same rules (``check_mmr_lambda``, ``RecommenderConfig.single_engine``).
So all of them accept and refuse the same definitions, and a new kind or option is added here,
once (``KIND_FIELDS`` and ``parse_definition``).

The fields (``None``: not given):

* ``kind``: ``single`` (eq. 1 on one unimodal engine), ``early`` (eq. 1 on one joint engine),
  ``late`` (reciprocal rank fusion of several engines' rankings), ``learned`` (kernel ridge on
  the visitor's ratings, ``recsys.algorithms.learned``), ``score`` (weighted fusion of the engines' eq.-1
  scores, S = beta S_image + (1 - beta) S_text, a painting lacking one modality scored by the
  other alone: ``recsys.algorithms.score_fusion``);
* ``engines``: engine -> positive weight (a list of names, or one name, means weight 1 each);
  single and early take exactly one engine, score fusion at least two; the weights are RRF
  weights for late fusion, the fusion weights for score fusion (``{"dinov2": beta, "xlmr":
  1 - beta}``; only their ratios matter) and ignored by the learned kind;
* ``mode`` (late only, required): ``partial`` or ``total``; ``rrf_k`` (late only, a whole
  number >= 0, default 60; the default value is accepted on any kind, as the admin form always
  sends it); ``depth`` ("R", late only, a whole number >= 1: each engine's list in partial mode);
* ``weighting``: ``centered`` or ``minmax`` (None: the request's or ``RECSYS_WEIGHTING``);
* ``mmr_lambda``: 0 < lambda <= 1, MMR re-ranking unless the request gives its own;
* ``ridge_lambda`` (learned only): the ridge regularisation, a number > 0 (None: the default
  the offline evaluation chose, ``recsys.algorithms.learned.DEFAULT_LAMBDA``).

Errors are ``DefinitionError`` naming the field; each caller words it its own way
(``ImproperlyConfigured`` for the settings, a form error for the admin, a 400 for the API).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from recsys.algorithms.fusion import DEFAULT_K
from recsys.algorithms.scoring import WEIGHTINGS

SINGLE, EARLY, LATE = "single", "early", "late"
LEARNED = "learned"  # kernel ridge on the visitor's ratings (algorithms.learned, serving.recommend_learned)
SCORE = "score"  # weighted score fusion, a missing modality renormalised (recsys.algorithms.score_fusion)
KINDS = (SINGLE, EARLY, LATE, LEARNED, SCORE)
PARTIAL, TOTAL = "partial", "total"
MODES = (PARTIAL, TOTAL)
#: the kinds that are eq. 1 on one engine: "the recommender of that engine"
SINGLE_ENGINE_KINDS = (SINGLE, EARLY)

#: the fields every kind accepts
COMMON_FIELDS = frozenset({"kind", "engines", "weighting", "mmr_lambda", "tuned"})
#: the further fields each kind accepts
KIND_FIELDS: dict[str, frozenset[str]] = {
    SINGLE: frozenset(),
    EARLY: frozenset(),
    LATE: frozenset({"mode", "rrf_k", "depth"}),
    LEARNED: frozenset({"ridge_lambda"}),
    SCORE: frozenset(),
}
#: every field of a definition
FIELDS = COMMON_FIELDS.union(*KIND_FIELDS.values())
#: engines a kind takes: (fewest, most or None)
ENGINE_COUNTS: dict[str, tuple[int, int | None]] = {
    SINGLE: (1, 1),
    EARLY: (1, 1),
    LATE: (1, None),
    LEARNED: (1, None),
    SCORE: (2, None),
}
_COUNT_WORDS = {1: "one", 2: "two"}
KIND_LABELS = {
    SINGLE: "a single-engine",
    EARLY: "an early-fusion",
    LATE: "a late-fusion",
    LEARNED: "a learned",
    SCORE: "a score-fusion",
}


@dataclass(frozen=True, slots=True)
class RecommenderConfig:
    """A validated recommender definition (build one with ``parse_definition``)."""

    name: str
    kind: str  # one of KINDS
    engines: dict[str, float] = field(hash=False)  # engine -> weight (1.0 each unless late)
    mode: str | None = None  # PARTIAL or TOTAL for late fusion
    rrf_k: int = DEFAULT_K
    depth: int | None = None  # "R": each engine's list length in partial mode; None = n
    weighting: str | None = None  # None: the request's or RECSYS_WEIGHTING
    mmr_lambda: float | None = None  # MMR re-ranking trade-off (None: no re-ranking)
    ridge_lambda: float | None = None  # learned: ridge regularisation (None: the default)
    source: str = "settings"  # "settings", "admin" (experiments.RecommenderDefinition) or "evaluation"
    tuned: bool = False  # score in the tuned space while one is active (recsys.serving.tuned)

    @property
    def is_late(self) -> bool:
        return self.kind == LATE

    @property
    def single_engine(self) -> bool:
        """Whether it is eq. 1 on one engine (single or early): "the recommender of that engine"."""
        return self.kind in SINGLE_ENGINE_KINDS


class DefinitionError(ValueError):
    """A definition that does not validate: ``field`` (one of ``FIELDS``) and why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _is_whole(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int)


def check_mmr_lambda(value: object) -> float:
    """The MMR trade-off as a float, 0 < lambda <= 1 (1 = relevance only); ``DefinitionError``
    otherwise. Recommender definitions and the API's ``mmr_lambda`` option both use it."""
    if not _is_number(value):
        raise DefinitionError("mmr_lambda", f"must be a number, got {value!r}.")
    if not 0.0 < value <= 1.0:  # type: ignore[operator]
        raise DefinitionError(
            "mmr_lambda", f"must be greater than 0 and at most 1 (1 = no re-ranking), got {value!r}."
        )
    return float(value)  # type: ignore[arg-type]


def _engine_weights(kind: str, value: object, known: Collection[str]) -> dict[str, float]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        if not all(isinstance(name, str) for name in value):
            raise DefinitionError("engines", f"must name engines, got {value!r}.")
        value = dict.fromkeys(value, 1.0)
    if not isinstance(value, Mapping) or not value:
        raise DefinitionError(
            "engines", 'give a non-empty engine -> weight, e.g. {"lda": 1.0}, or a list of engines.'
        )
    weights: dict[str, float] = {}
    for engine, weight in value.items():
        if engine not in known:
            raise DefinitionError("engines", f"{engine!r} is not an engine (choose from {', '.join(known)}).")
        if not _is_number(weight) or weight <= 0:
            raise DefinitionError(
                "engines", f"the weight of {engine!r} must be a positive number, got {weight!r}."
            )
        weights[str(engine)] = float(weight)
    fewest, most = ENGINE_COUNTS[kind]
    if len(weights) < fewest or (most is not None and len(weights) > most):
        count = _COUNT_WORDS.get(fewest, str(fewest))
        wanted = f"exactly {count} engine" if fewest == most else f"at least {count} engines"
        raise DefinitionError("engines", f"{KIND_LABELS[kind]} recommender uses {wanted}.")
    return weights


def parse_definition(
    name: str, fields: Mapping[str, object], *, engines: Collection[str], source: str = "settings"
) -> RecommenderConfig:
    """The definition ``fields`` (plain names, ``FIELDS``; None = not given) of the recommender
    ``name`` as a ``RecommenderConfig``, its engines among ``engines`` (``RECSYS_ENGINES``);
    ``DefinitionError`` naming the first field that is wrong."""
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        known = ", ".join(sorted(FIELDS))
        raise DefinitionError(unknown[0], f"is not a field of a recommender (fields: {known}).")
    kind = fields.get("kind")
    if kind not in KINDS:
        raise DefinitionError("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}.")
    given = {key for key, value in fields.items() if value is not None and value != "" and value is not False}
    if fields.get("rrf_k") == DEFAULT_K:
        given.discard("rrf_k")  # the default is no option (the admin form always sends it)
    extra = sorted(given - COMMON_FIELDS - KIND_FIELDS[kind])
    if extra:
        raise DefinitionError(extra[0], f"is not an option of {KIND_LABELS[kind]} recommender.")
    weights = _engine_weights(kind, fields.get("engines"), engines)

    mode = fields.get("mode") or None
    if kind == LATE and mode not in MODES:
        raise DefinitionError("mode", f"late fusion needs a mode, one of {', '.join(MODES)}; got {mode!r}.")
    rrf_k = fields.get("rrf_k")
    rrf_k = DEFAULT_K if rrf_k is None else rrf_k
    if not _is_whole(rrf_k) or rrf_k < 0:  # type: ignore[operator]
        raise DefinitionError("rrf_k", f"must be a whole number >= 0, got {rrf_k!r}.")
    depth = fields.get("depth")
    if depth is not None and (not _is_whole(depth) or depth < 1):  # type: ignore[operator]
        raise DefinitionError("depth", f"R must be a positive whole number, got {depth!r}.")
    weighting = fields.get("weighting") or None
    if weighting is not None and weighting not in WEIGHTINGS:
        raise DefinitionError("weighting", f"must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}.")
    mmr_lambda = fields.get("mmr_lambda")
    if mmr_lambda is not None:
        mmr_lambda = check_mmr_lambda(mmr_lambda)
    ridge_lambda = fields.get("ridge_lambda")
    if ridge_lambda is not None:
        if not _is_number(ridge_lambda) or ridge_lambda <= 0:  # type: ignore[operator]
            raise DefinitionError("ridge_lambda", f"must be a number > 0, got {ridge_lambda!r}.")
        ridge_lambda = float(ridge_lambda)  # type: ignore[arg-type]
    tuned = fields.get("tuned")
    if tuned is not None and not isinstance(tuned, bool):
        raise DefinitionError("tuned", f"must be true or false, got {tuned!r}.")
    return RecommenderConfig(
        name=name,
        kind=kind,
        engines=weights,
        mode=mode,
        rrf_k=int(rrf_k),  # type: ignore[call-overload]
        depth=depth,  # type: ignore[arg-type]
        weighting=weighting,  # type: ignore[arg-type]
        mmr_lambda=mmr_lambda,
        ridge_lambda=ridge_lambda,
        source=source,
        tuned=bool(tuned),
    )
