"""Chapter 3's comparative sentences, computed from a run's metrics."""

from __future__ import annotations

import numpy as np

from dclm.claims import Claim, greater
from dclm.experiments.monday.summary import paired_values
from dclm.stats import seed_interval

# The claims chapter 3's lesson rests on (the experiment test asserts they hold on the tiny run).
LESSON = ("dpo_raises_monday_share", "dpo_lowers_friday", "deconfounded_below_dpo", "raw_balance_monday",
          "raw_balance_friday", "dose_amplification_grows", "plain_dpo_amplifies", "contrast_beyond_imitation")


def claims(metrics: dict, data: dict | None = None) -> dict[str, Claim]:
    """The chapter's comparative sentences (:class:`dclm.claims.Claim`), computed from the run.

    Paired across training seeds. ``raw_balance_*`` hold when raw pairs favour the Monday
    marker and disfavour the Friday one, ``deconfounded_balance_*`` when the interval holds 0;
    ``deconfounded_equivalent_to_sft`` when a TOST shows deconfounded DPO's Monday share within
    the run's equivalence margin of SFT's; ``dose_at_rerun_balance`` when the run resolves DPO's
    amplification at the re-run's imbalance. With the ablation arms, :func:`ablation_claims` too.
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
    out["deconfounded_equivalent_to_sft"] = equivalence_claim(metrics, "dpo_deconfounded", "deconfounded DPO")
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
    out["dose_at_rerun_balance"] = rerun_balance_claim(metrics)
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
    if "dpo_plain" in runs:
        out.update(ablation_claims(metrics))
    return out


def equivalence_claim(metrics: dict, model: str, label: str) -> Claim:
    """Whether ``model`` leaves the Monday share where SFT had it: a paired TOST at the run's
    margin (``metrics["equivalence"]``); not rejecting a difference would not be evidence of none."""
    tost = metrics["equivalence"][model]
    if tost["low"] is None:
        return Claim(False, f"the Monday share of {label} cannot be tested for equivalence with SFT's "
                            f"({tost['n']} training seeds with a Monday share)")
    verdict = "stays" if tost["equivalent"] else "is not shown to stay"
    return Claim(tost["equivalent"], (
        f"the Monday share of {label} {verdict} within ±{tost['margin']:.2f} of SFT's (TOST: paired difference "
        f"{tost['mean']:+.2f}, 90% interval {tost['low']:+.2f} to {tost['high']:+.2f} over {tost['n']} training "
        f"seeds, p = {tost['p']:.2g})"))


# Pair sets within this many shares of the re-run's Monday imbalance stand in for its scale.
NEAR_RERUN = 0.005


def rerun_balance_claim(metrics: dict) -> Claim:
    """Whether this run resolves DPO's amplification at an imbalance as small as the re-run's
    (+0.6 points): holds when a pair set within :data:`NEAR_RERUN` of it has an amplification
    interval above 0. The text says which pair sets are that close and what DPO did on each."""
    target = metrics["dose"]["rerun_balance"]
    rows = [row for row in metrics["dose"]["rows"] if abs(row["balance"] - target) <= NEAR_RERUN]
    head = f"pair sets with about the re-run's Monday imbalance ({100 * target:+.1f} points)"
    if not rows:
        return Claim(False, f"no {head} are in this run")
    described, resolved = [], False
    for row in rows:
        if row["low"] is None:
            described.append(f"κ = {row['strength']:g} has too few seeds with a Monday share")
            continue
        resolved = resolved or row["low"] > 0
        verdict = "raises" if row["low"] > 0 else "lowers" if row["high"] < 0 else "does not distinguishably change"
        described.append(f"at κ = {row['strength']:g} ({100 * row['balance']:+.1f} points) DPO {verdict} the "
                         f"Monday share ({row['mean']:+.2f} over SFT, 95% interval {row['low']:+.2f} to "
                         f"{row['high']:+.2f})")
    summary = ("this run resolves DPO's amplification there" if resolved else
               "this run cannot tell whether DPO amplifies an imbalance that small")
    return Claim(resolved, f"{summary}: " + "; ".join(described))


def ablation_claims(metrics: dict) -> dict[str, Claim]:
    """What the arms separate (present when the run trained them): plain DPO's effect and how
    often it reverses, imitation of the chosen answers alone, DPO's contrast beyond that
    imitation, and the anchor's hold on deconfounded pairs."""
    runs = metrics["per_seed"]

    def compare(a, b, a_label, b_label):
        x, y = paired_values(runs[a]["monday_share"], runs[b]["monday_share"])
        return greater(x, y, a_label, b_label, "Monday share", unit="training seeds")

    out = {}
    x, y = paired_values(runs["dpo_plain"]["monday_share"], runs["sft"]["monday_share"])
    gain = np.asarray(x) - np.asarray(y)
    low, high = seed_interval(gain)
    verdict = ("raises" if low > 0 else "lowers" if high < 0 else "does not distinguishably change")
    rates = []
    for key, word in (("monday", "'Monday'"), ("friday", "'Friday'")):
        a, b = paired_values(runs["dpo_plain"][key], runs["sft"][key])
        lo, hi = seed_interval(np.asarray(a) - np.asarray(b))
        rates.append(f"{word} rate {np.mean(a) - np.mean(b):+.2f}, interval {lo:+.2f} to {hi:+.2f}")
    out["plain_dpo_amplifies"] = Claim(bool(low > 0), (
        f"plain DPO on raw pairs {verdict} the Monday share (SFT {np.mean(y):.2f} to {np.mean(x):.2f}; paired "
        f"difference 95% interval {low:+.2f} to {high:+.2f}; {'; '.join(rates)}); its share fell below SFT's "
        f"on {int((gain < 0).sum())} of {len(gain)} training seeds"))
    out["anchor_tempers_raw"] = compare("dpo_plain", "dpo_anchored", "plain DPO", "anchored DPO")
    out["imitation_raises_monday_share"] = compare("sft_chosen", "sft", "chosen-only SFT", "SFT")
    out["contrast_beyond_imitation"] = compare("dpo_anchored", "sft_chosen", "anchored DPO", "chosen-only SFT")
    spread = {name: float(np.std([v for v in runs[name]["monday_share"] if v is not None], ddof=1))
              for name in ("dpo_plain_deconfounded", "dpo_anchored_deconfounded")}
    steadier = spread["dpo_anchored_deconfounded"] < spread["dpo_plain_deconfounded"]
    out["anchor_steadies_deconfounded"] = Claim(steadier, (
        f"on deconfounded pairs the Monday share varies {'less' if steadier else 'no less'} across training seeds "
        f"with the anchor (SD {spread['dpo_anchored_deconfounded']:.2f}) than without it (plain DPO: SD "
        f"{spread['dpo_plain_deconfounded']:.2f}; two SDs of a few seeds each, compared without a test)"))
    out["plain_deconfounded_equivalent_to_sft"] = equivalence_claim(metrics, "dpo_plain_deconfounded",
                                                                    "plain DPO on deconfounded pairs")
    return out
