"""Chapter 6's tools for a reader without a valid instrument, each shown in chapter 2's news graph
where the truth is known: a sensitivity analysis for a confounder that was never logged
(Cinelli & Hazlett 2020) and plausibly exogenous bounds for an instrument that may reach the
outcome directly (Conley, Hansen & Rossi 2012). The estimators are :mod:`dclm.causal.sensitivity`.
"""

from __future__ import annotations

import numpy as np

from dclm.experiments.diagnose.config import Config

# The partial R² grid of the sensitivity contour, each axis from 0 to at least this value.
CONTOUR_MAX_R2 = 0.5
CONTOUR_POINTS = 26


def sensitivity(cfg: Config) -> dict:
    """Popularity never logged: OLS of clicks y on the text's quality s(T) alone, in the entangled
    graph (g = 1). Its robustness values, the partial R² the real popularity has with s(T) and
    with y (which an analyst never sees; here it is known), the bias a confounder that strong
    implies, and the contour of bias-adjusted estimates over a grid of strengths."""
    from dclm.causal.linear import ols
    from dclm.causal.sensitivity import bias_adjusted, partial_r2, robustness_value
    from dclm.causal.simulate import simulate_popularity

    frame = simulate_popularity(cfg.limits_n, np.random.default_rng((cfg.seed, 5)), "entangled",
                                beta=cfg.limits_beta)
    short = ols(frame["outcome"], frame[["quality"]], cov_type="unadjusted")
    full = ols(frame["outcome"], frame[["quality", "true_confounder"]], cov_type="unadjusted")
    estimate, estimate_se = float(short.params["quality"]), float(short.std_errors["quality"])
    dof = short.nobs - len(short.params)
    t = estimate / estimate_se
    # Popularity's two partial R², from t-statistics (exact with classical errors): with s(T) it
    # is their plain R² (p on s alone), with y it is given s(T) (p's t in the long regression).
    r2_dz = partial_r2(float(ols(frame["true_confounder"], frame[["quality"]], cov_type="unadjusted")
                             .tstats["quality"]), dof)
    r2_yz = partial_r2(float(full.tstats["true_confounder"]), full.nobs - len(full.params))
    at_truth = bias_adjusted(estimate, estimate_se, dof, r2_dz, r2_yz)
    rv = robustness_value(t, dof)
    # Wide enough to show popularity's point and the robustness value with room around them.
    grid = np.linspace(0, min(0.95, max(CONTOUR_MAX_R2, 1.25 * max(r2_dz, r2_yz, rv))), CONTOUR_POINTS)
    contour = [[bias_adjusted(estimate, estimate_se, dof, a, b).estimate for a in grid] for b in grid]
    return {"estimate": estimate, "se": estimate_se, "dof": int(dof), "truth": 1.0,
            "partial_r2": partial_r2(t, dof), "rv": rv,
            "rv_alpha": robustness_value(t, dof, alpha=cfg.alpha),
            "confounder_r2_dz": r2_dz, "confounder_r2_yz": r2_yz, "confounder_bias": at_truth.bias,
            "confounder_adjusted": at_truth.estimate,
            "full_estimate": float(full.params["quality"]), "full_se": float(full.std_errors["quality"]),
            "grid": grid.tolist(), "contour": contour}


def conley(cfg: Config) -> dict:
    """The instrument reaches clicks directly by δ = ``conley_delta`` (chapter 2's fan-interest
    threat). Per assumed range [0, γ_max] of that direct effect: the union of 2SLS intervals of β
    on the run's first draw, and its coverage of the true β over ``limits_reps`` draws; γ_max = 0
    is plain 2SLS."""
    from dclm.causal.sensitivity import plausibly_exogenous
    from dclm.causal.simulate import simulate_popularity

    rng = np.random.default_rng((cfg.seed, 6))
    bounds = {f"{g:g}": {"covered": []} for g in cfg.conley_ranges}
    for rep in range(cfg.limits_reps):
        frame = simulate_popularity(cfg.limits_n, rng, "entangled", beta=cfg.limits_beta,
                                    direct_effect=cfg.conley_delta)
        y, p, z = (frame[key].to_numpy() for key in ("outcome", "confounder", "instrument"))
        for gamma_max in cfg.conley_ranges:
            union = plausibly_exogenous(y, p, z, gamma_low=0.0, gamma_high=gamma_max, points=5)
            row = bounds[f"{gamma_max:g}"]
            row["covered"].append(union.low <= cfg.limits_beta <= union.high)
            if rep == 0:
                row |= {"low": union.low, "high": union.high, "estimate_at_0": union.estimates[0]}
    for row in bounds.values():
        covered = row.pop("covered")
        row["coverage"] = float(np.mean(covered))
    return {"delta": cfg.conley_delta, "beta": cfg.limits_beta, "reps": cfg.limits_reps,
            "ranges": list(cfg.conley_ranges), "bounds": bounds}


def negative_control(cfg: Config) -> dict:
    """A negative-control outcome: views of the team's page, which popularity drives and the
    headline's text cannot reach at fixed popularity (y_nc = β·p + noise). Per setting, the
    slope of y_nc on s(T) naively and after the same IV subtraction as the real outcome, on the
    run's first draw (slope and 95% interval) and as the share of ``limits_reps`` draws whose
    interval excludes 0. A text "effect" on y_nc flags that the naive estimate of g mixes in
    popularity's path."""
    from dclm.causal.iv import fit_2sls
    from dclm.causal.linear import ols
    from dclm.causal.simulate import simulate_popularity

    rng = np.random.default_rng((cfg.seed, 7))
    out = {}
    for setting in ("orthogonal", "entangled"):
        rows = {"naive": [], "deconfounded": []}
        for _ in range(cfg.limits_reps):
            frame = simulate_popularity(cfg.limits_n, rng, setting, beta=cfg.limits_beta)
            y_nc = cfg.limits_beta * frame["true_confounder"] + rng.standard_normal(len(frame))
            rows["naive"].append(ols(y_nc, frame[["quality"]], cov_type="unadjusted").estimate("quality"))
            # The subtraction y_nc − β̂·p and the slope on s(T) in one 2SLS (p instrumented by Z,
            # s(T) its own instrument), so the interval counts the error in β̂ too.
            fit = fit_2sls(y_nc, frame[["confounder"]], frame[["instrument"]], frame[["quality"]])
            rows["deconfounded"].append(fit.estimate("quality"))
        out[setting] = {name: {"slope": draws[0].value, "low": draws[0].ci95[0], "high": draws[0].ci95[1],
                               "flag_rate": float(np.mean([not lo <= 0 <= hi for lo, hi in (d.ci95 for d in draws)]))}
                        for name, draws in rows.items()}
    return {"reps": cfg.limits_reps, "settings": out}


def no_instrument(cfg: Config) -> dict:
    """The three studies: ``{"sensitivity": ..., "conley": ..., "negative_control": ...}``."""
    return {"sensitivity": sensitivity(cfg), "conley": conley(cfg), "negative_control": negative_control(cfg)}


def no_instrument_claims(metrics: dict) -> dict:
    """The section's sentences (:class:`dclm.claims.Claim`); absent from runs that predate it."""
    from dclm.claims import Claim

    out = {}
    sens = metrics.get("sensitivity")
    if sens:
        survives = sens["confounder_bias"] < abs(sens["estimate"])
        out["sensitivity_survives_popularity"] = Claim(survives, (
            f"a confounder no stronger than popularity (partial R² {sens['confounder_r2_dz']:.2f} with s(T) and "
            f"{sens['confounder_r2_yz']:.2f} with the clicks) moves the estimate by at most "
            f"{sens['confounder_bias']:.2f}, {'less' if survives else 'no less'} than the estimate "
            f"{sens['estimate']:.2f} itself: it {'cannot' if survives else 'can'} explain the text's effect away"))
        gap = min(abs(sens["estimate"] + sign * sens["confounder_bias"] - sens["full_estimate"]) for sign in (-1, 1))
        out["sensitivity_bias_is_the_gap"] = Claim(gap < 1e-6, (
            f"that bound, {sens['confounder_bias']:.3f}, is {'exactly' if gap < 1e-6 else 'not'} the distance from the "
            f"estimate {sens['estimate']:.3f} to {sens['full_estimate']:.3f}, the regression that holds popularity "
            f"fixed (truth g = {sens['truth']:g})"))
    con = metrics.get("conley")
    if con:
        # The binomial SE of a 95% coverage over the run's draws: 'covers' means within 3 SEs of 0.95.
        nominal_se = float(np.sqrt(0.95 * 0.05 / con["reps"]))
        containing = {g: row for g, row in con["bounds"].items() if float(g) >= con["delta"]}
        covers = all(row["coverage"] >= 0.95 - 3 * nominal_se for row in containing.values())
        out["conley_covers_when_the_range_holds_delta"] = Claim(bool(containing) and covers, (
            f"allowing a direct effect in [0, γ_max] with γ_max at least the true {con['delta']:g}, the union of intervals "
            "covers the true beta in " + ", ".join(f"{row['coverage']:.0%} (γ_max = {g})" for g, row in containing.items())
            + f" of {con['reps']} draws"))
        plain = con["bounds"].get("0")
        if plain is not None:
            under = plain["coverage"] < 0.95 - 3 * nominal_se
            out["plain_iv_undercovers_with_a_direct_effect"] = Claim(under, (
                f"plain 2SLS, which assumes no direct effect, covers the true beta in {plain['coverage']:.0%} of "
                f"{con['reps']} draws{'' if under else ', not clearly below 95%'}"))
    neg = metrics.get("negative_control")
    if neg:
        # A 5% test's rejection share over the run's draws: 'quiet' within 3 binomial SEs of 0.05.
        quiet_line = 0.05 + 3 * float(np.sqrt(0.05 * 0.95 / neg["reps"]))

        def share(setting: str, name: str) -> str:
            row = neg["settings"][setting][name]
            return (f"slope {row['slope']:+.3f} (95% interval {row['low']:+.3f} to {row['high']:+.3f}), "
                    f"flagged in {row['flag_rate']:.0%} of {neg['reps']} draws")

        flags = neg["settings"]["entangled"]["naive"]["flag_rate"] > 0.5
        out["negative_control_flags_entangled"] = Claim(flags, (
            f"entangled: the naive regression finds a text effect on the page views, which the text cannot "
            f"cause at fixed popularity: {share('entangled', 'naive')}"))
        quiet = neg["settings"]["orthogonal"]["naive"]["flag_rate"] < quiet_line
        out["negative_control_quiet_orthogonal"] = Claim(quiet, (
            f"orthogonal: {share('orthogonal', 'naive')}, {'no more' if quiet else 'more'} than a 5% test's "
            "false alarms"))
        fixed = neg["settings"]["entangled"]["deconfounded"]["flag_rate"] < quiet_line
        out["negative_control_quiet_after_iv"] = Claim(fixed, (
            f"entangled, after the IV subtraction: {share('entangled', 'deconfounded')}, "
            f"{'no more' if fixed else 'more'} than a 5% test's false alarms"))
    return out
