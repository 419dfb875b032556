"""Chapter 3's ĥ(weekday) on a real dump: answer lag moves with the weekday inside a question, and
the lag control removes what it adds."""

import numpy as np
import pandas as pd
import pytest

from dclm.experiments.monday.realdump import control_change, lag_reading, lag_study, weekday_effects


def _dump(seed=0, n_questions=4_000):
    """Questions asked on a Monday get quick answers, and quick answers collect more votes; the
    weekday itself adds nothing to any score."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")  # a Monday
    questions, answers = [], []
    for q in range(n_questions):
        asked = start + pd.Timedelta(days=int(rng.integers(0, 7 * 50)), hours=float(rng.uniform(0, 24)))
        questions.append((q, asked))
        # Answers to a question asked early in the week come within hours; others within days.
        scale = 3.0 if asked.day_name() in ("Monday", "Tuesday") else 60.0
        for a in range(int(rng.integers(2, 5))):
            lag = float(rng.exponential(scale))
            created = asked + pd.Timedelta(hours=lag)
            answers.append((10 * q + a, q, created, 5.0 - 1.0 * np.log1p(lag) + rng.normal()))
    q = pd.DataFrame(questions, columns=["question_id", "created_at"])
    a = pd.DataFrame(answers, columns=["answer_id", "question_id", "created_at", "score"])
    a["weekday"] = a["created_at"].dt.day_name()
    return q, a


def test_without_the_lag_control_quick_weekdays_look_better_and_with_it_no_weekday_does():
    questions, answers = _dump()
    naive = weekday_effects(questions, answers)
    controlled = weekday_effects(questions, answers, ("lag",))
    # Within a question, the answers posted the same day as an early-week question are the quick ones.
    assert (naive["effect"].abs() / naive["se"]).max() > 4
    z = controlled["effect"] / controlled["se"]
    assert (z.abs() < 3.5).all(), z.round(2).to_dict()
    assert abs(controlled["effect"] @ controlled["n"]) < 1e-6 * controlled["n"].sum()  # centred on the answers


def test_the_clustered_se_matches_the_spread_over_fresh_dumps():
    estimates, ses = [], []
    for seed in range(30):
        out = weekday_effects(*_dump(seed, n_questions=600), ("lag", "order"))
        estimates.append(out.loc["Monday", "effect"])
        ses.append(out.loc["Monday", "se"])
    spread, typical = np.std(estimates, ddof=1), np.mean(ses)
    # With 30 draws the SD's own relative error is about 1 / sqrt(2 * 29): allow three of those.
    assert abs(spread / typical - 1) < 3 / np.sqrt(58), (spread, typical)


def test_unknown_controls_are_named():
    questions, answers = _dump(n_questions=50)
    with pytest.raises(ValueError, match=r"controls=\['views'\]: valid controls are lag, order"):
        weekday_effects(questions, answers, ("views",))


def test_the_lag_reading_says_when_the_control_matters():
    questions, answers = _dump(n_questions=1_500)
    change = control_change(questions, answers, draws=40)
    assert "that stands out" in lag_reading(lag_study(questions, answers), change)
    # A dump where nothing but noise moves with the lag: the control changes little.
    quiet = answers.assign(score=np.random.default_rng(5).normal(size=len(answers)))
    quiet_change = control_change(questions, quiet, draws=40)
    assert "suggestive, not shown" in lag_reading(lag_study(questions, quiet), quiet_change)
    # The bootstrap SE of the change is smaller than either estimate's: the two move together.
    assert (quiet_change["se"] < lag_study(questions, quiet)["within question"]["se"]).all()
