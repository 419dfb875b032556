"""Linear estimators with named coefficients: OLS and 2SLS, one implementation.

OLS is 2SLS with no endogenous regressors, so both go through :func:`fit_linear`. Everything
is computed from one cross-product of a column-major design matrix ``[1, exog, instruments,
endog, y]``; that is what makes :func:`dclm.causal.iv.fit_2sls` fast on a million rows.
Covariances: ``"unadjusted"`` (homoskedastic), ``"robust"`` (HC1) and ``"cluster"``
(one-way clustered, for an instrument that varies by group: teams, regions), all with
linearmodels' ``debiased=True`` small-sample corrections.

Introduced in chapter 1 (regression adjustment) and chapter 2 (instrumental variables).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, stats

# Below this first-stage F, 2SLS is noticeably biased towards OLS (Staiger & Stock 1997).
WEAK_INSTRUMENT_F = 10.0


class WeakInstrumentWarning(UserWarning):
    """A first-stage F statistic below 10: the 2SLS estimate may be badly biased."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error (outcome units per unit of the regressor)."""

    value: float
    se: float

    @property
    def ci95(self) -> tuple[float, float]:
        """Normal-approximation 95% confidence interval."""
        return (self.value - 1.959964 * self.se, self.value + 1.959964 * self.se)


@dataclass(frozen=True)
class LinearResult:
    """A fitted OLS or 2SLS regression.

    ``params`` and ``std_errors`` are Series indexed by regressor name; ``first_stage_f``
    holds one partial F statistic per endogenous regressor (empty for OLS): homoskedastic for
    ``"unadjusted"`` and ``"robust"``; for ``"cluster"`` the cluster-robust Wald statistic of the
    excluded instruments divided by their number, so a handful of groups cannot pass for
    thousands of independent rows. ``n_clusters`` is the number of groups (None otherwise).
    """

    params: pd.Series
    std_errors: pd.Series
    cov: pd.DataFrame
    nobs: int
    cov_type: str
    dependent: str
    endog: tuple[str, ...]
    instruments: tuple[str, ...]
    first_stage_f: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    n_clusters: int | None = None

    @property
    def tstats(self) -> pd.Series:
        return self.params / self.std_errors

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values from the normal distribution (as linearmodels reports)."""
        return pd.Series(2 * stats.norm.sf(np.abs(self.tstats)), index=self.params.index)

    def estimate(self, name: str) -> Estimate:
        """The coefficient called ``name`` as an :class:`Estimate`."""
        if name not in self.params.index:
            raise KeyError(f"no coefficient {name!r}; coefficients are {list(self.params.index)}")
        return Estimate(float(self.params[name]), float(self.std_errors[name]))

    def summary(self) -> str:
        """A plain-text table in the layout of linearmodels' summaries."""
        estimator = "IV-2SLS" if self.endog else "OLS"
        cov_name = {"robust": "Robust (HC1)", "unadjusted": "Unadjusted",
                    "cluster": f"Clustered ({self.n_clusters} clusters)"}[self.cov_type]
        lines = [
            f"{estimator + ' Estimation Summary':^78}",
            "=" * 78,
            f"{'Dep. Variable:':<18}{self.dependent:>20}   {'No. Observations:':<20}{self.nobs:>17,d}",
            f"{'Estimator:':<18}{estimator:>20}   {'Cov. Estimator:':<20}{cov_name:>17}",
            "",
            f"{'':<16}{'Parameter':>11}{'Std. Err.':>11}{'T-stat':>9}{'P-value':>9}{'Lower CI':>11}{'Upper CI':>11}",
            "-" * 78,
        ]
        for name in self.params.index:
            est = self.estimate(name)
            low, high = est.ci95
            lines.append(f"{name[:16]:<16}{est.value:>11.4f}{est.se:>11.4f}{self.tstats[name]:>9.3f}"
                         f"{self.pvalues[name]:>9.4f}{low:>11.4f}{high:>11.4f}")
        lines.append("=" * 78)
        if self.endog:
            lines.append(f"Endogenous: {', '.join(self.endog)}")
            lines.append(f"Instruments: {', '.join(self.instruments)}")
            lines.append("First-stage partial F: " + ", ".join(
                f"{name} {value:.1f}" for name, value in self.first_stage_f.items()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def as_columns(x, name: str, n: int | None, column: str | None = None,
               check_finite: bool = True) -> tuple[np.ndarray, list[str], object]:
    """``x`` as a float matrix with column names, validated; also returns its pandas index.

    ``name`` is the argument's name, used in error messages; ``column`` (default ``name``)
    names unnamed columns: ``column`` for one, ``column0, column1, ...`` for several.
    """
    column = column or name
    index = x.index if isinstance(x, (pd.Series, pd.DataFrame)) else None
    if isinstance(x, pd.Series):
        columns, values = [str(x.name) if x.name is not None else column], x.to_numpy()[:, None]
    elif isinstance(x, pd.DataFrame):
        columns, values = [str(c) for c in x.columns], x.to_numpy()
    else:
        values = np.asarray(x)
        if values.ndim == 1:
            values = values[:, None]
        columns = [column] if values.ndim == 2 and values.shape[1] == 1 else \
            [f"{column}{i}" for i in range(values.shape[1] if values.ndim == 2 else 0)]
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric; encode categories first (e.g. pandas.get_dummies)") from None
    if values.ndim != 2:
        raise ValueError(f"{name} must be one- or two-dimensional, got shape {values.shape}")
    if values.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if n is not None and values.shape[0] != n:
        raise ValueError(f"{name} has {values.shape[0]} rows but y has {n}; pass arrays of equal length")
    if check_finite:
        _check_finite(values, name)
    return values, columns, index


def _check_finite(values: np.ndarray, name: str) -> None:
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise ValueError(f"{name} contains NaN or inf (first at row {bad}); drop or impute those rows first")


def _solve_spd(matrix: np.ndarray, rhs: np.ndarray, what: str) -> np.ndarray:
    try:
        return linalg.cho_solve(linalg.cho_factor(matrix, check_finite=False), rhs, check_finite=False)
    except linalg.LinAlgError:
        raise ValueError(what) from None


def _rank_deficient(gram: np.ndarray) -> bool:
    # Relative tolerance on the scaled Gram matrix: scale-free, like lstsq's rank test.
    scale = np.sqrt(np.clip(np.diag(gram), 1e-300, None))
    eig = np.linalg.eigvalsh(gram / np.outer(scale, scale))
    return eig[0] < 1e-10 * eig[-1]


COV_TYPES = ("robust", "unadjusted", "cluster")


def cluster_codes(clusters, n: int, ref: str = "y") -> tuple[np.ndarray, int]:
    """Integer group codes 0..G-1 for ``clusters`` (any hashable labels), validated against the
    ``n`` rows of the argument called ``ref``."""
    if clusters is None:
        raise ValueError("clusters: cov='cluster' needs clusters, one group label per row")
    labels = pd.Series(np.asarray(clusters).ravel() if not isinstance(clusters, pd.Series) else clusters.to_numpy())
    if len(labels) != n:
        raise ValueError(f"clusters has {len(labels)} rows but {ref} has {n}; pass one label per row")
    if labels.isna().any():
        raise ValueError(f"clusters contains missing labels (first at row {int(np.flatnonzero(labels.isna())[0])})")
    codes, uniques = pd.factorize(labels)
    if len(uniques) < 2:
        raise ValueError(f"clusters: clustered covariance needs at least 2 groups, got {len(uniques)}")
    return codes, len(uniques)


def group_sums(scores: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``scores`` (rows × columns) within each group: groups × columns."""
    sums = np.zeros((n_groups, scores.shape[1]))
    np.add.at(sums, codes, scores)
    return sums


def fit_linear(y, exog=None, endog=None, instruments=None, add_constant: bool = True,
               cov_type: str = "robust", exog_arg: str = "exog", clusters=None) -> LinearResult:
    """OLS (``endog`` and ``instruments`` None) or 2SLS of ``y`` on ``[1, exog, endog]``.

    ``instruments`` are the excluded instruments; ``exog`` (and the constant) instrument
    themselves. ``exog_arg`` is what error messages call ``exog`` (``ols`` calls it ``X``).
    See :func:`dclm.causal.iv.fit_2sls` for the argument contract.
    """
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}")
    if clusters is not None and cov_type != "cluster":
        raise ValueError(f"clusters were given but cov_type is {cov_type!r}; use cov_type='cluster'")
    # Finiteness is checked once, on the cross-product matrix below (any NaN or inf in the
    # data reaches it); only then are the inputs rescanned to name the culprit.
    y_mat, y_names, _ = as_columns(y, "y", None, check_finite=False)
    if y_mat.shape[1] != 1:
        raise ValueError(f"y must be one column, got {y_mat.shape[1]}")
    n = y_mat.shape[0]
    # argument name (for errors) -> (value, default column name)
    # Validated in fit_2sls's argument order, so the first bad argument is the one named.
    blocks = {"endog": (endog, "endog"), "instruments": (instruments, "instrument"), exog_arg: (exog, "x" if exog_arg == "X" else "exog")}
    mats, names = {}, {}
    for arg, (value, column) in blocks.items():
        if value is None:
            mats[arg], names[arg] = np.empty((n, 0)), []
        else:
            mats[arg], names[arg], _ = as_columns(value, arg, n, column, check_finite=False)
    k_endog, k_instr = mats["endog"].shape[1], mats["instruments"].shape[1]
    if k_endog > k_instr:
        raise ValueError(f"instruments: 2SLS needs at least as many instruments as endogenous regressors; "
                         f"got {k_endog} endogenous ({', '.join(names['endog'])}) and {k_instr} instrument(s)")
    const = ["const"] if add_constant else []
    n_exog = len(const) + mats[exog_arg].shape[1]
    n_z = n_exog + k_instr
    n_w = n_exog + k_endog
    if n_w == 0:
        raise ValueError("no regressors: pass exog or endog, or keep add_constant=True")
    if n <= n_w:
        raise ValueError(f"y has {n} rows but the model has {n_w} coefficients; more rows are needed")
    codes, n_clusters = cluster_codes(clusters, n) if cov_type == "cluster" else (None, None)

    # Column-major so each block below is a contiguous view and BLAS reads it without copies.
    design = np.empty((n, n_z + k_endog + 1), order="F")
    if add_constant:
        design[:, 0] = 1.0
    design[:, len(const):n_exog] = mats[exog_arg]
    design[:, n_exog:n_z] = mats["instruments"]
    design[:, n_z:n_z + k_endog] = mats["endog"]
    design[:, -1] = y_mat[:, 0]
    gram = design.T @ design
    if not np.isfinite(gram).all():
        for arg in ("y", *blocks):
            _check_finite(y_mat if arg == "y" else mats[arg], arg)
        raise ValueError("the data's cross-products overflow: rescale y and the regressors")
    for j, col in enumerate(names["instruments"]):
        column = mats["instruments"][:, j]
        if column.min() == column.max():
            raise ValueError(f"instruments: column {col!r} is constant; an instrument must vary")

    z_idx = np.arange(n_z)
    w_idx = np.r_[np.arange(n_exog), np.arange(n_z, n_z + k_endog)]
    zz = gram[np.ix_(z_idx, z_idx)]
    if _rank_deficient(zz):
        what = "instruments" if k_instr else exog_arg
        raise ValueError(f"{what}: the columns {const + names[exog_arg] + names['instruments']} are collinear "
                         "(an instrument duplicates another or a control); drop the redundant one")
    zw = gram[np.ix_(z_idx, w_idx)]
    zy = gram[z_idx, -1]
    pi = _solve_spd(zz, zw, "instruments are collinear")  # first-stage coefficients, n_z x n_w
    xhat_xhat = zw.T @ pi
    if _rank_deficient(xhat_xhat):
        raise ValueError("endog: the regressors are collinear given the instruments; drop one")
    beta = _solve_spd(xhat_xhat, pi.T @ zy, "regressors are collinear")

    resid = design[:, -1] - design[:, :n_exog] @ beta[:n_exog]
    if k_endog:
        resid -= design[:, n_z:n_z + k_endog] @ beta[n_exog:]
    bread = np.linalg.inv(xhat_xhat)
    correction = n / (n - n_w)
    if cov_type == "unadjusted":
        cov = bread * (resid @ resid / n) * correction
    elif cov_type == "cluster":
        # linearmodels' ClusteredCovariance with debiased=True: G/(G-1) · (n-1)/(n-k).
        xi = group_sums(design[:, :n_z] * resid[:, None], codes, n_clusters) @ pi
        cov = bread @ (xi.T @ xi) @ bread * (n_clusters / (n_clusters - 1)) * ((n - 1) / (n - n_w))
    else:
        # Z' diag(e^2) Z as (Z e)'(Z e), scaling our own copy of Z in place: no n x l temporary.
        scaled = design[:, :n_z]
        scaled *= resid[:, None]
        meat = pi.T @ (scaled.T @ scaled) @ pi
        cov = bread @ meat @ bread * correction
    coef_names = const + names[exog_arg] + names["endog"]
    result = LinearResult(
        params=pd.Series(beta, index=coef_names),
        std_errors=pd.Series(np.sqrt(np.diag(cov)), index=coef_names),
        cov=pd.DataFrame(cov, index=coef_names, columns=coef_names),
        nobs=n,
        cov_type=cov_type,
        dependent=y_names[0],
        endog=tuple(names["endog"]),
        instruments=tuple(names["instruments"]),
        first_stage_f=(_first_stage_f(gram, n, n_exog, n_z, k_endog, names["endog"]) if cov_type != "cluster"
                       else _cluster_first_stage_f(design, gram, n_exog, n_z, k_endog, names["endog"],
                                                   codes, n_clusters)),
        n_clusters=n_clusters,
    )
    weak = result.first_stage_f[result.first_stage_f < WEAK_INSTRUMENT_F]
    for name, value in weak.items():
        warnings.warn(f"first-stage F for {name!r} is {value:.1f} (< {WEAK_INSTRUMENT_F:g}): the instruments "
                      "are weak and 2SLS is biased towards OLS", WeakInstrumentWarning, stacklevel=3)
    return result


def _first_stage_f(gram, n, n_exog, n_z, k_endog, endog_names) -> pd.Series:
    """Homoskedastic partial F of the excluded instruments in each first-stage regression."""
    values = {}
    q = n_z - n_exog
    for j, name in enumerate(endog_names):
        col = n_z + j
        xx = gram[col, col]
        rss_u = xx - gram[:n_z, col] @ np.linalg.solve(gram[:n_z, :n_z], gram[:n_z, col])
        if n_exog:
            rss_r = xx - gram[:n_exog, col] @ np.linalg.solve(gram[:n_exog, :n_exog], gram[:n_exog, col])
        else:
            rss_r = xx
        values[name] = ((rss_r - rss_u) / q) / (rss_u / (n - n_z))
    return pd.Series(values, dtype=float)


def _cluster_first_stage_f(design, gram, n_exog, n_z, k_endog, endog_names, codes, n_clusters) -> pd.Series:
    """Cluster-robust Wald statistic of the excluded instruments per first stage, over q.

    Equals linearmodels' ``first_stage.diagnostics["f.stat"]`` divided by q under
    ``cov_type="clustered", debiased=True``.
    """
    n = design.shape[0]
    q = n_z - n_exog
    zz_inv = np.linalg.inv(gram[:n_z, :n_z])
    values = {}
    for j, name in enumerate(endog_names):
        col = n_z + j
        coef = zz_inv @ gram[:n_z, col]
        resid = design[:, col] - design[:, :n_z] @ coef
        xi = group_sums(design[:, :n_z] * resid[:, None], codes, n_clusters)
        cov = zz_inv @ (xi.T @ xi) @ zz_inv * (n_clusters / (n_clusters - 1)) * ((n - 1) / (n - n_z))
        excluded = coef[n_exog:]
        values[name] = float(excluded @ np.linalg.solve(cov[n_exog:, n_exog:], excluded)) / q
    return pd.Series(values, dtype=float)


def ols(y, X, add_constant: bool = True, cov_type: str = "robust", clusters=None) -> LinearResult:
    """Regress ``y`` on the columns of ``X`` (plus a constant called ``const``)."""
    return fit_linear(y, exog=X, add_constant=add_constant, cov_type=cov_type, exog_arg="X", clusters=clusters)
