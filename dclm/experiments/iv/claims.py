"""Chapter 2's comparative sentences, computed from a run's metrics and Monte Carlo draws."""

from __future__ import annotations

import numpy as np

from dclm.causal.weakiv import MOP_CRITICAL_VALUE_K1
from dclm.claims import Claim
from dclm.experiments.iv.config import MECHANISMS

# The claims chapter 2's lesson rests on (the experiment test asserts they hold).
LESSON = ("ols_entangled", "iv_entangled", "ols_orthogonal", "iv_orthogonal",
          *(f"{estimator}_g_{case}" for case in MECHANISMS for estimator in ("naive", "adjusted", "iv")),
          "other_arrow", "weak_towards_ols", "violation_relevance_noisy", "violation_exclusion",
          "violation_independence", "fan_interest_bias_formula", "violation_selection",
          "selection_harmless_orthogonal", "ar_coverage_holds", "t_undercovers_weak",
          "card_reproduced", "card_ols_inside_iv_interval")


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
    for label, key in (("exclusion: fans click beside exposure (Z -> y)", "violation_exclusion"), ("independence: Z -> s(T)", "violation_independence")):
        broken = data["violations"][label]
        shifted = off_target(broken["draws"], truth, f"2SLS with {label.split(':')[0]} broken")
        out[key] = Claim(shifted.holds and broken["median_f"] > 10,
                         f"{shifted.text}, while its median first-stage F is {broken['median_f']:.0f}")
    fan = np.asarray(data["violations"]["exclusion: fans click beside exposure (Z -> y)"]["draws"]) - truth
    expected = metrics["fan_interest_expected_bias"]
    fan_se = float(fan.std(ddof=1) / np.sqrt(len(fan)))
    out["fan_interest_bias_formula"] = Claim(abs(fan.mean() - expected) <= 3 * fan_se, (
        f"the mean bias is {fan.mean():+.3f} (Monte Carlo SE {fan_se:.3f}); the formula delta over the "
        f"first-stage slope gives {expected:+.3f}"))
    selected = data["violations"]["selection on exposure (text moves p)"]
    shifted = off_target(selected["draws"], truth, "2SLS on the shown half of the headlines")
    out["violation_selection"] = Claim(shifted.holds and selected["median_f"] > 10,
                                       f"{shifted.text}, while its median first-stage F is {selected['median_f']:.0f}")
    out["selection_harmless_orthogonal"] = on_target(
        data["violations"]["selection on exposure (p not moved by the text)"]["draws"], truth,
        "2SLS on the shown half when the text does not move exposure")
    cov = metrics["coverage"]
    mc_se = float(np.sqrt(0.95 * 0.05 / cov["reps"]))
    worst = int(np.argmax(np.abs(np.subtract(cov["ar_coverage"], 0.95))))
    out["ar_coverage_holds"] = Claim(
        bool(np.all(np.abs(np.subtract(cov["ar_coverage"], 0.95)) <= 3 * mc_se)),
        f"the Anderson-Rubin set covers the truth in {min(cov['ar_coverage']):.1%} to {max(cov['ar_coverage']):.1%} "
        f"of draws at every strength (Monte Carlo SE {mc_se:.1%}; farthest from 95% at median F "
        f"{cov['median_f'][worst]:.1f})")
    out["t_undercovers_weak"] = Claim(cov["t_coverage"][0] < 0.95 - 3 * mc_se, (
        f"the t interval covers it in {cov['t_coverage'][0]:.1%} of draws at median F {cov['median_f'][0]:.1f} "
        f"and {cov['t_coverage'][-1]:.1%} at F {cov['median_f'][-1]:.0f}"))
    out.update(card_claims(metrics["card"]))
    return out


def card_claims(card: dict) -> dict[str, Claim]:
    """Card (1995): the reproduction, and how the IV estimate stands to OLS."""
    from dclm.experiments.iv.textbook import printed_matches

    missed = [key for key, same in printed_matches(card, card["published"]).items() if not same]
    low, high = card["iv_ci"]
    ar = card["ar_set"]
    ar_excludes_zero = ar["kind"] == "interval" and all(lo > 0 for lo, _ in ar["pieces"])
    return {
        "card_reproduced": Claim(not missed, (
            f"2SLS {card['iv']:.3f} (SE {card['iv_se']:.3f}), OLS {card['ols']:.3f} (SE {card['ols_se']:.3f}), "
            f"first stage {card['first_stage']:.3f} (SE {card['first_stage_se']:.3f}) on n = {card['n']:,d}: "
            + ("every printed figure matches" if not missed else f"differs from the book in {', '.join(missed)}"))),
        "card_iv_above_ols": Claim(card["iv"] > card["ols"], (
            f"the 2SLS estimate {card['iv']:.3f} is {card['iv_over_ols']:.2f} times OLS's {card['ols']:.3f}")),
        "card_ols_inside_iv_interval": Claim(low <= card["ols"] <= high, (
            f"OLS's {card['ols']:.3f} lies {'inside' if low <= card['ols'] <= high else 'outside'} the 2SLS "
            f"95% interval [{low:.3f}, {high:.3f}]")),
        "card_iv_equals_ols_not_rejected": Claim(abs(card["hausman_t"]) < 1.96, (
            f"Hausman's t for IV = OLS is {card['hausman_t']:.2f}, so at 5% these data "
            f"{'do not reject' if abs(card['hausman_t']) < 1.96 else 'reject'} that the two estimate the same number")),
        "card_ar_excludes_zero": Claim(ar_excludes_zero, (
            f"the set {card['ar_text']} "
            + ("is an interval above zero, so even an instrument this weak says schooling raises wages"
               if ar_excludes_zero else "does not exclude zero, so these data cannot sign the return"))),
        "card_below_mop": Claim(card["effective_f"] < MOP_CRITICAL_VALUE_K1, (
            f"the effective F of {card['effective_f']:.1f} is "
            f"{'below' if card['effective_f'] < MOP_CRITICAL_VALUE_K1 else 'above'} the "
            f"{MOP_CRITICAL_VALUE_K1:.1f} that Montiel Olea and Pflueger's test asks for")),
    }
