"""Chapter 2's figures and its slider's figure."""

from __future__ import annotations

import warnings

import numpy as np

from dclm.causal.iv import WeakInstrumentWarning, fit_2sls
from dclm.causal.linear import ols
from dclm.causal.simulate import SETTINGS
from dclm.experiments.iv.config import ESTIMATORS, MECHANISM_LABELS, MECHANISMS, Config, draw

_COLOUR = {"adjusted": "feature"}


def _retitled(fig, title: str):
    # viz.weak_instrument_bias's own title states a conclusion; figure titles describe.
    fig.axes[0].set_title(title)
    return fig


def figures(result) -> dict:
    """``lesson``, ``weak``, ``violations``, ``correlation``, ``dag``, ``coverage``, ``mechanisms`` and ``card``."""
    from dclm import viz

    cfg, data = result.config, result.data
    cov = result.metrics["coverage"]  # small: kept in the metrics
    return {
        "lesson": viz.estimate_distributions(
            {setting.capitalize(): data["settings_mc"][setting] for setting in SETTINGS},
            methods={"ols": "naive", "iv": "iv"}, truth=cfg["beta"],
            xlabel="estimated beta (clicks per SD of popularity)",
            title=f"OLS and 2SLS estimates of beta, {cfg['mc_reps']} draws of {cfg['mc_n']:,}",
        ),
        "weak": _retitled(viz.weak_instrument_bias(data["weak"]),
                          f"Median bias of 2SLS and OLS by first-stage F, {cfg['weak_mc_reps']} draws of "
                          f"{cfg['mc_n']:,}"),
        "violations": viz.dot_whisker(
            list(data["violations"]),
            [v["median_iv"] for v in data["violations"].values()],
            [v["iqr_iv"] for v in data["violations"].values()],
            truth=cfg["beta"], color_name="iv",
            xlabel="2SLS estimate of beta (median and interquartile range over draws)",
            title="2SLS estimates of beta with one IV assumption broken at a time",
        ),
        "correlation": viz.lines(
            data["beta_sweep"]["beta"],
            {"naive": data["beta_sweep"]["corr_raw"], "iv": data["beta_sweep"]["corr_adjusted"]},
            labels={"naive": "raw outcome y", "iv": "IV-deconfounded y - beta_IV p"},
            xlabel="beta: clicks per SD of popularity (log scale; 0 drawn at the left)",
            ylabel="correlation with the text's score s(T)",
            title="Correlation with s(T) of raw and deconfounded clicks, by beta",
            logx=True,
        ),
        "dag": viz.news_dag(),
        "coverage": viz.lines(
            cov["median_f"],
            {"naive": cov["t_coverage"], "iv": cov["ar_coverage"],
             "truth": [0.95] * len(cov["median_f"])},
            labels={"naive": "2SLS estimate +- 1.96 SE (t interval)", "iv": "Anderson-Rubin set",
                    "truth": "nominal 95%"},
            xlabel="median first-stage F (log scale)", ylabel="share of draws covering the true beta",
            title=f"Coverage of 95% intervals by instrument strength, {cov['reps']:,} draws "
                  f"of {cov['n']} per point",
            logx=True),
        "mechanisms": viz.dot_whisker_panels(
            # Keys are colour names: adjusting for p is the confounder-as-feature method, and
            # viz gives "adjusted" the same blue as "iv", which would make two rows look alike.
            {MECHANISM_LABELS[case]: {_COLOUR.get(est, est): data["mechanisms_mc"][case][f"{est}_g"]
                                      for est in ESTIMATORS}
             for case in MECHANISMS},
            labels={"naive": "naive: y on s(T)", "feature": "adjusted: y on s(T) and p",
                    "iv": "IV: y - beta_IV p on s(T)"},
            truth=1.0, xlabel="estimated g, the text's effect at fixed popularity (mean, 2.5-97.5% of draws)",
            title=f"Three estimates of g in three worlds, {cfg['mc_reps']} draws of {cfg['mc_n']:,}",
        ),
        "card": card_figure(result.metrics["card"]),
    }


def card_figure(card: dict):
    """Card (1995): OLS and 2SLS returns to a year of schooling with their 95% intervals."""
    from dclm import viz

    (ar_low, ar_high), = card["ar_set"]["pieces"]
    return viz.dot_whisker(
        ["OLS, classical SE", "2SLS, classical SE", "2SLS, robust SE", "2SLS, Anderson-Rubin set (robust)"],
        [card["ols"], card["iv"], card["iv"], card["iv"]],
        [card["ols_ci"], card["iv_ci"], card["iv_robust_ci"], [ar_low, ar_high]],
        truth=None, color_name=["naive", "iv", "iv", "iv"],
        xlabel="return to a year of schooling (log points of the hourly wage; 95% interval)",
        title=f"Card (1995): OLS and 2SLS with nearc4 as the instrument, n = {card['n']:,}",
        width=7.2,
    )


def explore_figure(instrument_strength: float = 1.0, entanglement: float = -0.5, n: int = 2_000, seed: int = 0):
    """OLS and IV estimates on one draw at the slider's settings (chapter 2's widget)."""
    from dclm import viz

    cfg = Config(seed=seed, instrument_strength=instrument_strength, entanglement=entanglement)
    data = draw(cfg, np.random.default_rng(seed), n, "entangled")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakInstrumentWarning)
        iv = fit_2sls(data["outcome"], data[["confounder"]], data[["instrument"]])
    naive = ols(data["outcome"], data[["confounder"]])
    return viz.dot_whisker(
        ["OLS", "2SLS"],
        [naive.params["confounder"], iv.params["confounder"]],
        [list(naive.estimate("confounder").ci95), list(iv.estimate("confounder").ci95)],
        truth=cfg.beta, color_name=["naive", "iv"], xlabel="estimated beta (95% CI)",
        title=f"first-stage F = {iv.first_stage_f['confounder']:.0f}",
    )
