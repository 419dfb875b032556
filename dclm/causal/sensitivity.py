"""What to do without an instrument: how strong an omitted confounder would have to be, and how
far a violated exclusion restriction can move an IV estimate.

- :func:`robustness_value`, :func:`bias_adjusted`: Cinelli & Hazlett (2020), "Making sense of
  sensitivity". A confounder U omitted from an OLS regression of y on a treatment D (and
  controls X) biases D's coefficient by ``se · sqrt(dof) · sqrt(R²_{y~U|D,X} R²_{D~U|X} /
  (1 − R²_{D~U|X}))``, an identity in the two partial R² of U; the robustness value is the
  strength (the same partial R² with both) that would bring the estimate to 0, or with ``alpha``
  to the edge of significance. Everything here is computed from the reported estimate, its
  standard error and the residual degrees of freedom.
- :func:`plausibly_exogenous`: Conley, Hansen & Rossi (2012), "Plausibly exogenous", the union
  of confidence intervals: if the instrument's direct effect γ on y is only known to lie in
  ``[low, high]``, the 95% set for β is the union over that range of the 2SLS intervals of
  y − γZ on the endogenous regressor instrumented by Z.

Introduced in chapter 6 ("No valid instrument? What you can still do").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def _check_r2(name: str, value: float) -> float:
    value = float(value)
    if not 0 <= value < 1:
        raise ValueError(f"{name}={value}: a partial R² must lie in [0, 1)")
    return value


def _check_dof(dof: float) -> float:
    if not dof > 1:
        raise ValueError(f"dof={dof}: the regression needs more than 1 residual degree of freedom")
    return float(dof)


def partial_r2(t_statistic: float, dof: float) -> float:
    """The treatment's partial R² with the outcome, from its t-statistic: t² / (t² + dof)."""
    dof = _check_dof(dof)
    return float(t_statistic) ** 2 / (float(t_statistic) ** 2 + dof)


def robustness_value(t_statistic: float, dof: float, q: float = 1.0, alpha: float | None = None) -> float:
    """The partial R² that a confounder would need with both treatment and outcome to reduce the
    estimate by ``100·q`` percent (``alpha`` None), or to make the reduced estimate's ``alpha``-level
    test no longer reject (``alpha`` given). Between 0 and 1."""
    dof = _check_dof(dof)
    if q <= 0:
        raise ValueError(f"q={q}: the share of the estimate to explain away must be positive")
    f_q = q * abs(float(t_statistic)) / np.sqrt(dof)
    if alpha is None:
        f = f_q
    else:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha={alpha}: a test level must lie in (0, 1)")
        f_crit = abs(stats.t.ppf(alpha / 2, dof - 1)) / np.sqrt(dof - 1)
        f = f_q - f_crit
        if f <= 0:
            return 0.0
        if f_q > 1 / f_crit:
            # Cinelli & Hazlett's edge case: the bound on R²_{D~U|X} binds first.
            return float((f_q ** 2 - f_crit ** 2) / (1 + f_q ** 2))
    return float(0.5 * (np.sqrt(f ** 4 + 4 * f ** 2) - f ** 2))


@dataclass(frozen=True)
class AdjustedEstimate:
    """An OLS estimate corrected for a hypothetical confounder of given strength."""

    estimate: float
    se: float
    bias: float


def bias_adjusted(estimate: float, se: float, dof: float, r2_dz: float, r2_yz: float) -> AdjustedEstimate:
    """``estimate`` (with ``se`` on ``dof`` residual degrees of freedom) had the regression also
    held fixed a confounder with partial R² ``r2_dz`` with the treatment and ``r2_yz`` with the
    outcome; the bias is taken to shrink the estimate towards 0, the adversarial direction."""
    dof = _check_dof(dof)
    r2_dz, r2_yz = _check_r2("r2_dz", r2_dz), _check_r2("r2_yz", r2_yz)
    bias = se * np.sqrt(dof) * np.sqrt(r2_yz * r2_dz / (1 - r2_dz))
    adjusted_se = se * np.sqrt((1 - r2_yz) / (1 - r2_dz)) * np.sqrt(dof / (dof - 1))
    return AdjustedEstimate(float(estimate - np.sign(estimate) * bias), float(adjusted_se), float(bias))


@dataclass(frozen=True)
class UnionInterval:
    """Conley et al.'s union of intervals over a range of direct effects ``gammas``."""

    low: float
    high: float
    gammas: tuple[float, ...]
    estimates: tuple[float, ...]


def plausibly_exogenous(y, endog, instrument, exog=None, gamma_low: float = 0.0, gamma_high: float = 0.0,
                        points: int = 21, cov: str = "robust") -> UnionInterval:
    """The union over γ in ``[gamma_low, gamma_high]`` (``points`` values, both ends included) of
    the 95% 2SLS intervals of y − γ·Z on ``endog`` instrumented by ``instrument`` (one each)."""
    from dclm.causal.iv import fit_2sls
    from dclm.causal.linear import Estimate

    if gamma_low > gamma_high:
        raise ValueError(f"gamma_low={gamma_low} > gamma_high={gamma_high}: the range of direct effects is empty")
    if points < 2 and gamma_low != gamma_high:
        raise ValueError(f"points={points}: a range needs at least its two ends")
    y = np.asarray(y, dtype=float).ravel()
    z = np.asarray(instrument, dtype=float).ravel()
    gammas = np.linspace(gamma_low, gamma_high, max(points, 1) if gamma_low != gamma_high else 1)
    lows, highs, estimates = [], [], []
    for gamma in gammas:
        fit = fit_2sls(y - gamma * z, endog, instrument, exog, cov=cov)
        name = fit.endog[0]
        low, high = Estimate(float(fit.params[name]), float(fit.std_errors[name])).ci95
        estimates.append(float(fit.params[name]))
        lows.append(low)
        highs.append(high)
    return UnionInterval(float(min(lows)), float(max(highs)), tuple(map(float, gammas)), tuple(estimates))
