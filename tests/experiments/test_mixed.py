"""The mixed model against the closed form of a complete balanced design."""

import numpy as np
import pytest

from experiments.mixed import ModelError, fit_mixed

# participants x arms (A, B, C), one answer each
Y = np.array([[2, 3, 5], [3, 4, 4], [4, 5, 5], [1, 3, 4]], dtype=float)


def _fit():
    participants, arms = np.meshgrid(range(4), ["A", "B", "C"], indexing="ij")
    return fit_mixed(
        scores=Y.ravel(),
        arms=list(arms.ravel()),
        participants=[str(p) for p in participants.ravel()],
        order=["A", "B", "C"],
    )


def test_fixed_effects_are_the_differences_of_arm_means():
    result = _fit()
    # arm means 2.5, 3.75, 4.5
    assert result.effects == pytest.approx({"A": 0.0, "B": 1.25, "C": 2.0}, abs=1e-5)
    assert result.intercept == pytest.approx(2.5, abs=1e-5)


def test_residual_variance_and_standard_errors_match_two_way_anova():
    result = _fit()
    residual = Y - Y.mean(axis=1, keepdims=True) - Y.mean(axis=0, keepdims=True) + Y.mean()
    mse = (residual**2).sum() / ((4 - 1) * (3 - 1))  # 0.30556
    ms_participants = 3 * ((Y.mean(axis=1) - Y.mean()) ** 2).sum() / (4 - 1)
    assert ms_participants > mse  # so the REML participant variance is positive
    assert result.residual_variance == pytest.approx(mse, rel=1e-4)
    assert result.group_variance == pytest.approx((ms_participants - mse) / 3, rel=1e-3)
    contrast = {(c.a, c.b): c for c in result.contrasts}
    ab = contrast[("A", "B")]
    assert ab.se == pytest.approx(np.sqrt(2 * mse / 4), rel=1e-3)
    assert ab.r == pytest.approx(ab.z / np.sqrt(12))
    assert contrast[("B", "C")].difference == pytest.approx(0.75, abs=1e-5)
    ps = sorted(c.p for c in result.contrasts)
    assert min(c.p_holm for c in result.contrasts) == pytest.approx(3 * ps[0])


def test_one_answer_per_participant_is_ordinary_least_squares():
    # A: 1, 3 (mean 2); B: 2, 4, 6 (mean 4); pooled variance (2 + 8) / 3 = 10/3
    result = fit_mixed(
        scores=[1, 2, 3, 4, 6], arms=["A", "B", "A", "B", "B"], participants=list("12345"), order=["A", "B"]
    )
    (contrast,) = result.contrasts
    assert result.kind == "ols" and result.group_variance == 0.0
    assert result.residual_variance == pytest.approx(10 / 3)
    assert contrast.difference == pytest.approx(2.0)
    se = np.sqrt(10 / 3 * (1 / 2 + 1 / 3))
    assert contrast.se == pytest.approx(se)
    assert (contrast.ci_low, contrast.ci_high) == pytest.approx(
        (2 - 1.959964 * se, 2 + 1.959964 * se), rel=1e-5
    )
    assert contrast.standardised == pytest.approx(2 / np.sqrt(10 / 3))


def test_a_single_participant_is_refused():
    with pytest.raises(ModelError):
        fit_mixed(scores=[1, 2], arms=["A", "B"], participants=["1", "1"], order=["A", "B"])
