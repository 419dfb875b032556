"""The same estimates through dowhy, so readers see dclm agree with a standard library.

dowhy is imported lazily (it takes seconds) and its library warnings are silenced here, where
they arise, so pages stay clean. Introduced in chapter 1.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

import pandas as pd


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
                   common_causes: list[str]) -> float:
    """dowhy's ``backdoor.linear_regression`` estimate of ``treatment``'s effect on ``outcome``.

    With the same adjustment set it equals the regression-adjusted coefficient of
    :func:`dclm.causal.linear.ols`; the chapter shows both.
    """
    missing = [c for c in [treatment, outcome, *common_causes] if c not in data.columns]
    if missing:
        raise ValueError(f"data has no column(s) {missing}; columns are {list(data.columns)}")
    with _quiet_dowhy():
        from dowhy import CausalModel

        model = CausalModel(
            data=data[[treatment, outcome, *common_causes]],
            treatment=treatment,
            outcome=outcome,
            common_causes=common_causes,
        )
        estimand = model.identify_effect(proceed_when_unidentifiable=True)
        estimate = model.estimate_effect(estimand, method_name="backdoor.linear_regression")
    return float(estimate.value)
