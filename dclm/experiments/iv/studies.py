"""Chapter 2's studies: the main draws, the Monte Carlo studies and the run that gathers them."""

from __future__ import annotations

import warnings

import numpy as np

from dclm.causal.crosscheck import dowhy_iv
from dclm.causal.deconfound import deconfound_outcome
from dclm.causal.iv import WeakInstrumentWarning, fit_2sls, wald_ratio
from dclm.causal.linear import ols
from dclm.causal.simulate import SETTINGS
from dclm.causal.weakiv import weak_iv_coverage
from dclm.experiments.iv.config import MECHANISMS, THREATS, VIOLATIONS, Config, draw
from dclm.experiments.iv.textbook import reproduce
from dclm.train.options import DEFAULT_OPTIONS, JobOptions


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


def _monte_carlo(cfg: Config, seq: np.random.SeedSequence, setting: str, reps: int | None = None,
                 **changes) -> dict[str, list]:
    """OLS and IV (Wald ratio) estimates and first-stage F over ``reps`` (default ``cfg.mc_reps``) draws."""
    rng = np.random.default_rng(seq)
    ols_est, iv_est, f_stats = [], [], []
    for _ in range(reps or cfg.mc_reps):
        d = draw(cfg, rng, cfg.mc_n, setting, **changes)
        p, z, y = d["confounder"].to_numpy(), d["instrument"].to_numpy(), d["outcome"].to_numpy()
        pc = p - p.mean()
        ols_est.append(float(pc @ (y - y.mean()) / (pc @ pc)))
        iv_est.append(wald_ratio(y, p, z))
        r = np.corrcoef(z, p)[0, 1]
        f_stats.append(float(r**2 / (1 - r**2) * (len(p) - 2)))
    return {"ols": ols_est, "iv": iv_est, "first_stage_f": f_stats}


def three_estimates(data) -> dict[str, float]:
    """beta and g by the naive, adjusted and IV routes on one draw (see the module docstring)."""
    y, p, z, s = (data[c].to_numpy() for c in ("outcome", "confounder", "instrument", "quality"))
    pc, sc = p - p.mean(), s - s.mean()
    both = np.column_stack([sc, pc])
    adjusted_g, adjusted_beta = np.linalg.lstsq(both, y - y.mean(), rcond=None)[0]
    iv_beta = wald_ratio(y, p, z)
    deconfounded = y - iv_beta * p
    return {"naive_beta": float(pc @ (y - y.mean()) / (pc @ pc)), "naive_g": float(sc @ (y - y.mean()) / (sc @ sc)),
            "adjusted_beta": float(adjusted_beta), "adjusted_g": float(adjusted_g),
            "iv_beta": float(iv_beta), "iv_g": float(sc @ (deconfounded - deconfounded.mean()) / (sc @ sc))}


def _mechanism_changes(cfg: Config, case: str) -> dict:
    return {key: getattr(cfg, key) for key in MECHANISMS[case]}


def run(cfg: Config, work_dir=None, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    # Child streams by position: a study added at the end draws new children and moves no other.
    seqs = iter(np.random.SeedSequence(cfg.seed).spawn(16 + len(cfg.weak_strengths) + len(cfg.beta_grid)
                                                       + len(MECHANISMS) + 1 + len(THREATS) + 3))
    metrics, main_draws = {}, {}
    for setting in SETTINGS:
        main_draws[setting] = draw(cfg, np.random.default_rng(next(seqs)), cfg.n, setting)
        metrics[setting] = setting_metrics(main_draws[setting], cfg.beta)

    settings_mc = {setting: _monte_carlo(cfg, next(seqs), setting) for setting in SETTINGS}

    weak = {"strength": [], "median_f": [], "median_bias_iv": [], "median_bias_iv_se": [], "iqr_iv": [],
            "median_bias_ols": []}
    for strength in cfg.weak_strengths:
        mc = _monte_carlo(cfg, next(seqs), "entangled", reps=cfg.weak_mc_reps, instrument_strength=strength)
        iv = np.asarray(mc["iv"]) - cfg.beta
        iqr = float(np.subtract(*np.percentile(iv, [75, 25])))
        weak["strength"].append(strength)
        weak["median_f"].append(float(np.median(mc["first_stage_f"])))
        weak["median_bias_iv"].append(float(np.median(iv)))
        # Large-sample SE of a median, from the IQR (a normal-shape approximation).
        weak["median_bias_iv_se"].append(1.2533 * iqr / 1.349 / np.sqrt(len(iv)))
        weak["iqr_iv"].append(iqr)
        weak["median_bias_ols"].append(float(np.median(mc["ols"]) - cfg.beta))

    violations = {label: violation_summary(_monte_carlo(cfg, next(seqs), "entangled", **changes))
                  for label, changes in VIOLATIONS.items()}

    beta_sweep = {"beta": [], "corr_raw": [], "corr_adjusted": [], "corr_ols_adjusted": []}
    for beta in cfg.beta_grid:
        data = draw(cfg, np.random.default_rng(next(seqs)), cfg.n, "entangled", beta=beta)
        m = setting_metrics(data, beta)
        ols_adjusted = data["outcome"] - m["ols_beta"] * data["confounder"]
        beta_sweep["beta"].append(beta)
        beta_sweep["corr_raw"].append(m["corr_raw"])
        beta_sweep["corr_adjusted"].append(m["corr_adjusted"])
        beta_sweep["corr_ols_adjusted"].append(float(np.corrcoef(ols_adjusted, data["quality"])[0, 1]))

    mechanisms, mechanisms_mc = {}, {}
    for case in MECHANISMS:
        rng = np.random.default_rng(next(seqs))
        draws = [three_estimates(draw(cfg, rng, cfg.mc_n, "entangled", **_mechanism_changes(cfg, case)))
                 for _ in range(cfg.mc_reps)]
        mechanisms_mc[case] = {key: [d[key] for d in draws] for key in draws[0]}
        mechanisms[case] = {"true_beta": cfg.beta, "true_g": 1.0,
                            **{key: float(np.mean(v)) for key, v in mechanisms_mc[case].items()},
                            **{f"{key}_sd": float(np.std(v, ddof=1)) for key, v in mechanisms_mc[case].items()}}
    metrics["mechanisms"] = mechanisms

    # The other arrow, p -> s(T): the text mediates part of popularity's effect.
    reverse = draw(cfg, np.random.default_rng(next(seqs)), cfg.n, "entangled", arrow="popularity_to_text")
    reverse_estimates = three_estimates(reverse)
    metrics["other_arrow"] = {"iv_beta": reverse_estimates["iv_beta"], "adjusted_beta": reverse_estimates["adjusted_beta"],
                              "direct_beta": cfg.beta, "total_effect": cfg.beta + cfg.entanglement,
                              "iv_se": float(fit_2sls(reverse["outcome"], reverse[["confounder"]],
                                                      reverse[["instrument"]]).std_errors["confounder"])}

    # dowhy cross-check with an observed control w that Z is correlated with.
    data = draw(cfg, np.random.default_rng(next(seqs)), cfg.n, "entangled",
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
    for label, changes in THREATS.items():
        violations[label] = violation_summary(_monte_carlo(cfg, next(seqs), "entangled", **changes))
    for summary in violations.values():
        summary["bias"] = summary["median_iv"] - cfg.beta
    metrics["violations_bias"] = {label: v["bias"] for label, v in violations.items()}
    # Fan interest is a direct effect delta of Z on y: 2SLS is off by delta over the first-stage
    # slope a / sd(raw popularity) (the simulator's known population SD).
    delta = VIOLATIONS["exclusion: fans click beside exposure (Z -> y)"]["direct_effect"]
    a, rho = cfg.instrument_strength, cfg.entanglement
    metrics["fan_interest_expected_bias"] = delta * float(np.sqrt(a**2 + rho**2 + 1.0)) / a
    metrics["inference"] = weak_instrument_inference(cfg, main_draws["entangled"], next(seqs))
    coverage = weak_iv_coverage(cfg.coverage_strengths, n=cfg.coverage_n, reps=cfg.coverage_reps, beta=cfg.beta,
                                rng=np.random.default_rng(next(seqs)))
    metrics["coverage"] = coverage
    # Real data with a published answer; no random draws, so it takes no child stream.
    metrics["card"] = reproduce("card")
    return {"metrics": metrics, "data": {"settings_mc": settings_mc, "weak": weak, "mechanisms_mc": mechanisms_mc,
                                        "violations": violations, "beta_sweep": beta_sweep}}


def violation_summary(mc: dict) -> dict:
    """Median and interquartile range of the 2SLS draws, their median first-stage F, the draws."""
    return {"median_iv": float(np.median(mc["iv"])), "iqr_iv": [float(q) for q in np.percentile(mc["iv"], [25, 75])],
            "median_f": float(np.median(mc["first_stage_f"])), "draws": mc["iv"]}


def weak_instrument_inference(cfg: Config, main_draw, weak_seq) -> dict:
    """The run's main entangled draw (``strong``) and a draw at ``weak_inference_strength``
    (``weak``): the first-stage F, the effective F, the 2SLS Wald 95% interval and the
    Anderson–Rubin set, each with robust errors."""
    from dclm.causal.weakiv import anderson_rubin_set, effective_f

    out = {}
    weak_draw = draw(cfg, np.random.default_rng(weak_seq), cfg.n, "entangled",
                     instrument_strength=cfg.weak_inference_strength)
    for name, data, strength in (("strong", main_draw, cfg.instrument_strength),
                                 ("weak", weak_draw, cfg.weak_inference_strength)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakInstrumentWarning)
            fit = fit_2sls(data["outcome"], data[["confounder"]], data[["instrument"]])
        ar = anderson_rubin_set(data["outcome"], data[["confounder"]], data[["instrument"]], cov="robust")
        out[name] = {"strength": strength, "iv_beta": float(fit.params["confounder"]),
                     "wald_ci": [float(v) for v in fit.estimate("confounder").ci95],
                     "first_stage_f": float(fit.first_stage_f["confounder"]),
                     "effective_f": effective_f(data[["confounder"]], data[["instrument"]], cov="robust"),
                     "ar_set": ar.to_dict(), "ar_text": ar.format(2), "ar_bounded": ar.bounded}
    return out
