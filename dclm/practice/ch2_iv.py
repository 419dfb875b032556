"""Checks of practice notebook 2: the Wald ratio, 2SLS by hand with a control, the deconfounded text effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dclm.practice.feedback import Feedback, compare, slope


def wald_ratio(answer, y, p, z) -> Feedback:
    """The Wald ratio Cov(Z, y) / Cov(Z, p)."""
    from dclm.causal import iv

    reference = iv.wald_ratio(y, p, z)
    return compare("wald", answer, reference, [
        (slope(y, p), "your estimate is the naive slope of clicks on popularity: use the "
                       "instrument, Cov(Z, y), and divide by the first stage, Cov(Z, p)."),
        (slope(y, z), "that is the reduced form (clicks on region); divide it by the first stage, "
                       "Cov(Z, p) / Var(Z)."),
        (slope(p, z), "that is the first stage (popularity on region); the Wald ratio is the "
                       "reduced form divided by it."),
        (1 / reference if reference else np.nan, "your ratio is upside down: Cov(Z, y) goes on top."),
    ], f"β̂_IV = {reference:.3f}, the effect of one SD of popularity on clicks.")


def _lstsq(y, *columns) -> np.ndarray:
    design = np.column_stack([np.ones(len(y)), *columns])
    coef, *_ = np.linalg.lstsq(design, np.asarray(y, dtype=float), rcond=None)
    return coef


def _first_stage(p, z, w) -> np.ndarray:
    design = np.column_stack([np.ones(len(p)), z, w])
    return design @ np.linalg.lstsq(design, np.asarray(p, dtype=float), rcond=None)[0]


def two_stage_least_squares(answer, y, p, z, w) -> Feedback:
    """2SLS of y on p instrumented by z, with the control w in both stages."""
    from dclm.causal import iv

    frame = pd.DataFrame({"y": y, "p": p, "z": z, "w": w})
    reference = iv.fit_2sls(frame["y"], frame[["p"]], frame[["z"]], exog=frame[["w"]]).params["p"]
    stage1_without_w = _lstsq(p, z)
    p_hat_without_w = stage1_without_w[0] + stage1_without_w[1] * np.asarray(z)
    return compare("tsls", answer, reference, [
        (iv.wald_ratio(y, p, z), "you left the control out: the region is a valid instrument only "
                                 "with the season w held fixed, so put w in both stages."),
        (_lstsq(y, p_hat_without_w, w)[1], "the control must be in the first stage too: regress p "
                                           "on z and w, then y on the fitted p̂ and w."),
        (_lstsq(y, p, w)[1], "you regressed clicks on popularity itself; the second stage uses the "
                             "first stage's fitted values p̂."),
        (_lstsq(y, _first_stage(p, z, w))[1], "keep the control w in the second stage too: regress y on "
                                              "p̂ and w."),
        (slope(y, p), "your estimate is the naive slope of clicks on popularity: did you use "
                       "the first stage at all?"),
    ], f"2SLS with the control gives β̂ = {reference:.3f}, the same as dclm.causal.iv.fit_2sls.")


def text_effect(answer, y, p, z, quality) -> Feedback:
    """g: the slope of the deconfounded clicks y − β̂_IV·p on the text's score s(T)."""
    from dclm.causal import iv

    beta_iv, beta_ols = iv.wald_ratio(y, p, z), slope(y, p)
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    reference = slope(y - beta_iv * p, quality)
    return compare("g_hat", answer, reference, [
        (slope(y, quality), "you regressed the raw clicks on s(T): that is the text's total "
                             "effect. Subtract β̂_IV·p from the clicks first."),
        (slope(y - beta_ols * p, quality), "you subtracted the naive (OLS) slope times p; it is "
                                            "biased by the entanglement. Use the Wald ratio."),
        (slope(y + beta_iv * p, quality), "you added β̂·p instead of subtracting it."),
    ], f"ĝ = {reference:.3f}, the text's effect at fixed popularity (1 in this simulator).")
