"""Descriptive and inferential statistics of the live A/B analysis, numpy (and scipy's t and
normal distributions) only; no Django.

* Mean and 95% confidence interval of n answers x_1..x_n (Student's t):

      mean = sum x_i / n,   SD = sqrt(sum (x_i - mean)^2 / (n - 1)),
      CI = mean -/+ t_{1 - alpha/2, n - 1} * SD / sqrt(n)

  (n = 1: SD and CI are undefined, NaN.)
* Holm's step-down correction of m p-values (Holm 1979): sort p_(1) <= ... <= p_(m), then

      p~_(i) = max_{j <= i} min(1, (m - j + 1) * p_(j))

  returned in the input order.
* Effect size r of a z statistic over N observations (Rosenthal 1991): r = z / sqrt(N).
* Two-sided p of a standard normal z: p = erfc(|z| / sqrt 2).
* Two-proportion z-test (pooled) of x1 successes in n1 trials against x2 in n2:

      p1 = x1/n1, p2 = x2/n2, p = (x1 + x2) / (n1 + n2),
      z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)),   two-sided p as above

  (z = 0, p = 1 when the pooled proportion is 0 or 1: both samples agree completely).
* Sample-ratio mismatch: Pearson's chi-square of the participants per arm n_i against the
  expected N w_i / W (weights w_i, W = sum w_i), k - 1 degrees of freedom (scipy.stats.chisquare).
* Power (normal approximation): a two-sided test at level alpha has power 1 - beta at an effect
  d when its SE is at most |d| / (z_{1-alpha/2} + z_{1-beta}); the SE shrinks as 1/sqrt(n), so
  the participants needed are

      n_needed = n * (SE (z_{1-alpha/2} + z_{1-beta}) / d)^2.

  For a share s of wins against 1/2 (interleaving), with m decided participants of n:

      m_needed = ((z_{1-alpha/2} / 2 + z_{1-beta} sqrt(s (1 - s))) / (s - 1/2))^2,
      n_needed = m_needed * n / m.

  For two proportions p1, p2 (lists with a click) with equal lists per arm (Fleiss):

      k = (z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{1-beta} sqrt(p1 q1 + p2 q2))^2 / (p1 - p2)^2

  lists per arm, pbar = (p1 + p2) / 2; participants = 2 k / (lists per participant so far).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sstats

Z95 = float(sstats.norm.ppf(0.975))


@dataclass(frozen=True, slots=True)
class Summary:
    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, slots=True)
class ProportionTest:
    p1: float
    p2: float
    z: float
    p_value: float


def summarize(values: Sequence[float], *, confidence: float = 0.95) -> Summary:
    """N, mean, sample SD and the t-based ``confidence`` interval of ``values``."""
    x = np.asarray(values, dtype=np.float64)
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan)
    mean = float(x.mean())
    if n == 1:
        nan = float("nan")
        return Summary(1, mean, nan, nan, nan)
    sd = float(x.std(ddof=1))
    half = float(sstats.t.ppf(1 - (1 - confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return Summary(n, mean, sd, mean - half, mean + half)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the order given."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted.tolist()


def normal_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2))


def effect_size_r(z: float, n: int) -> float:
    """r = z / sqrt(N)."""
    if n <= 0:
        raise ValueError("n must be positive")
    return z / math.sqrt(n)


def two_proportion_test(*, x1: int, n1: int, x2: int, n2: int) -> ProportionTest:
    """Pooled two-proportion z-test (see the module docstring)."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need at least one trial")
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError("successes must lie between 0 and the number of trials")
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        return ProportionTest(p1, p2, 0.0, 1.0)
    z = (p1 - p2) / math.sqrt(variance)
    return ProportionTest(p1, p2, z, normal_p(z))


@dataclass(frozen=True, slots=True)
class RatioCheck:
    observed: dict[str, int]
    expected: dict[str, float]
    chi2: float
    p_value: float
    mismatch: bool  # p below ``SRM_ALPHA``


#: a sample-ratio mismatch is reported below this p (a strict level: the check runs continuously)
SRM_ALPHA = 0.001


def sample_ratio(counts: dict[str, int], weights: dict[str, float]) -> RatioCheck | None:
    """Chi-square of ``counts`` per arm against ``weights`` (None with fewer than 2 arms or no one)."""
    names = list(counts)
    total = sum(counts.values())
    if len(names) < 2 or total == 0:
        return None
    weight = sum(weights[name] for name in names)
    expected = {name: total * weights[name] / weight for name in names}
    chi2, p = sstats.chisquare([counts[n] for n in names], [expected[n] for n in names])
    return RatioCheck(dict(counts), expected, float(chi2), float(p), bool(p < SRM_ALPHA))


def participants_for_power(
    *, n: int, se: float, difference: float, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Participants needed in all for ``power`` at ``difference`` (None: no effect observed)."""
    if n <= 0 or se <= 0 or not math.isfinite(se) or difference == 0 or not math.isfinite(difference):
        return None
    z = float(sstats.norm.ppf(1 - alpha / 2)) + float(sstats.norm.ppf(power))
    return math.ceil(n * (se * z / difference) ** 2)


def participants_for_share(
    *, n: int, decided: int, share: float, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Participants needed in all for a share ``share`` of wins to differ from 1/2 with ``power``."""
    if n <= 0 or decided <= 0 or share in (0.5,) or not 0 < share < 1:
        return None
    za, zb = float(sstats.norm.ppf(1 - alpha / 2)), float(sstats.norm.ppf(power))
    needed = ((za * 0.5 + zb * math.sqrt(share * (1 - share))) / (share - 0.5)) ** 2
    return math.ceil(needed * n / decided)


def participants_for_proportions(
    *, p1: float, p2: float, lists_per_participant: float, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Participants needed in all for a two-proportion test to find ``p1`` != ``p2`` (two arms)."""
    if p1 == p2 or lists_per_participant <= 0 or not (0 < p1 < 1 and 0 < p2 < 1):
        return None
    za, zb = float(sstats.norm.ppf(1 - alpha / 2)), float(sstats.norm.ppf(power))
    pbar = (p1 + p2) / 2
    k = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (
        p1 - p2
    ) ** 2
    return math.ceil(2 * k / lists_per_participant)
