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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sstats


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
