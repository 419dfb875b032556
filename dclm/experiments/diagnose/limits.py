"""Chapter 6's limits: the method's assumptions broken one at a time in chapter 2's graph."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dclm.experiments.diagnose.config import Config
from dclm.stats import first_stage_f


def limits(cfg: Config) -> dict:
    """The method's assumptions broken one at a time, in chapter 2's entangled news graph.

    - exclusion: y gains δ·Z; per δ and instrument strength, the bias of the IV estimate of β
      (Monte Carlo mean and SE over ``limits_reps`` draws) and corr(ỹ, s) of the deconfounded
      outcome ỹ = y − β̂·p;
    - additivity: y gains γ·s·p (the confounder's effect depends on the text); per γ, the bias
      of β̂, corr(ỹ, s), and what ỹ still pays a good text (s = +1) per SD of popularity;
    - weak instrument: per strength, the first-stage F and the median and 5-95% range of β̂.
    """
    from dclm.causal.iv import wald_ratio
    from dclm.causal.simulate import simulate_popularity

    beta, n, reps = cfg.limits_beta, cfg.limits_n, cfg.limits_reps
    rng = np.random.default_rng((cfg.seed, 4))

    def draw(**kwargs) -> pd.DataFrame:
        return simulate_popularity(n, rng, "entangled", beta=beta, **kwargs)

    exclusion = {"delta": list(cfg.deltas), "strength": list(cfg.strengths), "bias": {}, "bias_se": {},
                 "corr_adjusted_s": {}}
    for a in cfg.strengths:
        biases, ses, corrs = [], [], []
        for delta in cfg.deltas:
            estimates, corr = [], []
            for _ in range(reps):
                f = draw(instrument_strength=a, direct_effect=delta)
                b = wald_ratio(f["outcome"], f["confounder"], f["instrument"])
                estimates.append(b - beta)
                corr.append(np.corrcoef(f["outcome"] - b * f["confounder"], f["quality"])[0, 1])
            biases.append(float(np.mean(estimates)))
            ses.append(float(np.std(estimates, ddof=1) / np.sqrt(reps)))
            corrs.append(float(np.mean(corr)))
        exclusion["bias"][f"{a:g}"], exclusion["bias_se"][f"{a:g}"] = biases, ses
        exclusion["corr_adjusted_s"][f"{a:g}"] = corrs
    # Chapter 2's reference: the bias is δ·Var(Z)/Cov(Z, p), so 1/Cov(Z, p) multiplies δ.
    exclusion["multiplier"] = {f"{a:g}": float(np.sqrt(a**2 + 0.25 + 1.0) / a) for a in cfg.strengths}

    additivity = {"gamma": list(cfg.gammas), "beta_bias": [], "beta_bias_se": [], "corr_adjusted_s": [],
                  "payoff_good_text": [], "payoff_good_text_se": []}
    for gamma in cfg.gammas:
        bias, corr, payoff = [], [], []
        for _ in range(reps):
            f = draw(instrument_strength=1.0)
            y = f["outcome"].to_numpy() + gamma * f["quality"].to_numpy() * f["true_confounder"].to_numpy()
            b = wald_ratio(y, f["confounder"], f["instrument"])
            adjusted = y - b * f["confounder"].to_numpy()
            s, p = f["quality"].to_numpy(), f["confounder"].to_numpy()
            design = np.column_stack([np.ones(n), s, p, s * p])
            coef, *_ = np.linalg.lstsq(design, adjusted, rcond=None)
            bias.append(b - beta)
            corr.append(np.corrcoef(adjusted, s)[0, 1])
            payoff.append(coef[2] + coef[3])
        additivity["beta_bias"].append(float(np.mean(bias)))
        additivity["beta_bias_se"].append(float(np.std(bias, ddof=1) / np.sqrt(reps)))
        additivity["corr_adjusted_s"].append(float(np.mean(corr)))
        additivity["payoff_good_text"].append(float(np.mean(payoff)))
        additivity["payoff_good_text_se"].append(float(np.std(payoff, ddof=1) / np.sqrt(reps)))

    weak = {"strength": list(cfg.weak_strengths), "first_stage_f": [], "median_bias": [], "low": [], "high": [],
            "ols_bias": []}
    for a in cfg.weak_strengths:
        estimates, fs, ols = [], [], []
        for _ in range(reps):
            f = draw(instrument_strength=a)
            estimates.append(wald_ratio(f["outcome"], f["confounder"], f["instrument"]) - beta)
            fs.append(first_stage_f(f["instrument"], f["confounder"]))
            c = f["confounder"].to_numpy()
            ols.append(np.cov(c, f["outcome"])[0, 1] / c.var(ddof=1) - beta)
        low, median, high = np.percentile(estimates, [5, 50, 95])
        weak["first_stage_f"].append(float(np.mean(fs)))
        weak["median_bias"].append(float(median))
        weak["low"].append(float(low))
        weak["high"].append(float(high))
        weak["ols_bias"].append(float(np.mean(ols)))
    return {"exclusion": exclusion, "additivity": additivity, "weak": weak}
