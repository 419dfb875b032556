"""Least squares with named coefficients and classical or HC1-robust standard errors.

Introduced in chapter 1 (regression adjustment); chapter 2's 2SLS shares its covariances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error (same units as the outcome per unit of x)."""

    value: float
    se: float

    @property
    def ci95(self) -> tuple[float, float]:
        """Normal-approximation 95% confidence interval."""
        return (self.value - 1.959964 * self.se, self.value + 1.959964 * self.se)


@dataclass(frozen=True)
class OLSResult:
    """Coefficients and standard errors by regressor name, plus the sample size."""

    params: pd.Series
    std_errors: pd.Series
    nobs: int
    cov_type: str

    def estimate(self, name: str) -> Estimate:
        """The coefficient called ``name`` as an :class:`Estimate`."""
        return Estimate(float(self.params[name]), float(self.std_errors[name]))


def _as_matrix(x, name: str, n: int | None) -> tuple[np.ndarray, list[str]]:
    if isinstance(x, pd.Series):
        columns, values = [str(x.name) if x.name is not None else name], x.to_numpy()[:, None]
    elif isinstance(x, pd.DataFrame):
        columns, values = [str(c) for c in x.columns], x.to_numpy()
    else:
        values = np.asarray(x)
        if values.ndim == 1:
            values = values[:, None]
        columns = [name] if values.shape[1] == 1 else [f"{name}{i}" for i in range(values.shape[1])]
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"{name} must be one- or two-dimensional, got shape {values.shape}")
    if n is not None and values.shape[0] != n:
        raise ValueError(f"{name} has {values.shape[0]} rows but y has {n}; pass arrays of equal length")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or inf; drop or impute those rows first")
    return values, columns


def covariance(X: np.ndarray, resid: np.ndarray, xtx_inv: np.ndarray, cov_type: str) -> np.ndarray:
    """Coefficient covariance: ``"unadjusted"`` (homoskedastic) or ``"robust"`` (HC1)."""
    n, k = X.shape
    if cov_type == "unadjusted":
        return xtx_inv * (resid @ resid / (n - k))
    if cov_type == "robust":
        meat = (X * resid[:, None] ** 2).T @ X
        return xtx_inv @ meat @ xtx_inv * (n / (n - k))
    raise ValueError(f"cov_type must be 'unadjusted' or 'robust', got {cov_type!r}")


def ols(y, X, add_constant: bool = True, cov_type: str = "robust") -> OLSResult:
    """Regress ``y`` on the columns of ``X`` (plus a constant called ``const``)."""
    y_arr, _ = _as_matrix(y, "y", None)
    y_vec = y_arr[:, 0]
    X_arr, names = _as_matrix(X, "x", len(y_vec))
    if add_constant:
        X_arr = np.column_stack([np.ones(len(y_vec)), X_arr])
        names = ["const", *names]
    xtx = X_arr.T @ X_arr
    if np.linalg.matrix_rank(xtx) < xtx.shape[0]:
        raise ValueError(f"the regressors {names} are collinear; drop one of them")
    xtx_inv = np.linalg.inv(xtx)
    beta = xtx_inv @ (X_arr.T @ y_vec)
    resid = y_vec - X_arr @ beta
    cov = covariance(X_arr, resid, xtx_inv, cov_type)
    return OLSResult(
        params=pd.Series(beta, index=names),
        std_errors=pd.Series(np.sqrt(np.diag(cov)), index=names),
        nobs=len(y_vec),
        cov_type=cov_type,
    )
