"""Chapter 3's ĥ estimators, the pair balance and the paired test across training seeds."""

import numpy as np
import pandas as pd
import pytest

from dclm.experiments.monday import adjust_scores, pair_balance, paired_p

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
