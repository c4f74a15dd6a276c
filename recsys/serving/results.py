"""What the recommendation service answers: ranked paintings with scores and explanations.

Shared by every kind of recommender (``recsys.serving.recommend`` for eq. 1 and late fusion,
``recsys.serving.recommend_learned`` for the learned one) and by the MMR re-ranking
(``recsys.serving.recommend_mmr``); ``recsys.serving.recommend`` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Contribution:
    painting_id: int  # pk of the rated painting
    external_id: str
    rating: int
    weight: float  # w_j (learned: the ridge coefficient alpha_j)
    similarity: float  # A_ij (learned: the kernel K_ij, the mean cosine over its engines)
    contribution: float  # w_j * A_ij / n (learned: alpha_j * K_ij)
    engine: str  # the engine whose A and n these are ("learned:<engines>" for the learned kind)


@dataclass(frozen=True, slots=True)
class Recommendation:
    painting_id: int  # pk
    external_id: str
    rank: int  # 1-based
    # eq. 1 score (single/early), RRF score (late), ridge prediction (learned), fused score (score)
    score: float
    # top |contribution| first; for late fusion from the engine that ranked the item best
    contributions: tuple[Contribution, ...]
    # late fusion: each engine's 1-based rank (None = not in that engine's list); {} otherwise
    engine_ranks: dict[str, int | None]


@dataclass(frozen=True, slots=True)
class RecommendationResult:
    recommender: str
    kind: str  # one of recsys.serving.definitions.KINDS
    mode: str | None  # "partial" | "total" for late
    weighting: str  # as requested (or the RECSYS_WEIGHTING default)
    items: tuple[Recommendation, ...]
    versions: dict[str, str]  # engine -> artefact version used
    ignored_ratings: dict[int, str]  # rated painting pk -> reason
    # engine -> weighting actually applied ("centered", "minmax" or "equal": see recsys.algorithms.scoring)
    applied_weighting: dict[str, str]
    depth: int | None = None  # each engine's list length (late, partial mode)
    mmr_lambda: float | None = None  # the MMR trade-off applied (None: the recommender's order)
