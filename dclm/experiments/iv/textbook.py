"""Chapter 2's real IV: Card (1995) reproduced, Mroz (1987) as the exercise.

Each regression is run with :mod:`dclm.causal` and returned beside the figures the textbook
prints (Wooldridge, *Introductory Econometrics*, 5th ed., Examples 15.1 and 15.4), so a test
can hold one against the other at the printed precision.
"""

from __future__ import annotations

import numpy as np

from dclm.causal.iv import fit_2sls
from dclm.causal.linear import Estimate, ols
from dclm.causal.weakiv import anderson_rubin_set, effective_f
from dclm.data.textbook import CARD_SPEC, MROZ_SPEC, IVSpec, load_card, load_mroz

# Wooldridge's printed numbers (classical standard errors), to the digits printed.
PUBLISHED = {
    "card": {"source": "Wooldridge, Introductory Econometrics, Example 15.4 (Card 1995)",
             "n": 3010, "ols": 0.075, "ols_se": 0.003, "first_stage": 0.320, "first_stage_se": 0.088,
             "iv": 0.132, "iv_se": 0.055},
    "mroz": {"source": "Wooldridge, Introductory Econometrics, Example 15.1 (Mroz 1987)",
             "n": 428, "ols": 0.109, "ols_se": 0.014, "first_stage": 0.269, "first_stage_se": 0.029,
             "iv": 0.059, "iv_se": 0.035},
}
EXAMPLES = {"card": (load_card, CARD_SPEC), "mroz": (load_mroz, MROZ_SPEC)}


class UnknownExampleError(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def iv_estimates(data, spec: IVSpec) -> dict:
    """OLS and 2SLS of ``spec`` on ``data``, classical and robust (HC1) standard errors, the first
    stage, the effective F, the robust Anderson–Rubin 95% set and Hausman's t for IV = OLS. JSON-ready, in the outcome's
    units per unit of the endogenous regressor (log points per year of schooling here)."""
    y, x, z = data[spec.outcome], data[[spec.endog]], data[[spec.instrument]]
    controls = data[list(spec.controls)] if spec.controls else None
    regressors = data[[spec.endog, *spec.controls]]
    first_regressors = data[[spec.instrument, *spec.controls]]
    out = {"n": int(len(data))}
    for cov in ("unadjusted", "robust"):
        suffix = "" if cov == "unadjusted" else "_robust"
        naive = ols(y, regressors, cov_type=cov)
        first = ols(data[spec.endog], first_regressors, cov_type=cov)
        iv = fit_2sls(y, x, z, controls, cov=cov)
        out[f"ols_se{suffix}"] = float(naive.std_errors[spec.endog])
        out[f"first_stage_se{suffix}"] = float(first.std_errors[spec.instrument])
        out[f"iv_se{suffix}"] = float(iv.std_errors[spec.endog])
        out["ols"], out["first_stage"], out["iv"] = (float(naive.params[spec.endog]),
                                                     float(first.params[spec.instrument]),
                                                     float(iv.params[spec.endog]))
        if cov == "unadjusted":
            out["first_stage_f"] = float(iv.first_stage_f[spec.endog])
    # Wald 95% intervals: classical for both, and HC1 for 2SLS.
    for name, key, se in (("ols", "ols", "ols_se"), ("iv", "iv", "iv_se"), ("iv_robust", "iv", "iv_se_robust")):
        out[f"{name}_ci"] = list(Estimate(out[key], out[se]).ci95)
    out["effective_f"] = effective_f(x, z, controls, cov="robust")
    ar = anderson_rubin_set(y, x, z, controls, cov="robust")
    out["ar_set"], out["ar_text"] = ar.to_dict(), ar.format(3)
    out["iv_over_ols"] = out["iv"] / out["ols"]
    # Hausman's contrast: under classical errors OLS is efficient when both are consistent, so the
    # variance of the difference is the difference of the variances.
    out["hausman_t"] = (out["iv"] - out["ols"]) / float(np.sqrt(out["iv_se"] ** 2 - out["ols_se"] ** 2))
    return out


def reproduce(example: str) -> dict:
    """:func:`iv_estimates` of a textbook example (``"card"`` or ``"mroz"``) with its published figures
    under ``published`` and, under ``matches``, which of them ours equal at the printed precision."""
    if example not in EXAMPLES:
        raise UnknownExampleError(f"unknown example {example!r}; valid: {', '.join(EXAMPLES)}")
    load, spec = EXAMPLES[example]
    ours = iv_estimates(load(), spec)
    return {**ours, "published": PUBLISHED[example], "matches": printed_matches(ours, PUBLISHED[example])}


def printed_matches(ours: dict, published: dict) -> dict[str, bool]:
    """Per published figure: whether ours, rounded to the three decimals the book prints, equals it."""
    matches = {key: bool(np.round(ours[key], 3) == value)
               for key, value in published.items() if key not in ("source", "n")}
    matches["n"] = ours["n"] == published["n"]
    return matches
