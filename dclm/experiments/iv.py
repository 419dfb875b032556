"""Chapter 2: instrumental variables and the DeconfoundLM correction.

Simulated headlines (``dclm.causal.simulate.simulate_popularity``): clicks
y = s(T) + beta·p + noise, with popularity p driven by the region instrument Z and, in the
entangled setting, also by the headline's own score s(T). OLS of y on p is biased only when
entangled; 2SLS with Z is unbiased in both settings; subtracting ĥ(p) = β̂·p leaves an outcome
that tracks s(T) better than raw y.

Three ways to learn the text's effect g (truth 1) and popularity's effect beta: ``naive``
(y on p alone for beta, y on s(T) alone for g), ``adjusted`` (y on s(T) and p together: the
text and the confounder as features) and ``iv`` (2SLS with Z, then y - beta_IV p on s(T)).
Adjusting is enough in the plain entangled case; the ``mechanisms`` study shows two cases
where it is not and the instrument still is: popularity observed through a noisy proxy, and
an unobserved cause of both popularity and clicks. ``other_arrow`` reverses s(T) -> p.

Metrics: ``orthogonal`` and ``entangled``, each with ``true_beta``, ``ols_beta``, ``iv_beta``,
``iv_se``, ``first_stage_f``, ``corr_raw`` (corr of y with s(T)), ``corr_adjusted`` (corr of
the adjusted outcome with s(T)); ``mechanisms.<case>.<estimator>_{beta,g}`` (Monte Carlo
means) with ``..._sd``; ``other_arrow`` (``iv_beta``, ``direct_beta``, ``total_effect``);
``dowhy`` (the cross-check with a control). Data: Monte Carlo draws behind the figures.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dclm.causal.crosscheck import dowhy_iv
from dclm.causal.deconfound import deconfound_outcome
from dclm.causal.iv import WeakInstrumentWarning, fit_2sls, wald_ratio
from dclm.causal.linear import ols
from dclm.causal.simulate import MIN_N, SETTINGS, simulate_popularity
from dclm.claims import Claim
from dclm.config import ExperimentConfig, knob
from dclm.profiles import Profile
from dclm.train.options import DEFAULT_OPTIONS, JobOptions

SEED_DOC = (
    "seeds every simulated data set: the two main draws, then each Monte Carlo study "
    "(settings, weak instruments, assumption violations, beta sweep, dowhy check) from "
    "independent child streams of the same seed"
)

# Where "adjust for the text and popularity" fails and the instrument does not (chapter 2).
MECHANISMS = {
    "entangled": {},
    "proxy": {"measurement_error": 1.0},
    "hidden": {"hidden_confounding": 1.0},
}
MECHANISM_LABELS = {"entangled": "entangled, p observed", "proxy": "p observed with error",
                    "hidden": "unobserved cause of p and y"}
ESTIMATORS = ("naive", "adjusted", "iv")

# The three IV assumptions, each broken on its own (chapter 2's "what goes wrong" figure).
VIOLATIONS = {
    "all assumptions hold": {},
    "relevance: weak Z": {"instrument_strength": 0.04},
    "exclusion: Z -> y": {"direct_effect": 0.3},
    "independence: Z -> s(T)": {"instrument_confounding": 0.3},
}


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Chapter 2's simulated news outcomes and its Monte Carlo studies."""

    # Sample sizes the simulator can draw.
    MINIMUMS: ClassVar[dict[str, int]] = {"n": MIN_N, "mc_n": MIN_N}

    seed: int = knob(0, "seeds the main draws and, through child streams, every Monte Carlo study")
    n: int = knob(5_000, "rows of each main data set")
    # Our default, not the paper's: at beta = 0.1 (the paper's, per SD of popularity) the
    # confound barely moves the outcome; the chapter sweeps beta and shows 0.1 too.
    beta: float = knob(1.0, "clicks per SD of popularity: the confounder's effect h(p) = beta p")
    instrument_strength: float = knob(1.0, "how strongly the region Z moves popularity")
    entanglement: float = knob(-0.5, "how strongly popularity moves the text's quality (the entangled setting)")
    noise_sd: float = knob(1.0, "SD of the outcome noise")
    mc_reps: int = knob(200, "draws per Monte Carlo study")
    # The weak end needs more draws: its median's Monte Carlo SE is large (tested claim).
    weak_mc_reps: int = knob(1_000, "draws per instrument strength of the weak-instrument study")
    mc_n: int = knob(2_000, "rows per Monte Carlo draw")
    weak_strengths: tuple[float, ...] = knob((0.02, 0.04, 0.07, 0.1, 0.15, 0.25, 0.5, 1.0),
                                             "instrument strengths of the weak-instrument study")
    beta_grid: tuple[float, ...] = knob((0.0, 0.1, 0.3, 1.0, 3.0), "confounder effects of the beta sweep")
    dowhy_control_effect: float = knob(1.0, "effect of the observed control in the dowhy cross-check")
    measurement_error: float = knob(1.0, "SD of popularity's logging error in the proxy mechanism")
    hidden_confounding: float = knob(1.0, "strength of the unobserved cause of p and y in the hidden mechanism")


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


def _monte_carlo(cfg: Config, seq: np.random.SeedSequence, setting: str, reps: int | None = None,
                 **changes) -> dict[str, list]:
    """OLS and IV (Wald ratio) estimates and first-stage F over ``reps`` (default ``cfg.mc_reps``) draws."""
    rng = np.random.default_rng(seq)
    ols_est, iv_est, f_stats = [], [], []
    for _ in range(reps or cfg.mc_reps):
        d = _draw(cfg, rng, cfg.mc_n, setting, **changes)
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
    seqs = iter(np.random.SeedSequence(cfg.seed).spawn(16 + len(cfg.weak_strengths) + len(cfg.beta_grid)
                                                       + len(MECHANISMS) + 1))
    metrics = {}
    for setting in SETTINGS:
        data = _draw(cfg, np.random.default_rng(next(seqs)), cfg.n, setting)
        metrics[setting] = setting_metrics(data, cfg.beta)

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

    violations = {}
    for label, changes in VIOLATIONS.items():
        mc = _monte_carlo(cfg, next(seqs), "entangled", **changes)
        violations[label] = {"median_iv": float(np.median(mc["iv"])),
                             "iqr_iv": [float(q) for q in np.percentile(mc["iv"], [25, 75])],
                             "median_f": float(np.median(mc["first_stage_f"])), "draws": mc["iv"]}

    beta_sweep = {"beta": [], "corr_raw": [], "corr_adjusted": [], "corr_ols_adjusted": []}
    for beta in cfg.beta_grid:
        data = _draw(cfg, np.random.default_rng(next(seqs)), cfg.n, "entangled", beta=beta)
        m = setting_metrics(data, beta)
        ols_adjusted = data["outcome"] - m["ols_beta"] * data["confounder"]
        beta_sweep["beta"].append(beta)
        beta_sweep["corr_raw"].append(m["corr_raw"])
        beta_sweep["corr_adjusted"].append(m["corr_adjusted"])
        beta_sweep["corr_ols_adjusted"].append(float(np.corrcoef(ols_adjusted, data["quality"])[0, 1]))

    mechanisms, mechanisms_mc = {}, {}
    for case in MECHANISMS:
        rng = np.random.default_rng(next(seqs))
        draws = [three_estimates(_draw(cfg, rng, cfg.mc_n, "entangled", **_mechanism_changes(cfg, case)))
                 for _ in range(cfg.mc_reps)]
        mechanisms_mc[case] = {key: [d[key] for d in draws] for key in draws[0]}
        mechanisms[case] = {"true_beta": cfg.beta, "true_g": 1.0,
                            **{key: float(np.mean(v)) for key, v in mechanisms_mc[case].items()},
                            **{f"{key}_sd": float(np.std(v, ddof=1)) for key, v in mechanisms_mc[case].items()}}
    metrics["mechanisms"] = mechanisms

    # The other arrow, p -> s(T): the text mediates part of popularity's effect.
    reverse = _draw(cfg, np.random.default_rng(next(seqs)), cfg.n, "entangled", arrow="popularity_to_text")
    reverse_estimates = three_estimates(reverse)
    metrics["other_arrow"] = {"iv_beta": reverse_estimates["iv_beta"], "adjusted_beta": reverse_estimates["adjusted_beta"],
                              "direct_beta": cfg.beta, "total_effect": cfg.beta + cfg.entanglement,
                              "iv_se": float(fit_2sls(reverse["outcome"], reverse[["confounder"]],
                                                      reverse[["instrument"]]).std_errors["confounder"])}

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
    return {"metrics": metrics, "data": {"settings_mc": settings_mc, "weak": weak, "mechanisms_mc": mechanisms_mc,
                                        "violations": violations, "beta_sweep": beta_sweep}}


# The claims chapter 2's lesson rests on (the experiment test asserts they hold).
LESSON = ("ols_entangled", "iv_entangled", "ols_orthogonal", "iv_orthogonal",
          *(f"{estimator}_g_{case}" for case in MECHANISMS for estimator in ("naive", "adjusted", "iv")),
          "other_arrow", "weak_towards_ols", "violation_relevance_noisy", "violation_exclusion",
          "violation_independence")


def claims(metrics: dict, data: dict | None = None) -> dict[str, Claim]:
    """The chapter's comparative sentences (:class:`dclm.claims.Claim`), computed from the run."""
    from dclm.claims import off_target, on_target

    truth = metrics["entangled"]["true_beta"]
    out = {
        "ols_entangled": off_target(data["settings_mc"]["entangled"]["ols"], truth, "OLS of y on p in the entangled setting"),
        "iv_entangled": on_target(data["settings_mc"]["entangled"]["iv"], truth, "2SLS in the entangled setting"),
        "ols_orthogonal": on_target(data["settings_mc"]["orthogonal"]["ols"], truth, "OLS of y on p in the orthogonal setting"),
        "iv_orthogonal": on_target(data["settings_mc"]["orthogonal"]["iv"], truth, "2SLS in the orthogonal setting"),
    }
    for case in MECHANISMS:
        mc = data["mechanisms_mc"][case]
        out[f"naive_g_{case}"] = off_target(mc["naive_g"], 1.0, "the naive g (y on s(T) alone)")
        check = on_target if case == "entangled" else off_target
        out[f"adjusted_g_{case}"] = check(mc["adjusted_g"], 1.0, "adjusting for the text and popularity")
        out[f"iv_g_{case}"] = on_target(mc["iv_g"], 1.0, "the IV route")
    arrow = metrics["other_arrow"]
    near_total = abs(arrow["iv_beta"] - arrow["total_effect"]) < 3 * arrow["iv_se"]
    far_direct = abs(arrow["iv_beta"] - arrow["direct_beta"]) > 3 * arrow["iv_se"]
    out["other_arrow"] = Claim(near_total and far_direct,
                               f"2SLS gives {arrow['iv_beta']:.2f} (SE {arrow['iv_se']:.2f}): "
                               f"{'the total effect' if near_total else 'not the total effect'} "
                               f"{arrow['total_effect']:g}, {'not' if far_direct else 'close to'} the direct "
                               f"effect {arrow['direct_beta']:g}")
    weak = data["weak"]
    # Towards OLS: on OLS's side of the truth by more than 3 Monte Carlo SEs at the weakest F,
    # and within 3 SEs of the truth at the strongest.
    moves = (weak["median_bias_iv"][0] * weak["median_bias_ols"][0] > 0
             and abs(weak["median_bias_iv"][0]) > 3 * weak["median_bias_iv_se"][0]
             and abs(weak["median_bias_iv"][-1]) < 3 * weak["median_bias_iv_se"][-1])
    out["weak_towards_ols"] = Claim(moves, (
        f"at first-stage F {weak['median_f'][0]:.1f} the median IV bias is {weak['median_bias_iv'][0]:+.2f}, "
        f"{'on the same side as' if weak['median_bias_iv'][0] * weak['median_bias_ols'][0] > 0 else 'opposite to'} "
        f"OLS's {weak['median_bias_ols'][0]:+.2f}; at F {weak['median_f'][-1]:.0f} it is "
        f"{weak['median_bias_iv'][-1]:+.2f}"))
    # One assumption broken at a time: relevance spreads the estimates out; exclusion and
    # independence move them while the first stage stays strong.
    base, weak_z = data["violations"]["all assumptions hold"], data["violations"]["relevance: weak Z"]
    spread = np.subtract(*np.percentile(weak_z["draws"], [75, 25])) / np.subtract(*np.percentile(base["draws"], [75, 25]))
    out["violation_relevance_noisy"] = Claim(spread > 3, (
        f"with a weak Z the interquartile range of the 2SLS estimates is {spread:.0f} times as wide "
        f"as with all assumptions holding (median first-stage F {weak_z['median_f']:.1f})"))
    for label, key in (("exclusion: Z -> y", "violation_exclusion"), ("independence: Z -> s(T)", "violation_independence")):
        broken = data["violations"][label]
        shifted = off_target(broken["draws"], truth, f"2SLS with {label.split(':')[0]} broken")
        out[key] = Claim(shifted.holds and broken["median_f"] > 10,
                         f"{shifted.text}, while its median first-stage F is {broken['median_f']:.0f}")
    return out


_COLOUR = {"adjusted": "feature"}


def _retitled(fig, title: str):
    # viz.weak_instrument_bias's own title states a conclusion; figure titles describe.
    fig.axes[0].set_title(title)
    return fig


def figures(result) -> dict:
    """``lesson``, ``weak``, ``violations``, ``correlation``, ``dag`` and ``mechanisms``."""
    from dclm import viz

    cfg, data = result.config, result.data
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
