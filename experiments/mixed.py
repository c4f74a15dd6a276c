"""The paper's model of each question: a linear mixed-effects model with the arm as fixed effect
and the participant as random intercept (statsmodels ``MixedLM``, REML),

    y_pj = beta_0 + beta_arm(j) + u_p + e_pj,   u_p ~ N(0, tau^2),  e_pj ~ N(0, sigma^2),

with beta of the first (reference) arm fixed at 0. Pairwise contrasts between arms a and b:

    d = beta_b - beta_a,  SE = sqrt(Var beta_a + Var beta_b - 2 Cov(beta_a, beta_b)),
    z = d / SE,  p two-sided normal,  Holm-corrected over all pairs,  r = z / sqrt(N)

(N = observations in the model), the difference's 95% interval d -/+ 1.96 SE and the
standardised difference (Cohen's d) g = d / sqrt(tau^2 + sigma^2) with its interval scaled the
same way (the SD taken as known). When no participant answers more than once (between subjects,
where the web asks about the first list only) there is no participant effect to estimate and
the model is ordinary least squares with the arm as factor (tau^2 = 0; SE from the OLS
covariance). For a complete balanced design (every participant answers
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

from experiments.stats import Z95, effect_size_r, holm, normal_p


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
    ci_low: float  # 95% interval of the difference
    ci_high: float
    standardised: float  # Cohen's d
    standardised_low: float
    standardised_high: float


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
    kind: str = "mixed"  # "mixed" (participant random intercept) or "ols" (one answer per participant)


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
    if len(set(participants)) < 2:
        raise ModelError("the model needs at least two participants")
    reference, others = present[0], present[1:]
    exog = np.column_stack([np.ones(y.size)] + [np.asarray(arms) == arm for arm in others]).astype(np.float64)
    if y.size <= exog.shape[1]:
        raise ModelError("more answers than arms are needed")
    repeated = len(set(participants)) < y.size
    if repeated:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter; ``converged`` reports it
            fit = MixedLM(y, exog, groups=groups).fit(reml=True)
        beta = np.asarray(fit.fe_params)
        tau2, sigma2, converged = float(np.asarray(fit.cov_re)[0, 0]), float(fit.scale), bool(fit.converged)
    else:
        from statsmodels.regression.linear_model import OLS

        fit = OLS(y, exog).fit()
        beta = np.asarray(fit.params)
        tau2, sigma2, converged = 0.0, float(fit.scale), True
    cov = np.asarray(fit.cov_params())[: beta.size, : beta.size]
    sd = math.sqrt(max(tau2 + sigma2, 0.0))
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
    contrasts = []
    for (a, b, d, se, z, p), p_adj in zip(raw, adjusted, strict=True):
        low, high = d - Z95 * se, d + Z95 * se
        scale = sd if sd > 0 else float("nan")
        contrasts.append(
            Contrast(
                a,
                b,
                d,
                se,
                z,
                p,
                p_adj,
                effect_size_r(z, y.size),
                low,
                high,
                d / scale,
                low / scale,
                high / scale,
            )
        )
    return MixedResult(
        reference=reference,
        effects=effects,
        intercept=float(beta[0]),
        group_variance=tau2,
        residual_variance=sigma2,
        n_observations=int(y.size),
        n_participants=len(set(participants)),
        contrasts=contrasts,
        converged=converged,
        kind="mixed" if repeated else "ols",
    )
