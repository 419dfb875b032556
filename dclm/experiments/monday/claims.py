"""Chapter 3's comparative sentences, computed from a run's metrics."""

from __future__ import annotations

import numpy as np

from dclm.claims import Claim, greater
from dclm.experiments.monday.summary import paired_values
from dclm.stats import seed_interval

# The claims chapter 3's lesson rests on (the experiment test asserts they hold on the tiny run).
LESSON = ("dpo_raises_monday_share", "dpo_lowers_friday", "deconfounded_below_dpo", "deconfounded_share_close_to_sft",
          "raw_balance_monday", "raw_balance_friday", "dose_amplification_grows", "dose_at_rerun_balance")


def claims(metrics: dict, data: dict | None = None) -> dict[str, Claim]:
    """The chapter's comparative sentences (:class:`dclm.claims.Claim`), computed from the run.

    Paired across training seeds. ``raw_balance_*`` hold when raw pairs favour the Monday
    marker and disfavour the Friday one, ``deconfounded_balance_*`` when the interval holds 0;
    ``deconfounded_share_close_to_sft`` is the acceptance: within 2 seed-level SEs of the
    paired difference and not significantly below SFT.
    ``data`` is not needed (the signature every experiment's ``claims`` has).
    """
    runs = metrics["per_seed"]

    def compare(a, b, key, a_label, b_label, quantity):
        x, y = paired_values(runs[a][key], runs[b][key])
        return greater(x, y, a_label, b_label, quantity, unit="training seeds")

    out = {
        "dpo_raises_monday_share": compare("dpo", "sft", "monday_share", "DPO", "SFT", "Monday share"),
        "dpo_lowers_friday": compare("sft", "dpo", "friday", "SFT", "DPO", "'Friday' rate"),
        "dpo_raises_monday": compare("dpo", "sft", "monday", "DPO", "SFT", "'Monday' rate"),
        "deconfounded_below_dpo": compare("dpo", "dpo_deconfounded", "monday_share", "DPO", "deconfounded DPO",
                                          "Monday share"),
    }
    x, y = paired_values(runs["dpo_deconfounded"]["monday_share"], runs["sft"]["monday_share"])
    diff = np.asarray(x) - np.asarray(y)
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
    low, high = seed_interval(diff)
    close = bool(len(diff) > 1 and abs(diff.mean()) <= 2 * se and high >= 0)
    out["deconfounded_share_close_to_sft"] = Claim(close, (
        f"deconfounded DPO's Monday share ({np.mean(x):.2f}) is "
        + ("within" if abs(diff.mean()) <= 2 * se else "more than")
        + f" two seed-level SEs of SFT's ({np.mean(y):.2f}; paired difference {diff.mean():+.2f}, "
          f"95% interval {low:+.2f} to {high:+.2f} over {len(diff)} training seeds)"))
    rows = metrics["dose"]["rows"]
    weakest, strongest = rows[1], rows[-1]  # the smallest dose above the deconfounded pairs; the raw pairs
    x, y = paired_values(strongest["amplification"], weakest["amplification"])
    low, high = seed_interval(np.asarray(x) - np.asarray(y))
    grows = bool(len(x) > 1 and low > 0)
    out["dose_amplification_grows"] = Claim(grows, (
        "DPO raises the Monday share " + ("more" if grows else "not distinguishably more")
        + f" on the raw pairs (κ = {strongest['strength']:g}: {np.mean(x):+.2f} over SFT) than on the pairs with "
          f"κ = {weakest['strength']:g} ({np.mean(y):+.2f}; paired difference 95% interval {low:+.2f} to "
          f"{high:+.2f} over {len(x)} training seeds)"))
    nearest = min(rows, key=lambda row: abs(row["balance"] - metrics["dose"]["rerun_balance"]))
    if nearest["low"] is None:
        verdict = "has too few seeds with a Monday share for an interval"
    else:
        verdict = ("raises" if nearest["low"] > 0 else "lowers" if nearest["high"] < 0 else
                   "does not distinguishably change")
        verdict += (f" the Monday share (DPO minus SFT {nearest['mean']:+.2f}, 95% interval "
                    f"{nearest['low']:+.2f} to {nearest['high']:+.2f} across training seeds)")
    out["dose_at_rerun_balance"] = Claim(nearest["low"] is not None and nearest["low"] <= 0 <= nearest["high"], (
        f"the pair set closest to the re-run's balance ({100 * metrics['dose']['rerun_balance']:+.1f} points) is "
        f"the one with κ = {nearest['strength']:g} ({100 * nearest['balance']:+.1f} points); DPO on it {verdict}"))
    # The lessons: raw pairs favour the Monday marker and disfavour the Friday one; in
    # deconfounded pairs neither interval excludes zero.
    expected = {("raw", "monday"): lambda b: b["low"] > 0, ("raw", "friday"): lambda b: b["high"] < 0}
    for kind in ("raw", "deconfounded"):
        for day, b in metrics["balance"][kind].items():
            lesson = expected.get((kind, day), lambda b: b["low"] <= 0 <= b["high"])
            out[f"{kind}_balance_{day}"] = Claim(bool(lesson(b)), (
                f"in {kind} pairs the '{day.capitalize()}' marker is "
                + ("more" if b["low"] > 0 else "less" if b["high"] < 0 else "neither more nor less")
                + f" often on the chosen side (chosen minus rejected {100 * b['diff']:+.1f} points, "
                  f"95% interval {100 * b['low']:+.1f} to {100 * b['high']:+.1f})"))
    return out
