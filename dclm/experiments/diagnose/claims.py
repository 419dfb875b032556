"""Chapter 6's comparative sentences, computed from a run's metrics (:class:`dclm.claims.Claim`)."""

from __future__ import annotations

import numpy as np

from dclm.claims import Claim
from dclm.experiments.diagnose.config import LAMBDA_RULES, REWARD_LABELS, RULE_LABELS
from dclm.experiments.diagnose.no_instrument import no_instrument_claims

# The claims chapter 6's prose builds on; each must hold on the tiny run.
LESSON = ("naive_entangled_flagged", "monday_raw_flagged", "monday_deconfounded_clear",
          "oracle_clear_orthogonal", "oracle_clear_entangled", "oracle_clear_proxy",
          "upworthy_observational_flagged", "upworthy_experimental_clear",
          "exclusion_bias_grows", "weak_instrument_spreads", "additivity_beta_unbiased",
          "additivity_still_pays", "sensitivity_survives_popularity", "sensitivity_bias_is_the_gap",
          "conley_covers_when_the_range_holds_delta", "plain_iv_undercovers_with_a_direct_effect",
          "negative_control_flags_entangled", "negative_control_quiet_orthogonal",
          "negative_control_quiet_after_iv")


def metrics_alpha(metrics: dict) -> float:
    """The canary tests' level (the run's config; 0.05 by default)."""
    return float(metrics.get("alpha", 0.05))


def claims(metrics: dict, data: dict | None = None) -> dict[str, Claim]:
    """The chapter's comparative sentences (:class:`dclm.claims.Claim`), computed from the run
    (``data`` is not needed; the signature is every experiment's).

    ``*_flagged`` hold when the canary test flags the reward (p < alpha and the seed interval
    above 0), ``*_clear`` when it does not; ``rule_<rule>`` when the rule's AUC is not below
    validation MSE's (paired over split seeds); ``exclusion_bias_grows`` when the IV bias at the
    largest δ exceeds the bias at δ = 0 by more than 3 Monte Carlo SEs at every strength.
    """
    canary = metrics["canary"]

    def verdict(dataset: str, reward: str, expect_flag: bool) -> Claim:
        row = canary[dataset][reward]
        words = "pays the canaries" if row["flagged"] else "does not pay the canaries more than random markers"
        return Claim(row["flagged"] == expect_flag, (
            f"the {REWARD_LABELS[reward]} reward {words} (uplift {row['uplift']:+.2f} reward SDs, 95% interval "
            f"{row['low']:+.2f} to {row['high']:+.2f}, permutation p = {row['p']:.3f})"))

    out = {"naive_entangled_flagged": verdict("deconfound_entangled", "naive", True),
           "monday_raw_flagged": verdict("monday", "raw", True),
           "monday_deconfounded_clear": verdict("monday", "deconfounded", False),
           "upworthy_observational_flagged": verdict("upworthy", "observational", True),
           "upworthy_experimental_clear": verdict("upworthy", "experimental", False)}
    for dataset in canary:
        if dataset.startswith("deconfound_"):
            out[f"oracle_clear_{dataset.removeprefix('deconfound_')}"] = verdict(dataset, "oracle", False)
            out[f"iv_clear_{dataset.removeprefix('deconfound_')}"] = verdict(dataset, "iv", False)
    rules = metrics["lambda_rule"]
    for rule in LAMBDA_RULES[1:]:
        d = rules[rule]["vs_validation_mse"]
        relation = ("higher than" if d["low"] > 0 else "lower than" if d["high"] < 0
                    else "not distinguishable from")
        out[f"rule_{rule}"] = Claim(d["high"] >= 0, (
            f"choosing lambda by {RULE_LABELS[rule]} gives a test AUC {relation} validation MSE's "
            f"(paired difference {d['diff']:+.3f}, 95% interval {d['low']:+.3f} to {d['high']:+.3f} over "
            f"{len(rules['split_seeds'])} split seeds)"))
    by_lambda = metrics["upworthy_by_lambda"]
    shrinks = by_lambda["uplift"][-1] < by_lambda["uplift"][0]
    flagged_all = sum(p < metrics_alpha(metrics) and lo > 0 for p, lo in zip(by_lambda["p"], by_lambda["low"],
                                                                              strict=True))
    out["canary_shrinks_with_lambda"] = Claim(shrinks, (
        f"the observational ridge's canary uplift {'falls' if shrinks else 'does not fall'} from "
        f"{by_lambda['uplift'][0]:+.2f} at lambda = {by_lambda['lambda'][0]:g} to {by_lambda['uplift'][-1]:+.2f} "
        f"at lambda = {by_lambda['lambda'][-1]:,.0f}, and is flagged at {flagged_all} of {len(by_lambda['lambda'])} "
        "penalties"))
    ex = metrics["limits"]["exclusion"]
    grows = all(ex["bias"][a][-1] - ex["bias"][a][0] > 3 * np.hypot(ex["bias_se"][a][-1], ex["bias_se"][a][0])
                for a in ex["bias"])
    weakest, strongest = min(ex["bias"], key=float), max(ex["bias"], key=float)
    out["exclusion_bias_grows"] = Claim(grows, (
        f"a direct effect of delta = {ex['delta'][-1]:g} biases the IV estimate of beta by "
        f"{ex['bias'][strongest][-1]:+.2f} with instrument strength {strongest} and by "
        f"{ex['bias'][weakest][-1]:+.2f} with strength {weakest}"))
    add = metrics["limits"]["additivity"]
    unbiased = abs(add["beta_bias"][-1]) <= 3 * add["beta_bias_se"][-1]
    out["additivity_beta_unbiased"] = Claim(unbiased, (
        f"at gamma = {add['gamma'][-1]:g} the IV estimate of beta is "
        + ("still centred on the truth" if unbiased else "biased")
        + f" (bias {add['beta_bias'][-1]:+.3f}, Monte Carlo SE {add['beta_bias_se'][-1]:.3f})"))
    pays = add["payoff_good_text"][-1] > 3 * add["payoff_good_text_se"][-1]
    out["additivity_still_pays"] = Claim(pays, (
        f"the deconfounded outcome {'still pays' if pays else 'no longer pays'} a good text (s = +1) "
        f"{add['payoff_good_text'][-1]:+.2f} outcome units per SD of popularity at gamma = {add['gamma'][-1]:g}"))
    weak = metrics["limits"]["weak"]
    spread = [h - lo for lo, h in zip(weak["low"], weak["high"], strict=True)]
    out["weak_instrument_spreads"] = Claim(spread[0] > spread[-1], (
        f"the 5-95% range of beta-hat is {spread[0]:.2f} wide at first-stage F {weak['first_stage_f'][0]:.1f} "
        f"and {spread[-1]:.2f} wide at F {weak['first_stage_f'][-1]:.0f}"))
    out.update(no_instrument_claims(metrics))
    return out
