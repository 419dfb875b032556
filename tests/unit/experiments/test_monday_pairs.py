"""Chapter 3's ĥ estimators, the pair balance and the paired test across training seeds."""

import numpy as np
import pandas as pd
import pytest

from dclm.experiments.monday import adjust_scores, pair_balance
from dclm.stats import paired_p, tost_paired

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _answers(seed=0, n_questions=3_000):
    """Answers whose weekday tracks their question's, and questions asked on Monday get more votes
    for every answer (a question-level effect): pooled weekday means mix the two."""
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(n_questions):
        q_day = int(rng.integers(7))
        q_votes = 3.0 if q_day == 0 else 0.0
        for a in range(int(rng.integers(2, 5))):
            day = q_day if rng.random() < 0.7 else int(rng.integers(7))
            effect = {0: 1.0, 4: -1.0}.get(day, 0.0)
            rows.append((q, 10 * q + a, DAYS[day], q_votes + effect + rng.normal()))
    return pd.DataFrame(rows, columns=["question_id", "answer_id", "weekday", "score"])


def _monday_minus_friday(frame, adjusted):
    gap = frame["score"] - adjusted
    return gap[frame["weekday"] == "Monday"].mean() - gap[frame["weekday"] == "Friday"].mean()


def test_within_question_recovers_the_answer_level_effect_pooled_does_not():
    frame = _answers()
    within = _monday_minus_friday(frame, adjust_scores(frame, "within_question"))
    pooled = _monday_minus_friday(frame, adjust_scores(frame, "pooled"))
    assert abs(within - 2.0) < 0.15  # true answer-level Monday - Friday effect: 2 votes
    assert pooled - 2.0 > 1.0  # absorbs the question-level votes of Monday questions


def test_adjusted_scores_keep_the_mean_and_reject_unknown_estimators():
    frame = _answers(n_questions=200)
    assert adjust_scores(frame).mean() == pytest.approx(frame["score"].mean())
    with pytest.raises(ValueError, match="h_estimator must be one of"):
        adjust_scores(frame, "fixed")


def test_pair_balance_counts_chosen_minus_rejected_with_an_interval():
    markers = pd.Series({1: "Monday", 2: "", 3: "Friday", 4: ""})
    pairs = pd.DataFrame({"question_id": [1, 1, 2, 2], "chosen_id": [1, 1, 2, 3], "rejected_id": [2, 4, 3, 4]})
    balance = pair_balance(pairs, markers, ("Monday", "Friday"))
    assert balance["monday"]["diff"] == pytest.approx(0.5)
    assert balance["friday"]["diff"] == pytest.approx(0.0)
    assert balance["monday"]["low"] < 0.5 < balance["monday"]["high"]


def test_paired_p_uses_the_pairing():
    sft = [0.50, 0.60, 0.55, 0.65]
    dpo = [v + 0.02 + 0.001 * k for k, v in enumerate(sft)]
    from scipy import stats

    assert paired_p(dpo, sft) < 0.001 < stats.ttest_ind(dpo, sft, equal_var=False).pvalue
    assert paired_p([0.5, None, 0.7], [0.4, 0.3, 0.5]) == pytest.approx(stats.ttest_rel([0.5, 0.7], [0.4, 0.5]).pvalue)
    assert paired_p([0.5, None], [0.4, 0.3]) is None


def _per_seed(dose_gain, raw_gain, deconf_gain, sft=(0.5, 0.55, 0.6, 0.52)):
    per_seed = [{"dose": {"0.5": {"monday_share": s + g}}} for s, g in zip(sft, dose_gain, strict=True)]
    runs = {"sft": {"monday_share": list(sft)},
            "dpo": {"monday_share": [s + g for s, g in zip(sft, raw_gain, strict=True)]},
            "dpo_deconfounded": {"monday_share": [s + g for s, g in zip(sft, deconf_gain, strict=True)]}}
    return per_seed, runs


def _balance(diff):
    return {"monday": {"diff": diff, "se": 0.003, "low": diff - 0.006, "high": diff + 0.006}}


SUMMARY = {"balance": {"raw": _balance(0.08), "deconfounded": _balance(0.003)}, "dose_balance": {"0.5": _balance(0.04)}}


def test_dose_response_orders_pair_sets_by_strength_and_pairs_each_seed_with_its_sft():
    from dclm.experiments.monday import dose_response

    per_seed, runs = _per_seed(dose_gain=[0.1, 0.12, 0.08, 0.1], raw_gain=[0.3, 0.35, 0.28, 0.3],
                               deconf_gain=[0.01, -0.02, 0.0, 0.01])
    dose = dose_response(per_seed, runs, SUMMARY)
    rows = dose["rows"]
    assert [r["strength"] for r in rows] == [0.0, 0.5, 1.0]
    assert [r["pairs"] for r in rows] == ["deconfounded", "dose", "raw"]
    assert np.allclose(rows[1]["amplification"], [0.1, 0.12, 0.08, 0.1])
    assert rows[2]["low"] < rows[2]["mean"] < rows[2]["high"] and rows[2]["low"] > 0
    assert abs(dose["rerun_balance"] - 71 / 11_886) < 1e-12


def test_dose_claims_follow_the_numbers():
    from dclm.experiments.monday import claims, dose_response

    def dose_claims(dose_gain, raw_gain, deconf_gain):
        per_seed, runs = _per_seed(dose_gain, raw_gain, deconf_gain)
        metrics = {"per_seed": {**runs, "dpo_deconfounded": runs["dpo_deconfounded"]},
                   "dose": dose_response(per_seed, runs, SUMMARY), "balance": {"raw": {}, "deconfounded": {}}}
        for model in ("dpo", "sft", "dpo_deconfounded"):
            metrics["per_seed"][model] = {"monday_share": runs[model]["monday_share"],
                                          "friday": [0.1] * 4, "monday": [0.1] * 4}
        metrics["equivalence"] = {"dpo_deconfounded": tost_paired(runs["dpo_deconfounded"]["monday_share"],
                                                                  runs["sft"]["monday_share"], margin=0.1)}
        return claims(metrics)

    grows = dose_claims([0.1, 0.12, 0.08, 0.1], [0.3, 0.35, 0.28, 0.3], [0.01, -0.02, 0.0, 0.01])
    assert grows["dose_amplification_grows"].holds
    # The deconfounded pairs sit at the re-run's imbalance, and DPO on them moves nothing clearly.
    assert not grows["dose_at_rerun_balance"].holds and "cannot tell" in grows["dose_at_rerun_balance"].text
    flat = dose_claims([0.3, 0.36, 0.27, 0.3], [0.3, 0.35, 0.28, 0.3], [0.1, 0.12, 0.09, 0.11])
    assert not flat["dose_amplification_grows"].holds
    assert flat["dose_at_rerun_balance"].holds  # the set nearest the re-run's balance amplifies
    assert "raises the Monday share" in flat["dose_at_rerun_balance"].text
    assert not flat["deconfounded_equivalent_to_sft"].holds


def test_dose_strengths_outside_zero_one_are_refused():
    from dclm.config import ConfigError
    from dclm.experiments.monday import Config

    with pytest.raises(ConfigError, match=r"dose_strengths=1\.5: each strength must be strictly between 0"):
        Config(dose_strengths=(1.5,))


def test_dosed_pairs_take_a_share_of_questions_from_the_raw_pairs_and_nest():
    from dclm.experiments.monday.data import dosed_pairs

    raw = pd.DataFrame({"question_id": np.repeat(np.arange(200), 2), "chosen_id": 1, "rejected_id": 2})
    deconfounded = pd.DataFrame({"question_id": np.arange(200), "chosen_id": 3, "rejected_id": 4})
    sets = dosed_pairs(raw, deconfounded, (0.05, 0.1, 0.5), seed=0)
    raw_questions = {k: set(v.loc[v["chosen_id"] == 1, "question_id"]) for k, v in sets.items()}
    assert [len(raw_questions[k]) for k in ("0.05", "0.1", "0.5")] == [10, 20, 100]
    assert raw_questions["0.05"] < raw_questions["0.1"] < raw_questions["0.5"]
    for key, pairs in sets.items():
        # Every question is in the set once over: from raw pairs (two each) or deconfounded ones (one).
        assert set(pairs["question_id"]) == set(range(200))
        assert len(pairs) == 200 + len(raw_questions[key])
    assert sets["0.1"].equals(dosed_pairs(raw, deconfounded, (0.1,), seed=0)["0.1"])
