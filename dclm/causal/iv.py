"""Instrumental variables: two-stage least squares with clear errors and weak-IV warnings.

Introduced in chapter 2.
"""

from __future__ import annotations

from dclm.causal.linear import (
    WEAK_INSTRUMENT_F,
    Estimate,
    LinearResult,
    WeakInstrumentWarning,
    fit_linear,
)

__all__ = ["fit_2sls", "wald_ratio", "Estimate", "LinearResult", "WeakInstrumentWarning", "WEAK_INSTRUMENT_F"]


def fit_2sls(y, endog, instruments, exog=None, cov: str = "robust", add_constant: bool = True,
             clusters=None) -> LinearResult:
    """Two-stage least squares of ``y`` on ``endog`` (instrumented) and ``exog`` (controls).

    Arguments accept NumPy arrays, pandas Series or DataFrames (column names become
    coefficient names). ``instruments`` are the excluded instruments; ``exog`` and the
    constant (added unless ``add_constant=False``) serve as their own instruments.
    ``cov`` is ``"robust"`` (HC1), ``"unadjusted"`` (homoskedastic) or ``"cluster"`` (one-way
    clustered on ``clusters``, one group label per row: use it whenever the instrument varies
    by group, e.g. by team or region, because rows of one group share the instrument and are
    not independent evidence). Results equal linearmodels'
    ``IV2SLS(...).fit(cov_type=..., debiased=True)`` (``"clustered"`` with ``clusters=``).

    Returns a :class:`~dclm.causal.linear.LinearResult` with ``.params``, ``.std_errors``,
    ``.first_stage_f`` (partial F per endogenous regressor; cluster-robust under ``"cluster"``),
    ``.nobs``, ``.n_clusters`` and
    ``.summary()``. Raises ``ValueError`` naming the argument for mismatched lengths, NaN or
    inf, a constant or collinear instrument, or fewer instruments than endogenous regressors;
    warns with :class:`WeakInstrumentWarning` when a first-stage F is below 10.
    """
    if cov not in ("robust", "unadjusted", "cluster"):
        raise ValueError(f"cov must be 'robust', 'unadjusted' or 'cluster', got {cov!r}")
    return fit_linear(y, exog=exog, endog=endog, instruments=instruments,
                      add_constant=add_constant, cov_type=cov, clusters=clusters)


def wald_ratio(y, endog, instrument) -> float:
    """The Wald (IV) ratio cov(Z, y) / cov(Z, x): 2SLS with one instrument and no controls."""
    import numpy as np

    y, x, z = (np.asarray(v, dtype=float).ravel() for v in (y, endog, instrument))
    zc = z - z.mean()
    denominator = zc @ (x - x.mean())
    if denominator == 0:
        raise ValueError("instrument: cov(instrument, endog) is zero; the instrument is irrelevant")
    return float(zc @ (y - y.mean()) / denominator)
