"""The DeconfoundLM step: estimate the confounder's part h(C) of an outcome and remove it.

    y = g(T) + h(C) + noise    ->    adjusted = y - ĥ(C)

With an instrument Z for C, ĥ comes from 2SLS (consistent even when C is correlated with the
text's own effect g(T), the "entangled" case); with ``instrument=None`` C is taken as
exogenous and ĥ comes from plain regression adjustment (categorical confounders such as the
weekday enter as one-hot terms). h is identified only up to a constant, so ĥ is centred to
mean zero over the sample: the adjusted outcome keeps y's mean. Introduced in chapter 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dclm.causal.linear import LinearResult, as_columns, fit_linear


@dataclass(frozen=True)
class DeconfoundResult:
    """``adjusted`` = y − ĥ(C) (same length, index and type as y), ``h`` = ĥ(C), and the fit."""

    adjusted: pd.Series | np.ndarray
    h: pd.Series | np.ndarray
    iv: LinearResult
    terms: tuple[str, ...]


def is_categorical(confounder) -> bool:
    """Whether ``confounder`` is a set of levels rather than a quantity: strings, objects,
    pandas categories and booleans (two levels, True and False) are; other numbers are not.

    Categorical confounders enter :func:`deconfound_outcome` as one-hot terms, and the canary
    test (:func:`dclm.eval.canary.tied_rows`) ties canaries to levels. Introduced in chapter 2.
    """
    dtype = confounder.dtype if isinstance(confounder, pd.Series) else np.asarray(confounder).dtype
    return (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype)
            or not pd.api.types.is_numeric_dtype(dtype))


def _powers(values: np.ndarray, degree: int, name: str) -> pd.DataFrame:
    # Degree 1 keeps C's own units, so the coefficient is the β of h(C) = βC. Higher degrees
    # standardise first: the spanned function space is the same, the conditioning far better.
    if degree == 1:
        return pd.DataFrame({name: values})
    sd = values.std()
    scaled = (values - values.mean()) / (sd if sd > 0 else 1.0)
    return pd.DataFrame({(f"{name}^{d}" if d > 1 else name): scaled ** d for d in range(1, degree + 1)})


def _degree(basis) -> int:
    if basis == "linear":
        return 1
    if isinstance(basis, (int, np.integer)) and not isinstance(basis, bool) and basis >= 1:
        return int(basis)
    raise ValueError(f"basis must be 'linear' or a polynomial degree >= 1, got {basis!r}")


def deconfound_outcome(y, confounder, instrument, controls=None, basis="linear",
                       cov: str = "robust", clusters=None) -> DeconfoundResult:
    """Remove the confounder's estimated effect from the outcome ``y``.

    - ``confounder``: C, one column (numeric; or categorical when ``instrument`` is None).
    - ``instrument``: Z for C, or None to treat C as exogenous (regression adjustment).
    - ``controls``: other regressors that stay in the model but are not removed from y.
    - ``basis``: ``"linear"`` (h(C) = βC) or a polynomial degree d, estimating
      h(C) = Σ_j β_j C^j with C^1..C^d instrumented by Z^1..Z^d. That is identified only when
      the powers of Z move the powers of C independently: a binary Z identifies degree 1 only
      (its powers are collinear, which raises a clear error), a continuous Z can identify more.
      Polynomial coefficients refer to the standardised confounder.

    - ``cov``/``clusters``: the covariance of the fit, as in :func:`dclm.causal.iv.fit_2sls`;
      pass ``cov="cluster"`` and the groups when the instrument varies by group.

    Returns a :class:`DeconfoundResult`; ``.iv`` is the fitted 2SLS (or OLS) regression.
    """
    degree = _degree(basis)
    y_values, _, y_index = as_columns(y, "y", None)
    n = len(y_values)
    if is_categorical(confounder):
        if instrument is not None:
            raise ValueError("confounder: categorical confounders are supported with instrument=None only; "
                             "encode the confounder numerically to instrument it")
        if degree != 1:
            raise ValueError("basis: a polynomial basis needs a numeric confounder")
        labels = pd.Series(np.asarray(confounder), name="confounder")
        if len(labels) != n:
            raise ValueError(f"confounder has {len(labels)} rows but y has {n}; pass arrays of equal length")
        if labels.isna().any():
            raise ValueError("confounder contains missing values; drop or label those rows first")
        terms = pd.get_dummies(labels.astype("category"), prefix="C", drop_first=True, dtype=float)
    else:
        c_values, c_names, _ = as_columns(confounder, "confounder", n)
        if c_values.shape[1] != 1:
            raise ValueError(f"confounder must be one column, got {c_values.shape[1]}")
        terms = _powers(c_values[:, 0], degree, c_names[0])
    if controls is not None:
        control_values, control_names, _ = as_columns(controls, "controls", n, "control")
        controls = pd.DataFrame(control_values, columns=control_names)

    if instrument is None:
        exog = terms if controls is None else pd.concat([terms, controls], axis=1)
        fit = fit_linear(y_values[:, 0], exog=exog, cov_type=cov, clusters=clusters)
    else:
        z_values, z_names, _ = as_columns(instrument, "instrument", n)
        if z_values.shape[1] != 1:
            raise ValueError(f"instrument must be one column, got {z_values.shape[1]}")
        if np.ptp(z_values) == 0:
            raise ValueError("instruments: the instrument is constant; an instrument must vary")
        z_terms = _powers(z_values[:, 0], degree, z_names[0])
        fit = fit_linear(y_values[:, 0], exog=controls, endog=terms, instruments=z_terms, cov_type=cov,
                         clusters=clusters)

    h = terms.to_numpy() @ fit.params[list(terms.columns)].to_numpy()
    h = h - h.mean()
    adjusted = y_values[:, 0] - h
    if y_index is not None:
        name = y.name if isinstance(y, pd.Series) else "outcome"
        adjusted = pd.Series(adjusted, index=y_index, name=f"{name}_adjusted")
        h = pd.Series(h, index=y_index, name="h")
    return DeconfoundResult(adjusted=adjusted, h=h, iv=fit, terms=tuple(terms.columns))
