"""Chapter 3's ablation claims and the sentences the page prints from them follow the numbers."""

import copy

import numpy as np
import pytest

from dclm.experiments.monday import readings
from dclm.stats import tost_paired

SFT = [0.55, 0.56, 0.54, 0.57]


def _metrics(**shares):
    """Per-seed Monday shares for SFT and the arms (defaults: the tiny run's pattern)."""
    values = {"sft": SFT, "dpo_plain": [0.95, 0.97, 0.94, 0.96], "dpo_anchored": [0.90, 0.88, 0.91, 0.89],
              "sft_chosen": [0.69, 0.70, 0.70, 0.69], "dpo_plain_deconfounded": [0.64, 0.89, 0.66, 0.55],
              "dpo_anchored_deconfounded": [0.57, 0.58, 0.55, 0.56], **shares}
    values["dpo"], values["dpo_deconfounded"] = values["dpo_anchored"], values["dpo_anchored_deconfounded"]
    per_seed = {name: {"monday_share": v, "monday": [0.2] * 4, "friday": [0.1] * 4} for name, v in values.items()}
    equivalence = {name: tost_paired(v, SFT, margin=0.1) for name, v in values.items() if name != "sft"}
    balance = {"diff": 0.004, "se": 0.003, "low": -0.002, "high": 0.011}
    return {"per_seed": per_seed, "equivalence": equivalence,
            "balance": {"raw": {}, "deconfounded": {"monday": balance}},
            "dose": {"rerun_balance": 71 / 11_886, "rows": [
                {"strength": 0.0, "balance": 0.004, "mean": 0.01, "low": -0.03, "high": 0.05,
                 "amplification": [0.03, -0.01, 0.02, 0.0]},
                {"strength": 1.0, "balance": 0.08, "mean": 0.35, "low": 0.3, "high": 0.4,
                 "amplification": [0.35, 0.33, 0.37, 0.35]}]}}


def test_ablation_claims_on_the_tiny_pattern():
    from dclm.experiments.monday.claims import ablation_claims

    found = ablation_claims(_metrics())
    assert found["plain_dpo_amplifies"].holds and "fell below SFT's on 0 of 4" in found["plain_dpo_amplifies"].text
    assert found["imitation_raises_monday_share"].holds
    assert found["contrast_beyond_imitation"].holds
    assert found["anchor_steadies_deconfounded"].holds
    assert found["plain_deconfounded_equivalent_to_sft"].holds is False
    assert readings.ablation_reading(_metrics()).startswith("Read together: plain DPO raises the Monday share")


def test_each_ablation_claim_flips_when_its_condition_is_broken():
    from dclm.experiments.monday.claims import ablation_claims

    reversed_plain = ablation_claims(_metrics(dpo_plain=[0.3, 0.2, 0.35, 0.25]))["plain_dpo_amplifies"]
    assert not reversed_plain.holds and "lowers" in reversed_plain.text and "4 of 4" in reversed_plain.text
    imitation_only = _metrics(dpo_anchored=[0.69, 0.71, 0.70, 0.68])
    assert not ablation_claims(imitation_only)["contrast_beyond_imitation"].holds
    assert "could account for" in readings.ablation_reading(imitation_only)
    wobbly = ablation_claims(_metrics(dpo_anchored_deconfounded=[0.3, 0.9, 0.5, 0.7]))
    assert not wobbly["anchor_steadies_deconfounded"].holds


def test_the_equivalence_sentence_says_what_the_test_allows():
    shown = readings.equivalence_reading(_metrics())
    assert shown.startswith("So the fix leaves the Monday share within ±0.10")
    noisy = readings.equivalence_reading(_metrics(dpo_anchored_deconfounded=[0.60, 0.75, 0.52, 0.66]))
    assert noisy.startswith("So this run cannot claim") and "beyond the ±0.10 margin" in noisy
    assert "a smaller move than DPO makes on raw pairs" in noisy


@pytest.mark.parametrize(("low", "high", "words"), [(-0.002, 0.011, "cannot be told from"),
                                                    (-0.01, 0.003, "lies below"), (0.01, 0.03, "lies above")])
def test_the_fix_scale_sentence_compares_the_interval_with_the_reruns_imbalance(low, high, words):
    m = _metrics()
    m["balance"]["deconfounded"]["monday"].update(low=low, high=high, diff=(low + high) / 2)
    assert words in readings.fix_scale_reading(m)


def test_the_rerun_scale_sentence_follows_the_nearby_pair_sets():
    m = _metrics()
    assert "cannot tell" in readings.rerun_scale_reading(m)
    resolved = copy.deepcopy(m)
    resolved["dose"]["rows"][0].update(mean=0.1, low=0.05, high=0.15)
    assert "enough for DPO to move" in readings.rerun_scale_reading(resolved)
    assert np.isclose(resolved["dose"]["rerun_balance"], 71 / 11_886)


def test_the_bracket_and_plain_clauses_follow_the_numbers():
    m = _metrics()
    m["rates"] = {"dpo_plain": {"monday_share": 0.96}}
    assert readings.plain_reach(m) == "plain DPO, with no anchor, takes it to 0.96"
    assert "did not train plain DPO" in readings.plain_reach({"rates": {}})
    # Rows at +0.4 and +8 points around the re-run's +0.6.
    assert "κ = 0 (+0.4 points) and κ = 1 (+8.0) bracket the re-run's +0.6 points" in readings.rerun_bracket(m)
    for row in m["dose"]["rows"]:
        row["balance"] += 0.01
    assert "lies above" in readings.rerun_bracket(m)
