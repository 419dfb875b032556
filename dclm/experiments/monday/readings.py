"""Chapter 3's sentences that read its claims together: what the page may conclude from a run.

Each returns prose computed from the run's metrics (through :mod:`dclm.experiments.monday.claims`),
so a sentence that interprets numbers cannot outlive them.
"""

from __future__ import annotations

from dclm.experiments.monday.claims import ablation_claims, claims, rerun_balance_claim


def plain_reach(metrics: dict) -> str:
    """The chapter's clause on where plain DPO takes the Monday share (or that it was not trained)."""
    if "dpo_plain" not in metrics["rates"]:
        return "this run did not train plain DPO (`ablations` is off)"
    return f"plain DPO, with no anchor, takes it to {metrics['rates']['dpo_plain']['monday_share']:.2f}"

def equivalence_reading(metrics: dict) -> str:
    """The chapter's sentence on what the equivalence test of deconfounded DPO allows it to say."""
    tost = metrics["equivalence"]["dpo_deconfounded"]
    if tost["equivalent"]:
        return (f"So the fix leaves the Monday share within ±{tost['margin']:.2f} of where SFT had it: the "
                "deconfounded pairs give DPO nothing about the weekday that it turns into a change that size.")
    if tost["low"] is None:
        return "With fewer than two training seeds naming a day, no interval can be computed."
    edge = tost["high"] if abs(tost["high"]) >= abs(tost["low"]) else tost["low"]
    smaller = claims(metrics)["deconfounded_below_dpo"].holds
    shown = ("What it does show, in the first line, is a smaller move than DPO makes on raw pairs."
             if smaller else "Nor is the move shown to be smaller than DPO's on raw pairs.")
    return (f"So this run cannot claim that the fix leaves the Monday share where SFT had it: the 90% interval "
            f"reaches {edge:+.2f}, beyond the ±{tost['margin']:.2f} margin. {shown} More training seeds narrow "
            f"the interval (`--set training_seeds=8`); a wider margin chosen now would only move the goalposts.")

def ablation_reading(metrics: dict) -> str:
    """The chapter's reading of the ablation arms, from their claims (empty without the arms)."""
    if "dpo_plain" not in metrics["per_seed"]:
        return "This run did not train the ablation arms (`ablations` is off)."
    found = ablation_claims(metrics)
    plain = ("plain DPO raises the Monday share on the tiny model too, so the shift is DPO's, not only the "
             "anchor's" if found["plain_dpo_amplifies"].holds else
             "plain DPO does not distinguishably raise the Monday share on the tiny model, so this page's "
             "\"DPO amplifies\" is a statement about anchored DPO")
    contrast = ("anchored DPO moves the share further than imitating the chosen answers alone, so the contrast "
                "between chosen and rejected answers adds to what imitation does"
                if found["contrast_beyond_imitation"].holds else
                "anchored DPO does not move the share distinguishably further than imitating the chosen answers "
                "alone, so on this run imitation of the chosen answers could account for its amplification")
    steady = ("On deconfounded pairs the training seeds land closer together with the anchor than without it, "
              "the drift it was added against, though two spreads of a few seeds are a weak comparison."
              if found["anchor_steadies_deconfounded"].holds else
              "On deconfounded pairs the anchor does not keep the training seeds closer together on this run.")
    return f"Read together: {plain}; {contrast}. {steady}"

def rerun_bracket(metrics: dict) -> str:
    """The chapter's clause naming the two pair sets whose Monday balance brackets the re-run's."""
    target, rows = metrics["dose"]["rerun_balance"], metrics["dose"]["rows"]
    below = [r for r in rows if r["balance"] <= target]
    above = [r for r in rows if r["balance"] > target]
    points = f"the re-run's {100 * target:+.1f} points"
    if not below or not above:
        side = "above" if not below else "below"
        return f"every pool's Monday balance lies {side} {points}"
    low, high = max(below, key=lambda r: r["balance"]), min(above, key=lambda r: r["balance"])
    return (f"the pools at κ = {low['strength']:g} ({100 * low['balance']:+.1f} points) and κ = "
            f"{high['strength']:g} ({100 * high['balance']:+.1f}) bracket {points}")


def rerun_scale_reading(metrics: dict) -> str:
    """The chapter's sentence on whether this build can see amplification at the re-run's imbalance."""
    if rerun_balance_claim(metrics).holds:
        return ("An imbalance as small as the re-run's is enough for DPO to move the Monday share here too, as it "
                "did for the re-run's 360M model.")
    return ("At that scale this build cannot tell: its seeds scatter more than an imbalance that small moves "
            "them, so it cannot separate a pool with the re-run's imbalance from a deconfounded one.")

def fix_scale_reading(metrics: dict) -> str:
    """The chapter's sentence comparing what the fix leaves in the pairs with the re-run's raw imbalance."""
    b, target = metrics["balance"]["deconfounded"]["monday"], metrics["dose"]["rerun_balance"]
    left = (f"the deconfounded pairs' Monday balance ({100 * b['diff']:+.1f} points, 95% interval "
            f"{100 * b['low']:+.1f} to {100 * b['high']:+.1f})")
    rerun = f"the re-run's raw imbalance ({100 * target:+.1f} points)"
    if b["low"] <= target <= b["high"]:
        return f"{left} cannot be told from {rerun}, so a real model might still amplify what the fix leaves"
    if b["high"] < target:
        return f"{left} lies below {rerun}: the fix leaves less than what the real model amplified"
    return f"{left} lies above {rerun}: the fix leaves more than what the real model amplified"
