"""The paper's model of each question: a linear mixed-effects model with the arm as fixed effect
and the participant as random intercept (statsmodels ``MixedLM``, REML),

    y_pj = beta_0 + beta_arm(j) + u_p + e_pj,   u_p ~ N(0, tau^2),  e_pj ~ N(0, sigma^2),

with beta of the first (reference) arm fixed at 0. Pairwise contrasts between arms a and b:

    d = beta_b - beta_a,  SE = sqrt(Var beta_a + Var beta_b - 2 Cov(beta_a, beta_b)),
    z = d / SE,  p two-sided normal,  Holm-corrected over all pairs,  r = z / sqrt(N)

(N = observations in the model). For a complete balanced design (every participant answers
every arm once) the estimates are the differences of the arm means and, when tau^2 > 0, sigma^2
is the two-way ANOVA residual mean square and SE = sqrt(2 sigma^2 / participants): the tests
check exactly that.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from experiments.stats import effect_size_r, holm, normal_p


@dataclass(frozen=True, slots=True)
class Contrast:
    a: str
    b: str
    difference: float  # mean of b minus mean of a, adjusted for participants
    se: float
    z: float
    p: float
    p_holm: float
    r: float


@dataclass(frozen=True, slots=True)
class MixedResult:
    reference: str
    effects: dict[str, float]  # arm -> beta (reference 0)
    intercept: float
    group_variance: float  # tau^2
    residual_variance: float  # sigma^2
    n_observations: int
    n_participants: int
    contrasts: list[Contrast]
    converged: bool


class ModelError(ValueError):
    """Too little data for the model (fewer than two arms, one observation per participant...)."""


def fit_mixed(
    *, scores: Sequence[float], arms: Sequence[str], participants: Sequence[str], order: Sequence[str]
) -> MixedResult:
    """Fit the model to one question's answers; ``order`` lists the arms, the first is the reference."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    y = np.asarray(scores, dtype=np.float64)
    present = [arm for arm in order if arm in set(arms)]
    if len(present) < 2:
        raise ModelError("answers for at least two arms are needed")
    groups = np.asarray(participants)
    if len(set(participants)) < 2 or len(set(participants)) == y.size:
        raise ModelError("the participant effect needs several participants with more than one answer")
    reference, others = present[0], present[1:]
    exog = np.column_stack([np.ones(y.size)] + [np.asarray(arms) == arm for arm in others]).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; ``converged`` reports it
        fit = MixedLM(y, exog, groups=groups).fit(reml=True)
    beta = np.asarray(fit.fe_params)
    cov = np.asarray(fit.cov_params())[: beta.size, : beta.size]
    effects = {reference: 0.0, **{arm: float(beta[i + 1]) for i, arm in enumerate(others)}}
    index = {reference: None, **{arm: i + 1 for i, arm in enumerate(others)}}

    def variance(a: str, b: str) -> float:
        ia, ib = index[a], index[b]
        total = 0.0
        if ia is not None:
            total += cov[ia, ia]
        if ib is not None:
            total += cov[ib, ib]
        if ia is not None and ib is not None:
            total -= 2 * cov[ia, ib]
        return total

    raw = []
    for a, b in itertools.combinations(present, 2):
        d = effects[b] - effects[a]
        se = math.sqrt(max(variance(a, b), 0.0))
        z = d / se if se > 0 else 0.0
        raw.append((a, b, d, se, z, normal_p(z)))
    adjusted = holm([row[5] for row in raw])
    contrasts = [
        Contrast(a, b, d, se, z, p, p_adj, effect_size_r(z, y.size))
        for (a, b, d, se, z, p), p_adj in zip(raw, adjusted, strict=True)
    ]
    return MixedResult(
        reference=reference,
        effects=effects,
        intercept=float(beta[0]),
        group_variance=float(np.asarray(fit.cov_re)[0, 0]),
        residual_variance=float(fit.scale),
        n_observations=int(y.size),
        n_participants=len(set(participants)),
        contrasts=contrasts,
        converged=bool(fit.converged),
    )
