"""Sensitivity to an omitted confounder and plausibly exogenous bounds, against published figures and known truths."""

import numpy as np
import pytest

from dclm.causal.iv import fit_2sls
from dclm.causal.sensitivity import bias_adjusted, partial_r2, plausibly_exogenous, robustness_value

# Cinelli & Hazlett (2020), the Darfur example as sensemakr prints it: "directly harmed" on peace
# attitudes, estimate 0.097, SE 0.023, t 4.184 on 783 residual degrees of freedom, with
# R²_{Y~D|X} = 2.2%, RV_{q=1} = 13.9% and RV_{q=1, alpha=0.05} = 7.6%.
DARFUR_T, DARFUR_DOF = 4.184, 783
DARFUR_SE = 0.023
DARFUR_ESTIMATE = DARFUR_T * DARFUR_SE


def test_darfur_robustness_values_match_the_published_ones():
    assert round(partial_r2(DARFUR_T, DARFUR_DOF), 3) == 0.022
    assert round(robustness_value(DARFUR_T, DARFUR_DOF), 3) == 0.139
    assert round(robustness_value(DARFUR_T, DARFUR_DOF, alpha=0.05), 3) == 0.076


def test_a_confounder_as_strong_as_the_robustness_value_explains_the_estimate_away():
    rv = robustness_value(DARFUR_T, DARFUR_DOF)
    adjusted = bias_adjusted(DARFUR_ESTIMATE, DARFUR_SE, DARFUR_DOF, r2_dz=rv, r2_yz=rv)
    assert abs(adjusted.estimate) < 1e-10
    half = robustness_value(DARFUR_T, DARFUR_DOF, q=0.5)
    assert bias_adjusted(DARFUR_ESTIMATE, DARFUR_SE, DARFUR_DOF, half, half).estimate == pytest.approx(DARFUR_ESTIMATE / 2)


def test_bias_formula_recovers_the_regression_that_holds_the_confounder_fixed():
    # Omitted-variable bias in partial R² is an identity: with the sample partial R² of U, the
    # adjusted estimate equals the coefficient of the regression that includes U.
    rng = np.random.default_rng(3)
    n = 2_000
    u, x = rng.standard_normal(n), rng.standard_normal(n)
    d = 0.6 * u + 0.3 * x + rng.standard_normal(n)
    y = 0.5 * d + 0.8 * u + 0.2 * x + rng.standard_normal(n)

    def fit(columns, target):
        design = np.column_stack([np.ones(n), *columns])
        coef, *_ = np.linalg.lstsq(design, target, rcond=None)
        resid = target - design @ coef
        return coef, resid, n - design.shape[1]

    coef, resid, dof = fit([d, x], y)
    se = np.sqrt(resid @ resid / dof * np.linalg.inv(np.column_stack([np.ones(n), d, x]).T
                                                       @ np.column_stack([np.ones(n), d, x]))[1, 1])
    full, _, _ = fit([d, x, u], y)
    # Partial R² of U with D given X, and with Y given D and X.
    _, d_res, _ = fit([x], d)
    _, u_res_x, _ = fit([x], u)
    _, y_res, _ = fit([d, x], y)
    _, u_res_dx, _ = fit([d, x], u)
    r2_dz = np.corrcoef(d_res, u_res_x)[0, 1] ** 2
    r2_yz = np.corrcoef(y_res, u_res_dx)[0, 1] ** 2
    adjusted = bias_adjusted(coef[1], se, dof, r2_dz, r2_yz)
    assert adjusted.estimate == pytest.approx(full[1], abs=1e-8)


def test_robustness_value_rejects_bad_input_by_name():
    with pytest.raises(ValueError, match="dof=1: .*more than 1"):
        robustness_value(2.0, 1)
    with pytest.raises(ValueError, match="alpha=1.5"):
        robustness_value(2.0, 100, alpha=1.5)
    with pytest.raises(ValueError, match="r2_dz=1.0"):
        bias_adjusted(1.0, 0.1, 100, 1.0, 0.1)
    assert robustness_value(1.0, 100, alpha=0.05) == 0.0  # not significant to begin with


def _violated(rng, n=1_000, delta=0.15):
    z = rng.standard_normal(n)
    u = rng.standard_normal(n)
    x = 0.5 * z + u + rng.standard_normal(n)
    y = 1.0 * x + delta * z + u + rng.standard_normal(n)
    return y, x, z


def test_union_of_intervals_covers_the_truth_where_plain_2sls_does_not():
    # The instrument's direct effect is 0.15; the analyst only claims it lies in [0, 0.3].
    rng = np.random.default_rng(11)
    reps, covered_union, covered_plain = 200, 0, 0
    for _ in range(reps):
        y, x, z = _violated(rng)
        union = plausibly_exogenous(y, x, z, gamma_low=0.0, gamma_high=0.3, points=7)
        covered_union += union.low <= 1.0 <= union.high
        fit = fit_2sls(y, x, z)
        est, se = float(fit.params.iloc[-1]), float(fit.std_errors.iloc[-1])
        covered_plain += est - 1.96 * se <= 1.0 <= est + 1.96 * se
    # 200 draws: a coverage of 0.95 has an SE of about 0.015, so 0.92 is two SEs below it.
    assert covered_union / reps > 0.92
    assert covered_plain / reps < 0.7


def test_union_with_a_point_range_is_the_2sls_interval_of_the_adjusted_outcome():
    y, x, z = _violated(np.random.default_rng(0))
    union = plausibly_exogenous(y, x, z, gamma_low=0.15, gamma_high=0.15)
    fit = fit_2sls(y - 0.15 * z, x, z)
    est, se = float(fit.params.iloc[-1]), float(fit.std_errors.iloc[-1])
    assert union.low == pytest.approx(est - 1.959964 * se) and union.high == pytest.approx(est + 1.959964 * se)
    with pytest.raises(ValueError, match="gamma_low=0.3 > gamma_high=0.1"):
        plausibly_exogenous(y, x, z, gamma_low=0.3, gamma_high=0.1)
