"""The same estimates through dowhy, so readers see dclm agree with a standard library.

dowhy is imported lazily (it takes seconds) and its library warnings are silenced here, where
they arise, so pages stay clean. It is optional (the ``causal`` extra): without it each
cross-check returns None and pages print :data:`DOWHY_MISSING` instead. Introduced in chapter 1.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

import pandas as pd

DOWHY_MISSING = ("dowhy is not installed, so this cross-check is skipped; dclm's own estimate above "
                 "does not need it (pip install \"dclm[causal]\" adds dowhy; on Colab that downgrades "
                 "scipy and needs a runtime restart).")


def _causal_model():
    """dowhy's CausalModel, or None when dowhy is not installed."""
    try:
        from dowhy import CausalModel
    except ImportError:
        return None
    return CausalModel


def describe(label: str, value: float | None) -> str:
    """One line for a page: ``label: +0.123456``, or :data:`DOWHY_MISSING` when ``value`` is None."""
    return DOWHY_MISSING if value is None else f"{label}: {value:+.6f}"


@contextlib.contextmanager
def _quiet_dowhy() -> Iterator[None]:
    # dowhy logs its identification steps at INFO and pandas 3 deprecations as warnings;
    # neither says anything about the reader's data.
    logger = logging.getLogger("dowhy")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module="dowhy")
            warnings.filterwarnings("ignore", message=".*copy keyword is deprecated.*")
            yield
    finally:
        logger.setLevel(previous)


def dowhy_backdoor(data: pd.DataFrame, treatment: str, outcome: str,
                   common_causes: list[str]) -> float | None:
    """dowhy's ``backdoor.linear_regression`` estimate of ``treatment``'s effect on ``outcome``.

    With the same adjustment set it equals the regression-adjusted coefficient of
    :func:`dclm.causal.linear.ols`; the chapter shows both. None without dowhy.
    """
    estimate = _dowhy_estimate(data, treatment, outcome, common_causes, "backdoor.linear_regression")
    return None if estimate is None else float(estimate.value)


def _dowhy_estimate(data: pd.DataFrame, treatment: str, outcome: str, common_causes: list[str],
                    method: str, instrument: str | None = None):
    """dowhy's estimate object of ``method`` (None without dowhy), columns checked first."""
    columns = [treatment, outcome, *([instrument] if instrument else []), *common_causes]
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"data has no column(s) {missing}; columns are {list(data.columns)}")
    with _quiet_dowhy():
        CausalModel = _causal_model()
        if CausalModel is None:
            return None
        instruments = {"instruments": [instrument], "common_causes": common_causes or None} if instrument else {
            "common_causes": common_causes}
        model = CausalModel(data=data[columns], treatment=treatment, outcome=outcome, **instruments)
        estimand = model.identify_effect(proceed_when_unidentifiable=True)
        params = {"method_params": {"iv_instrument_name": instrument}} if instrument else {}
        return model.estimate_effect(estimand, method_name=method, **params)


def dowhy_iv(data: pd.DataFrame, treatment: str, outcome: str, instrument: str,
             common_causes: list[str] | None = None) -> float | None:
    """dowhy's ``iv.instrumental_variable`` estimate.

    Note what dowhy 0.14 computes: with one instrument and one treatment it returns the Wald
    ratio cov(Z, y) / cov(Z, x) on the raw columns, and ``common_causes`` do not enter the
    estimate at all. So with controls it equals 2SLS *without* controls, not
    ``fit_2sls(..., exog=controls)``; chapter 2 shows when that matters. None without dowhy.
    """
    estimate = _dowhy_estimate(data, treatment, outcome, list(common_causes or []), "iv.instrumental_variable",
                               instrument=instrument)
    return None if estimate is None else float(estimate.value)
