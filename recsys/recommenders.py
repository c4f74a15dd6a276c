"""The recommenders users choose from, built from ``settings.RECSYS_RECOMMENDERS``.

An engine (``settings.RECSYS_ENGINES``) is a representation with an artefact; a recommender is
what answers a request, in one of three kinds:

* ``single``: eq. 1 on one unimodal engine (``{"KIND": "single", "ENGINE": "lda"}``);
* ``early``: eq. 1 on one joint image-text engine, i.e. early fusion (``"ENGINE": "clip"``);
* ``late``: reciprocal rank fusion of several engines' eq.-1 rankings
  (``{"KIND": "late", "MODE": "partial" | "total", "ENGINES": {"lda": 1.0, "resnet": 1.0},
  "RRF_K": 60, "R": 20}``; ``R``, the length of each engine's list in partial mode, defaults
  to the number of recommendations asked for);
* ``learned``: kernel ridge regression on the visitor's own ratings over the concatenated unit
  embeddings of its engines (``{"KIND": "learned", "ENGINES": ["minilm"]}``; ``recsys.learned``).

Any kind may set ``"MMR_LAMBDA"`` (0 < lambda <= 1): MMR re-ranking unless the request gives its
own (``recsys.recommend_mmr``), and ``"TUNED": True``: score in the tuned space of its engines
(``recsys.serving.tuned``) while one is active, else in the untuned one.

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

import math
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from config.exceptions import UnknownEngine
from recsys.fusion import DEFAULT_K
from recsys.itm import SCORES as ITM_SCORES
from recsys.scoring import WEIGHTINGS

SINGLE, EARLY, LATE = "single", "early", "late"
LEARNED = "learned"  # kernel ridge on the visitor's ratings (recsys.learned, recsys.recommend_learned)
KINDS = (SINGLE, EARLY, LATE, LEARNED)
PARTIAL, TOTAL = "partial", "total"
MODES = (PARTIAL, TOTAL)

_KEYS = {
    SINGLE: {"KIND", "ENGINE", "MMR_LAMBDA", "TUNED"},
    EARLY: {"KIND", "ENGINE", "MMR_LAMBDA", "TUNED"},
    LATE: {"KIND", "MODE", "ENGINES", "RRF_K", "R", "MMR_LAMBDA", "TUNED"},
    LEARNED: {"KIND", "ENGINES", "MMR_LAMBDA", "TUNED"},
}


@dataclass(frozen=True, slots=True)
class RecommenderConfig:
    name: str
    kind: str  # SINGLE, EARLY, LATE or LEARNED
    engines: dict[str, float] = field(hash=False)  # engine -> RRF weight (one engine, 1.0, unless late)
    mode: str | None = None  # PARTIAL or TOTAL for late fusion
    rrf_k: int = DEFAULT_K
    depth: int | None = None  # "R": each engine's list length in partial mode; None = n
    weighting: str | None = None  # None: the request's or RECSYS_WEIGHTING
    mmr_lambda: float | None = None  # MMR re-ranking trade-off (None: no re-ranking)
    source: str = "settings"  # "settings" or "admin" (experiments.RecommenderDefinition)
    tuned: bool = False  # score in the tuned space while one is active (recsys.serving.tuned)

    @property
    def is_late(self) -> bool:
        return self.kind == LATE


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


def _positive_int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(f"{where} must be a positive whole number, got {value!r}.")
    return value


def _mmr_lambda(entry: dict, where: str) -> float | None:
    value = entry.get("MMR_LAMBDA")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value <= 1.0:
        raise ImproperlyConfigured(f"{where}['MMR_LAMBDA'] must be a number in (0, 1], got {value!r}.")
    return float(value)


def _learned(name: str, entry: dict, where: str) -> RecommenderConfig:
    engines = entry.get("ENGINES")
    if isinstance(engines, str) or not isinstance(engines, list | tuple) or not engines:
        raise ImproperlyConfigured(f"{where}['ENGINES'] must be a non-empty list of engine names.")
    for engine in engines:
        if engine not in settings.RECSYS_ENGINES:
            raise ImproperlyConfigured(
                f"{where}['ENGINES'] names {engine!r}, which is not in RECSYS_ENGINES."
            )
    return RecommenderConfig(name=name, kind=LEARNED, engines=dict.fromkeys(engines, 1.0))


def _build(name: str, entry: object) -> RecommenderConfig:
    config = _build_kind(name, entry)  # a dict when it returns
    mmr_lambda = _mmr_lambda(entry, f"RECSYS_RECOMMENDERS[{name!r}]")  # type: ignore[arg-type]
    tuned = entry.get("TUNED", False)  # type: ignore[union-attr]
    if not isinstance(tuned, bool):
        raise ImproperlyConfigured(
            f"RECSYS_RECOMMENDERS[{name!r}]['TUNED'] must be True or False, got {tuned!r}."
        )
    return replace(config, mmr_lambda=mmr_lambda, tuned=tuned)


def _build_kind(name: str, entry: object) -> RecommenderConfig:
    where = f"RECSYS_RECOMMENDERS[{name!r}]"
    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"{where} must be a dict.")
    kind = entry.get("KIND")
    if kind not in KINDS:
        raise ImproperlyConfigured(f"{where}['KIND'] must be one of {', '.join(KINDS)}, got {kind!r}.")
    unknown = set(entry) - _KEYS[kind]
    if unknown:
        raise ImproperlyConfigured(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} for a {kind!r} recommender "
            f"(allowed: {', '.join(sorted(_KEYS[kind]))})."
        )
    if kind == LEARNED:
        return _learned(name, entry, where)
    known_engines = settings.RECSYS_ENGINES
    if kind != LATE:
        engine = entry.get("ENGINE")
        if engine not in known_engines:
            raise ImproperlyConfigured(f"{where}['ENGINE'] {engine!r} is not in RECSYS_ENGINES.")
        return RecommenderConfig(name=name, kind=kind, engines={engine: 1.0})

    mode = entry.get("MODE")
    if mode not in MODES:
        raise ImproperlyConfigured(f"{where}['MODE'] must be one of {', '.join(MODES)}, got {mode!r}.")
    engines = entry.get("ENGINES")
    if not isinstance(engines, dict) or not engines:
        raise ImproperlyConfigured(f"{where}['ENGINES'] must be a non-empty dict engine -> weight.")
    weights: dict[str, float] = {}
    for engine, weight in engines.items():
        if engine not in known_engines:
            raise ImproperlyConfigured(
                f"{where}['ENGINES'] names {engine!r}, which is not in RECSYS_ENGINES."
            )
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
            raise ImproperlyConfigured(f"{where}['ENGINES'][{engine!r}] must be a number, got {weight!r}.")
        if weight <= 0:
            raise ImproperlyConfigured(f"{where}['ENGINES'][{engine!r}] must be positive, got {weight!r}.")
        weights[engine] = float(weight)
    rrf_k = entry.get("RRF_K", DEFAULT_K)
    if isinstance(rrf_k, bool) or not isinstance(rrf_k, int) or rrf_k < 0:
        raise ImproperlyConfigured(f"{where}['RRF_K'] must be a non-negative whole number, got {rrf_k!r}.")
    depth = entry.get("R")
    if depth is not None:
        depth = _positive_int(depth, f"{where}['R']")
    return RecommenderConfig(name=name, kind=kind, engines=weights, mode=mode, rrf_k=rrf_k, depth=depth)


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


def preferred_recommender(ready_engines: Collection[str]) -> str:
    """The default given which engines have an active artefact: the first recommender of
    ``RECSYS_DEFAULT_RECOMMENDERS`` whose engines are all ready, else the first configured one
    whose engines are (settings order), else the first preference (not ready: its 503 says why)."""
    registry = _settings_recommenders()
    ready = set(ready_engines)
    preferences = [registry[name] for name in settings.RECSYS_DEFAULT_RECOMMENDERS]
    for config in (*preferences, *registry.values()):
        if ready.issuperset(config.engines):
            return config.name
    return preferences[0].name


def default_recommender_name() -> str:
    """The recommender a request that names none gets (``preferred_recommender``), from the
    engines that have an active artefact now: one indexed query, no model or file opened."""
    from recsys.selectors import ready_engines  # the selectors import this module

    return preferred_recommender(ready_engines())


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
