"""Chapter 2: instrumental variables and the DeconfoundLM correction.

Simulated headlines (``dclm.causal.simulate.simulate_popularity``): clicks
y = s(T) + beta·p + noise, with popularity p driven by the region instrument Z and, in the
entangled setting, also by the headline's own score s(T). OLS of y on p is biased only when
entangled; 2SLS with Z is unbiased in both settings; subtracting ĥ(p) = β̂·p leaves an outcome
that tracks s(T) better than raw y.

Metrics: ``orthogonal`` and ``entangled``, each with ``true_beta``, ``ols_beta``, ``iv_beta``,
``iv_se``, ``first_stage_f``, ``corr_raw`` (corr of y with s(T)), ``corr_adjusted`` (corr of
the adjusted outcome with s(T)); ``dowhy`` (the cross-check with a control). Data: Monte
Carlo studies behind the chapter's figures.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from dclm.causal.crosscheck import dowhy_iv
from dclm.causal.deconfound import deconfound_outcome
from dclm.causal.iv import WeakInstrumentWarning, fit_2sls, wald_ratio
from dclm.causal.linear import ols
from dclm.causal.simulate import MIN_N, SETTINGS, simulate_popularity
from dclm.profiles import Profile

SEED_DOC = (
    "seeds every simulated data set: the two main draws, then each Monte Carlo study "
    "(settings, weak instruments, assumption violations, beta sweep, dowhy check) from "
    "independent child streams of the same seed"
)

# The three IV assumptions, each broken on its own (chapter 2's "what goes wrong" figure).
VIOLATIONS = {
    "all assumptions hold": {},
    "relevance: weak Z": {"instrument_strength": 0.04},
    "exclusion: Z -> y": {"direct_effect": 0.3},
    "independence: Z -> s(T)": {"instrument_confounding": 0.3},
}


@dataclass(frozen=True)
class Config:
    seed: int = 0
    n: int = 5_000
    # Our default, not the paper's: at beta = 0.1 (the paper's, per SD of popularity) the
    # confound barely moves the outcome; the chapter sweeps beta and shows 0.1 too.
    beta: float = 1.0
    instrument_strength: float = 1.0
    entanglement: float = -0.5
    noise_sd: float = 1.0
    mc_reps: int = 200
    mc_n: int = 2_000
    weak_strengths: tuple[float, ...] = (0.02, 0.04, 0.07, 0.1, 0.15, 0.25, 0.5, 1.0)
    beta_grid: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0, 3.0)
    dowhy_control_effect: float = 1.0


def validate(cfg: Config) -> None:
    """Sample sizes the simulator can draw."""
    from dclm.config import check_at_least

    check_at_least(cfg, {"n": MIN_N, "mc_n": MIN_N})


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's sample sizes and Monte Carlo repetitions."""
    return Config(seed=seed, n=profile.simulation_n, mc_n=profile.sweep_n,
                  mc_reps=profile.monte_carlo_reps)


def _draw(cfg: Config, rng: np.random.Generator, n: int, setting: str, **changes):
    params = {"beta": cfg.beta, "instrument_strength": cfg.instrument_strength,
              "entanglement": cfg.entanglement, "noise_sd": cfg.noise_sd, **changes}
    return simulate_popularity(n, rng, setting=setting, **params)


def setting_metrics(data, beta: float) -> dict[str, float]:
    """OLS and IV estimates of beta and the correlations with s(T), raw and deconfounded."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakInstrumentWarning)
        iv = fit_2sls(data["outcome"], data[["confounder"]], data[["instrument"]])
        adjusted = deconfound_outcome(data["outcome"], data["confounder"], data["instrument"]).adjusted
    return {
        "true_beta": beta,
        "ols_beta": float(ols(data["outcome"], data[["confounder"]]).params["confounder"]),
        "iv_beta": float(iv.params["confounder"]),
        "iv_se": float(iv.std_errors["confounder"]),
        "first_stage_f": float(iv.first_stage_f["confounder"]),
        "corr_raw": float(np.corrcoef(data["outcome"], data["quality"])[0, 1]),
        "corr_adjusted": float(np.corrcoef(adjusted, data["quality"])[0, 1]),
    }


def _monte_carlo(cfg: Config, seq: np.random.SeedSequence, setting: str, **changes) -> dict[str, list]:
    """OLS and IV (Wald ratio) estimates and first-stage F over ``cfg.mc_reps`` draws."""
    rng = np.random.default_rng(seq)
    ols_est, iv_est, f_stats = [], [], []
    for _ in range(cfg.mc_reps):
        d = _draw(cfg, rng, cfg.mc_n, setting, **changes)
        p, z, y = d["confounder"].to_numpy(), d["instrument"].to_numpy(), d["outcome"].to_numpy()
        pc = p - p.mean()
        ols_est.append(float(pc @ (y - y.mean()) / (pc @ pc)))
        iv_est.append(wald_ratio(y, p, z))
        r = np.corrcoef(z, p)[0, 1]
        f_stats.append(float(r**2 / (1 - r**2) * (len(p) - 2)))
    return {"ols": ols_est, "iv": iv_est, "first_stage_f": f_stats}


def run(cfg: Config, work_dir=None) -> dict:
    seqs = iter(np.random.SeedSequence(cfg.seed).spawn(16 + len(cfg.weak_strengths) + len(cfg.beta_grid)))
    metrics = {}
    for setting in SETTINGS:
        data = _draw(cfg, np.random.default_rng(next(seqs)), cfg.n, setting)
        metrics[setting] = setting_metrics(data, cfg.beta)

    settings_mc = {setting: _monte_carlo(cfg, next(seqs), setting) for setting in SETTINGS}

    weak = {"strength": [], "median_f": [], "median_bias_iv": [], "iqr_iv": [], "median_bias_ols": []}
    for strength in cfg.weak_strengths:
        mc = _monte_carlo(cfg, next(seqs), "entangled", instrument_strength=strength)
        iv = np.asarray(mc["iv"]) - cfg.beta
        weak["strength"].append(strength)
        weak["median_f"].append(float(np.median(mc["first_stage_f"])))
        weak["median_bias_iv"].append(float(np.median(iv)))
        weak["iqr_iv"].append(float(np.subtract(*np.percentile(iv, [75, 25]))))
        weak["median_bias_ols"].append(float(np.median(mc["ols"]) - cfg.beta))

    violations = {}
    for label, changes in VIOLATIONS.items():
        mc = _monte_carlo(cfg, next(seqs), "entangled", **changes)
        violations[label] = {"median_iv": float(np.median(mc["iv"])),
                             "iqr_iv": [float(q) for q in np.percentile(mc["iv"], [25, 75])],
                             "median_f": float(np.median(mc["first_stage_f"]))}

    beta_sweep = {"beta": [], "corr_raw": [], "corr_adjusted": [], "corr_ols_adjusted": []}
    for beta in cfg.beta_grid:
        data = _draw(cfg, np.random.default_rng(next(seqs)), cfg.n, "entangled", beta=beta)
        m = setting_metrics(data, beta)
        ols_adjusted = data["outcome"] - m["ols_beta"] * data["confounder"]
        beta_sweep["beta"].append(beta)
        beta_sweep["corr_raw"].append(m["corr_raw"])
        beta_sweep["corr_adjusted"].append(m["corr_adjusted"])
        beta_sweep["corr_ols_adjusted"].append(float(np.corrcoef(ols_adjusted, data["quality"])[0, 1]))

    # dowhy cross-check with an observed control w that Z is correlated with.
    data = _draw(cfg, np.random.default_rng(next(seqs)), cfg.n, "entangled",
                 control_effect=cfg.dowhy_control_effect)
    with_control = fit_2sls(data["outcome"], data[["confounder"]], data[["instrument"]], exog=data[["control"]])
    without_control = fit_2sls(data["outcome"], data[["confounder"]], data[["instrument"]])
    metrics["dowhy"] = {
        "true_beta": cfg.beta,
        "dowhy_iv": dowhy_iv(data, "confounder", "outcome", "instrument", common_causes=["control"]),
        "iv_with_control": float(with_control.params["confounder"]),
        "iv_with_control_se": float(with_control.std_errors["confounder"]),
        "iv_without_control": float(without_control.params["confounder"]),
    }
    return {"metrics": metrics, "data": {"settings_mc": settings_mc, "weak": weak,
                                        "violations": violations, "beta_sweep": beta_sweep}}


def figures(result) -> dict:
    """``lesson``, ``weak``, ``violations``, ``correlation`` and ``dag``."""
    from dclm import viz

    cfg, data = result.config, result.data
    return {
        "lesson": viz.estimate_distributions(
            {setting.capitalize(): data["settings_mc"][setting] for setting in SETTINGS},
            methods={"ols": "naive", "iv": "iv"}, truth=cfg["beta"],
            xlabel="estimated beta (clicks per SD of popularity)",
            title=f"OLS is biased only when entangled; IV is centred on the truth in both "
                  f"({cfg['mc_reps']} draws of {cfg['mc_n']:,})",
        ),
        "weak": viz.weak_instrument_bias(data["weak"]),
        "violations": viz.dot_whisker(
            list(data["violations"]),
            [v["median_iv"] for v in data["violations"].values()],
            [v["iqr_iv"] for v in data["violations"].values()],
            truth=cfg["beta"], color_name="iv",
            xlabel="2SLS estimate of beta (median and interquartile range over draws)",
            title="Break one IV assumption and the estimate moves away from the truth",
        ),
        "correlation": viz.lines(
            data["beta_sweep"]["beta"],
            {"naive": data["beta_sweep"]["corr_raw"], "iv": data["beta_sweep"]["corr_adjusted"]},
            labels={"naive": "raw outcome y", "iv": "IV-deconfounded y - beta_IV p"},
            xlabel="beta: clicks per SD of popularity (log scale; 0 drawn at the left)",
            ylabel="correlation with the text's score s(T)",
            title="The stronger the confound, the more deconfounding restores the text's signal",
            logx=True,
        ),
        "dag": viz.draw_dag(
            {"Z\nregion": (0.0, 1.0), "p\npopularity": (1.0, 1.0), "s(T)\ntext": (1.0, 0.0),
             "y\nclicks": (2.0, 0.5)},
            [("Z\nregion", "p\npopularity"), ("p\npopularity", "y\nclicks"),
             ("s(T)\ntext", "y\nclicks"), ("s(T)\ntext", "p\npopularity")],
            dashed=[("s(T)\ntext", "p\npopularity")],
            title="Z moves popularity only; entanglement (dashed) links p and s(T)",
        ),
    }


def explore_figure(instrument_strength: float = 1.0, entanglement: float = -0.5, n: int = 2_000, seed: int = 0):
    """OLS and IV estimates on one draw at the slider's settings (chapter 2's widget)."""
    from dclm import viz

    cfg = Config(seed=seed, instrument_strength=instrument_strength, entanglement=entanglement)
    data = _draw(cfg, np.random.default_rng(seed), n, "entangled")
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
