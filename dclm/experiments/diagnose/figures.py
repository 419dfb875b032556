"""Chapter 6's figures, drawn from a run's result."""

from __future__ import annotations

import numpy as np

from dclm.experiments.diagnose.config import LAMBDA_RULES, REWARD_COLORS, REWARD_LABELS, RULE_LABELS


def figures(result) -> dict:
    """``canaries`` (uplift and interval per data set and reward), ``detection`` (hit and
    false-alarm rates), ``lambda_rules``, ``canary_by_lambda``, ``limits_exclusion``,
    ``limits_additivity`` and ``limits_weak``."""
    from dclm import viz

    m = result.metrics
    labels, values, intervals, colours = [], [], [], []
    for dataset, rewards in m["canary"].items():
        for reward, row in rewards.items():
            labels.append(f"{dataset}: {REWARD_LABELS[reward]}" + (" *" if row["flagged"] else ""))
            values.append(row["uplift"])
            intervals.append([row["low"], row["high"]])
            colours.append(REWARD_COLORS[reward])
    det = m["detection"]["by_family"]
    families = list(det)

    def rate_se(rate, count):
        return (rate, None if rate is None or not count else float(np.sqrt(rate * (1 - rate) / count)))

    rules = m["lambda_rule"]
    ex, add, weak = m["limits"]["exclusion"], m["limits"]["additivity"], m["limits"]["weak"]
    by_lambda = m["upworthy_by_lambda"]
    return {
        "canaries": viz.dot_whisker(
            labels, values, intervals, truth=0.0, color_name=colours,
            xlabel="reward paid to the canary (reward SDs; 95% interval across canary seeds)",
            title="Canary uplift per data set and reward model (* flagged)", width=7.4, row_height=0.34,
            label_size=8, truth_label="no uplift (0)"),
        "detection": viz.grouped_rates(
            {"hit rate (confounded rewards)": {f: rate_se(det[f]["hit_rate"], det[f]["n_confounded"])
                                               for f in families},
             "false-alarm rate (clean rewards)": {f: rate_se(det[f]["false_alarm_rate"], det[f]["n_clean"])
                                                  for f in families}},
            None, ylabel="share of rewards flagged", title="How often the canary test flags a reward",
            colors={"hit rate (confounded rewards)": "naive", "false-alarm rate (clean rewards)": "oracle"}),
        "lambda_rules": viz.dot_whisker(
            [RULE_LABELS[r] for r in LAMBDA_RULES], [rules[r]["auc_cost"] for r in LAMBDA_RULES],
            [[rules[r]["low"], rules[r]["high"]] for r in LAMBDA_RULES], truth=0.0,
            color_name=["validation", "iv", "feature"],
            xlabel=f"test AUC lost against the test-optimal lambda (95% interval over {len(rules['split_seeds'])} "
                   "split seeds)", title="Choosing lambda from observational data: three rules",
            width=8.4, row_height=0.5, truth_label="no loss (0)"),
        "canary_by_lambda": viz.band_lines(
            by_lambda["lambda"], {"canary uplift of the observational ridge": (
                by_lambda["uplift"], by_lambda["low"], by_lambda["high"], "naive")},
            xlabel="ridge penalty lambda (log scale)", ylabel="canary uplift (reward SDs)",
            title="Upworthy: canary uplift of the observational ridge by penalty", logx=True, zero=True),
        "limits_exclusion": viz.band_lines(
            ex["delta"], {f"instrument strength {a}": (
                ex["bias"][a], *_band(ex["bias"][a], ex["bias_se"][a]), colour)
                for a, colour in zip(ex["bias"], ("naive", "iv"), strict=False)},
            xlabel="direct effect of the instrument on y, delta (outcome units per SD of Z)",
            ylabel="bias of the IV estimate of beta", title="Exclusion violated: IV bias against delta", zero=True),
        "limits_additivity": viz.band_lines(
            add["gamma"], {"beta-hat minus beta": (add["beta_bias"], *_band(add["beta_bias"], add["beta_bias_se"]),
                                                   "iv"),
                           "what y-tilde pays a good text per SD of popularity": (
                               add["payoff_good_text"], *_band(add["payoff_good_text"],
                                                               add["payoff_good_text_se"]), "naive")},
            xlabel="interaction gamma: y gains gamma * s(T) * p", ylabel="outcome units",
            title="Additivity violated: what the deconfounded outcome still pays", zero=True),
        "limits_weak": viz.band_lines(
            weak["first_stage_f"], {"IV estimate (median, 5-95% of draws)": (
                weak["median_bias"], weak["low"], weak["high"], "iv"),
                "OLS estimate (mean)": (weak["ols_bias"], weak["ols_bias"], weak["ols_bias"], "naive")},
            xlabel="first-stage F (log scale)", ylabel="estimate of beta minus beta",
            title="Weak instrument: spread of beta-hat against first-stage F", logx=True, zero=True),
    } | _no_instrument_figures(m)


def _no_instrument_figures(m: dict) -> dict:
    """``sensitivity`` (the contour of bias-adjusted estimates) and ``conley`` (the union of
    intervals per assumed range of the direct effect); none for runs that predate them."""
    from dclm import viz

    figs = {}
    sens, con = m.get("sensitivity"), m.get("conley")
    if sens:
        figs["sensitivity"] = viz.sensitivity_contour(
            sens["grid"], sens["contour"],
            {"popularity (known here only)": (sens["confounder_r2_dz"], sens["confounder_r2_yz"]),
             f"robustness value {sens['rv']:.2f}": (sens["rv"], sens["rv"])},
            title=f"Estimate of g ({sens['estimate']:.2f}) adjusted for a confounder of given strength")
    if con:
        ranges = list(con["bounds"])
        figs["conley"] = viz.dot_whisker(
            ["plain 2SLS (direct effect 0)" if g == "0" else f"direct effect in [0, {g}]" for g in ranges],
            [con["bounds"][g]["estimate_at_0"] for g in ranges],
            [[con["bounds"][g]["low"], con["bounds"][g]["high"]] for g in ranges], truth=con["beta"],
            color_name=["naive" if g == "0" else "iv" for g in ranges],
            xlabel=f"beta: the union of 95% 2SLS intervals (one draw; true direct effect {con['delta']:g})",
            title="Plausibly exogenous bounds on beta, by the direct effects allowed",
            truth_label=f"true beta ({con['beta']:g})", width=7.6)
    return figs


def _band(values, ses) -> tuple[list[float], list[float]]:
    values, ses = np.asarray(values, dtype=float), np.asarray(ses, dtype=float)
    return (values - 1.96 * ses).tolist(), (values + 1.96 * ses).tolist()


def explore_exclusion(result, delta: float = 0.0):
    """Chapter 6's slider: the bias of the IV estimate of beta read at one exclusion violation
    delta (a direct Z -> y effect), for each instrument strength of the limits study."""
    from dclm import viz

    ex = result.metrics["limits"]["exclusion"]
    strengths = list(ex["bias"])
    colours = dict(zip(strengths, ("naive", "iv", "feature", "invariant"), strict=False))
    return viz.lines(
        ex["delta"], {colours[a]: ex["bias"][a] for a in strengths},
        labels={colours[a]: f"bias of beta_IV, instrument strength {a}" for a in strengths},
        xlabel="delta: direct effect of Z on y (exclusion violation)", ylabel="bias of beta_IV (mean over draws)",
        title=f"Exclusion violations and the IV estimate (marked: delta = {delta:g})", at=delta)
