"""The recommenders users choose from, built from ``settings.RECSYS_RECOMMENDERS``.

An engine (``settings.RECSYS_ENGINES``) is a representation with an artefact; a recommender is
what answers a request. Its definition (kinds, engines and weights, options) is the one schema of
``recsys.serving.definitions``; a settings entry spells its fields in capitals:

* ``single``: eq. 1 on one unimodal engine (``{"KIND": "single", "ENGINE": "lda"}``);
* ``early``: eq. 1 on one joint image-text engine, i.e. early fusion (``"ENGINE": "clip"``);
* ``late``: reciprocal rank fusion of several engines' eq.-1 rankings
  (``{"KIND": "late", "MODE": "partial" | "total", "ENGINES": {"lda": 1.0, "resnet": 1.0},
  "RRF_K": 60, "R": 20}``; ``R``, the length of each engine's list in partial mode, defaults
  to the number of recommendations asked for);
* ``learned``: kernel ridge regression on the visitor's own ratings over the concatenated unit
  embeddings of its engines (``{"KIND": "learned", "ENGINES": ["minilm"], "LAMBDA": 1.0}``;
  ``recsys.algorithms.learned``);
* ``score``: weighted fusion of the engines' eq.-1 scores, a painting lacking one modality scored
  by the other alone (``{"KIND": "score", "ENGINES": {"dinov2": 0.4, "xlmr": 0.6}}``: beta = 0.4
  on the image engine; ``recsys.serving.recommend_score``).

Any kind may set ``"MMR_LAMBDA"`` (0 < lambda <= 1): MMR re-ranking unless the request gives its
own (``recsys.serving.recommend_mmr``), ``"WEIGHTING"`` (``demote``, ``centered`` or ``minmax``),
and ``"TUNED": True``: score in the tuned space of its engines (``recsys.serving.tuned``) while
one is active, else in the untuned one.

The recommender a request gets when it names none is the first *ready* one (every engine has an
active artefact) of the preference list ``settings.RECSYS_DEFAULT_RECOMMENDERS`` (e.g.
``["late-total", "late-text", "minilm", "lda"]``), else the first ready one of all, so a request
that names no recommender is never refused while any recommender could answer it; with nothing
ready it is the first preference, whose 503 says what is missing (``default_recommender_name``).

Other apps may add recommenders through ``register_provider`` (the experiments app serves the
ones defined in the admin, ``experiments.definitions``): ``recommenders()`` lists them after the
settings ones, ``get_recommender`` finds them by name; a settings name always wins. What the
providers give is kept per process for ``PROVIDED_TTL`` seconds (one query per process per TTL,
none per request); ``forget_provided_recommenders()`` drops it, which saving or deleting a
definition does (``experiments.signals``) at once in its process; others follow within the TTL.

The configuration is validated on first use (a typo fails loudly with ``ImproperlyConfigured``
naming the entry, not later as a 500 on some request) and cached until a setting changes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from config.exceptions import UnknownEngine
from recsys.algorithms.itm import SCORES as ITM_SCORES
from recsys.algorithms.scoring import WEIGHTINGS
from recsys.serving import active
from recsys.serving.definitions import (  # noqa: F401  (the kinds and modes are imported from here)
    EARLY,
    KINDS,
    LATE,
    LEARNED,
    MODES,
    PARTIAL,
    SCORE,
    SINGLE,
    TOTAL,
    DefinitionError,
    RecommenderConfig,
    parse_definition,
)

#: a settings entry's keys -> the definition's fields (``recsys.serving.definitions``)
SETTINGS_KEYS = {
    "KIND": "kind",
    "ENGINE": "engines",
    "ENGINES": "engines",
    "MODE": "mode",
    "RRF_K": "rrf_k",
    "R": "depth",
    "WEIGHTING": "weighting",
    "MMR_LAMBDA": "mmr_lambda",
    "LAMBDA": "ridge_lambda",
    "TUNED": "tuned",
}
_FIELD_KEYS = {
    "kind": "KIND",
    "mode": "MODE",
    "rrf_k": "RRF_K",
    "depth": "R",
    "weighting": "WEIGHTING",
    "mmr_lambda": "MMR_LAMBDA",
    "ridge_lambda": "LAMBDA",
    "tuned": "TUNED",
}


_lock = threading.Lock()
_registry: dict[str, RecommenderConfig] | None = None
#: callables returning further recommenders by name (read on every call: they may change at runtime)
_providers: list[Callable[[], dict[str, RecommenderConfig]]] = []


#: the longest a process trusts its memo of the providers' recommenders (seconds)
PROVIDED_TTL = 10.0
#: (the providers' recommenders, valid until as a monotonic time) or None (unknown)
_provided_memo: tuple[dict[str, RecommenderConfig], float] | None = None


def register_provider(provider: Callable[[], dict[str, RecommenderConfig]]) -> None:
    """Add a source of recommenders besides the settings (once per provider)."""
    if provider not in _providers:
        _providers.append(provider)
    forget_provided_recommenders()


def forget_provided_recommenders() -> None:
    """Drop this process's memo of the providers' recommenders (a definition changed)."""
    global _provided_memo
    _provided_memo = None


def _provided(registry: dict[str, RecommenderConfig]) -> dict[str, RecommenderConfig]:
    """The providers' recommenders whose names the settings do not use (memo: ``PROVIDED_TTL``)."""
    global _provided_memo
    memo = _provided_memo
    now = time.monotonic()
    if memo is None or now >= memo[1]:
        everything: dict[str, RecommenderConfig] = {}
        for provider in _providers:
            for name, config in provider().items():
                everything.setdefault(name, config)
        memo = _provided_memo = (everything, now + PROVIDED_TTL)
    return {name: config for name, config in memo[0].items() if name not in registry}


def _build(name: str, entry: object) -> RecommenderConfig:
    """One ``RECSYS_RECOMMENDERS`` entry through ``parse_definition``; ``ImproperlyConfigured``
    naming the entry and its key."""
    where = f"RECSYS_RECOMMENDERS[{name!r}]"
    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"{where} must be a dict.")
    unknown = sorted(set(entry) - set(SETTINGS_KEYS))
    if unknown:
        raise ImproperlyConfigured(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(SETTINGS_KEYS)})."
        )
    if "ENGINE" in entry and "ENGINES" in entry:
        raise ImproperlyConfigured(f"{where}: give ENGINE (one engine) or ENGINES, not both.")
    if isinstance(entry.get("ENGINES"), str):
        raise ImproperlyConfigured(f"{where}['ENGINES'] must be a list of engines or engine -> weight.")
    fields = {SETTINGS_KEYS[key]: value for key, value in entry.items()}
    try:
        return parse_definition(name, fields, engines=list(settings.RECSYS_ENGINES))
    except DefinitionError as exc:
        one = "ENGINE" in entry or ("ENGINES" not in entry and entry.get("KIND") in (SINGLE, EARLY))
        key = _FIELD_KEYS.get(exc.field) or ("ENGINE" if one else "ENGINES")
        raise ImproperlyConfigured(f"{where}[{key!r}] {exc.message}") from None


def _validated() -> dict[str, RecommenderConfig]:
    configured = settings.RECSYS_RECOMMENDERS
    if not isinstance(configured, dict) or not configured:
        raise ImproperlyConfigured("RECSYS_RECOMMENDERS must be a non-empty dict name -> recommender.")
    registry = {str(name): _build(str(name), entry) for name, entry in configured.items()}
    preferences = settings.RECSYS_DEFAULT_RECOMMENDERS
    if isinstance(preferences, str) or not isinstance(preferences, list | tuple) or not preferences:
        raise ImproperlyConfigured(
            "RECSYS_DEFAULT_RECOMMENDERS must be a non-empty list of recommender names."
        )
    unknown = [name for name in preferences if name not in registry]
    if unknown:
        raise ImproperlyConfigured(
            f"RECSYS_DEFAULT_RECOMMENDERS names {', '.join(map(repr, unknown))}, not in "
            f"RECSYS_RECOMMENDERS ({', '.join(registry)})."
        )
    if settings.RECSYS_BLIP_SCORE not in ITM_SCORES:
        raise ImproperlyConfigured(
            f"RECSYS_BLIP_SCORE must be one of {', '.join(ITM_SCORES)}, got {settings.RECSYS_BLIP_SCORE!r}."
        )
    if settings.RECSYS_WEIGHTING not in WEIGHTINGS:
        raise ImproperlyConfigured(
            f"RECSYS_WEIGHTING must be one of {', '.join(WEIGHTINGS)}, got {settings.RECSYS_WEIGHTING!r}."
        )
    return registry


def _settings_recommenders() -> dict[str, RecommenderConfig]:
    global _registry
    registry = _registry
    if registry is None:
        with _lock:
            if _registry is None:
                _registry = _validated()
            registry = _registry
    return registry


def settings_recommenders() -> dict[str, RecommenderConfig]:
    """The recommenders of ``RECSYS_RECOMMENDERS`` alone (no database read: benchmarks)."""
    return dict(_settings_recommenders())


def recommenders() -> dict[str, RecommenderConfig]:
    """Every recommender by name: settings order (validated once, then cached), then the
    providers' (e.g. defined in the admin)."""
    registry = _settings_recommenders()
    if not _providers:
        return registry
    return {**registry, **_provided(registry)}


def decision() -> dict[str, Any]:
    """What ``manage.py evaluate --decide`` wrote to ``RECSYS_DEFAULT_DECISION_PATH`` ({} when
    off or absent); the small file is read again only when its modification time changes."""
    global _decision_memo
    path = settings.RECSYS_DEFAULT_DECISION_PATH
    if not path:
        return {}
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return {}
    memo = _decision_memo
    if memo is None or memo[0] != (path, mtime):
        memo = _decision_memo = ((path, mtime), read_decision(Path(path)))
    return memo[1]


def read_decision(path: Path | None) -> dict[str, Any]:
    """The decision file: ``{"default": recommender, "elicitation": strategy, ...}`` ({} when
    missing or unreadable)."""
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def decided_recommender() -> str | None:
    """The default recommender the evaluation decided, or None."""
    name = decision().get("default")
    return name if isinstance(name, str) else None


_decision_memo: tuple[tuple[str, int], dict[str, Any]] | None = None


def preferred_recommender(ready_engines: Collection[str]) -> str:
    """The default given which engines have an active artefact: the evaluation's decided
    recommender (``decided_recommender``) when its engines are ready, else the first recommender
    of ``RECSYS_DEFAULT_RECOMMENDERS`` whose engines are all ready, else the first configured one
    whose engines are (settings order), else the first preference (not ready: its 503 says why)."""
    registry = _settings_recommenders()
    ready = set(ready_engines)
    preferences = [registry[name] for name in settings.RECSYS_DEFAULT_RECOMMENDERS]
    decided = decided_recommender()
    if decided in registry:
        preferences.insert(0, registry[decided])
    for config in (*preferences, *registry.values()):
        if ready.issuperset(config.engines):
            return config.name
    return preferences[0].name


def default_recommender_name() -> str:
    """The recommender a request that names none gets (``preferred_recommender``), from the
    engines that have an active artefact now: one indexed query, no model or file opened."""
    return preferred_recommender(active.ready_engines())


def get_recommender(name: str | None = None) -> RecommenderConfig:
    """The recommender called ``name`` (None: the first ready default); unknown -> ``UnknownEngine``."""
    registry = _settings_recommenders()
    if name is None:
        name = default_recommender_name()
    if isinstance(name, str) and name in registry:
        return registry[name]
    registry = recommenders()  # the providers are read only for a name the settings lack
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise UnknownEngine(
            f"Unknown recommender {name!r}; choose one of {', '.join(registry)}.",
            field="recommender",
            detail={"choices": list(registry)},
        ) from None


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs: object) -> None:
    """Tests (and override_settings) may change the configuration: rebuild on next use."""
    global _registry
    if setting in {
        "RECSYS_RECOMMENDERS",
        "RECSYS_DEFAULT_RECOMMENDERS",
        "RECSYS_ENGINES",
        "RECSYS_WEIGHTING",
        "RECSYS_BLIP_SCORE",
    }:
        with _lock:
            _registry = None
        forget_provided_recommenders()
