"""Recommenders defined in the admin (``RecommenderDefinition``) as ``RecommenderConfig``s.

``experiments.recommenders.admin_recommenders`` is registered with
``recsys.serving.recommenders.register_provider`` (see ``ExperimentsConfig.ready``);
``recsys.serving.recommenders`` keeps its answer per process for ``PROVIDED_TTL`` seconds, so a
definition saved in the admin is served at once by the saving process and within that time by
every other; a settings name always wins over an admin one (the admin refuses such names). A
stored definition that no longer validates (an engine removed from ``RECSYS_ENGINES``) is left
out and logged (``experiments.recommenders``), never a 500.

The learned kind and the MMR lambda are stored and handed on in the config (``kind="learned"``,
``mmr_lambda``); scoring them is the learned/diversity work's (recsys/algorithms/learned.py,
recsys/algorithms/diversity.py).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ValidationError

from recsys.algorithms.scoring import WEIGHTINGS
from recsys.serving.recommenders import EARLY, LATE, LEARNED, SINGLE, RecommenderConfig


def _engine_weights(engines: object) -> dict[str, float]:
    if not isinstance(engines, dict) or not engines:
        raise ValidationError({"engines": 'Give a non-empty object engine -> weight, e.g. {"lda": 1.0}.'})
    weights: dict[str, float] = {}
    for engine, weight in engines.items():
        if engine not in settings.RECSYS_ENGINES:
            known = ", ".join(settings.RECSYS_ENGINES)
            raise ValidationError({"engines": f"{engine!r} is not an engine (choose from {known})."})
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or weight <= 0
        ):
            raise ValidationError(
                {"engines": f"The weight of {engine!r} must be a positive number, got {weight!r}."}
            )
        weights[engine] = float(weight)
    return weights


def to_config(definition) -> RecommenderConfig:
    """The definition as a ``RecommenderConfig``; ``ValidationError`` (field named) when invalid."""
    kind = definition.kind
    if kind not in (SINGLE, EARLY, LATE, LEARNED):
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    weights = _engine_weights(definition.engines)
    if kind in (SINGLE, EARLY) and len(weights) != 1:
        raise ValidationError({"engines": f"A {kind} recommender uses exactly one engine."})
    mode = definition.mode or None
    if kind == LATE and mode is None:
        raise ValidationError({"mode": "Late fusion needs a mode: partial or total."})
    if kind != LATE and mode is not None:
        raise ValidationError({"mode": "Only late fusion has a mode."})
    if definition.weighting and definition.weighting not in WEIGHTINGS:
        raise ValidationError({"weighting": f"Choose one of {', '.join(WEIGHTINGS)}."})
    if definition.mmr_lambda is not None and not 0.0 <= definition.mmr_lambda <= 1.0:
        raise ValidationError({"mmr_lambda": "MMR lambda lies between 0 and 1."})
    if definition.depth is not None and definition.depth < 1:
        raise ValidationError({"depth": "R must be a positive whole number."})
    return RecommenderConfig(
        name=definition.name,
        kind=kind,
        engines=weights,
        mode=mode,
        rrf_k=int(definition.rrf_k),
        depth=definition.depth if kind == LATE else None,
        weighting=definition.weighting or None,
        mmr_lambda=definition.mmr_lambda,
        source="admin",
    )


def validate_definition(definition) -> None:
    """Model ``clean``: a valid config whose name the settings do not already use."""
    if definition.name in settings.RECSYS_RECOMMENDERS:
        raise ValidationError(
            {"name": f"{definition.name!r} is a recommender of the settings; choose another name."}
        )
    to_config(definition)
