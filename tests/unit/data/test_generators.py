"""The generators' confounding is visible through the real loaders (fixed seeds, SE-based margins)."""

import numpy as np
import pandas as pd

from dclm.causal.linear import ols
from dclm.data import mind, stackexchange, synthetic, upworthy


def test_stackexchange_monday_beats_friday_and_markers_follow_scores(tmp_path):
    synthetic.write_stackexchange_posts(tmp_path / "Posts.xml.gz", n_questions=1_500, seed=0)
    _, answers = stackexchange.read_posts(tmp_path / "Posts.xml.gz")
    by_day = answers.groupby("weekday", observed=True)["score"]
    mean, se = by_day.mean(), by_day.std() / np.sqrt(by_day.size())
    assert mean["Monday"] - mean["Friday"] > 3 * np.hypot(se["Monday"], se["Friday"])

    marked = stackexchange.add_weekday_markers(answers)
    pairs = stackexchange.preference_pairs(marked, seed=0)
    day = marked.set_index("answer_id")["marker"]
    chosen = (pairs["chosen_id"].map(day) == "Monday").to_numpy(float)
    rejected = (pairs["rejected_id"].map(day) == "Monday").to_numpy(float)
    diff = chosen - rejected
    assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff))


def test_upworthy_across_test_estimate_is_biased_within_test_is_not(tmp_path):
    truth = synthetic.write_upworthy_csv(tmp_path / "up.csv", n_tests=600, seed=0)
    packages = upworthy.read_packages(tmp_path / "up.csv")
    features = truth["packages"][["number", "emotional"]].astype(float).reset_index(drop=True)
    y = np.log((packages["clicks"] + 0.5) / (packages["impressions"] - packages["clicks"] + 0.5))

    view = upworthy.observational_view(packages, seed=0)
    across = ols(y[view.index], features.loc[view.index]).estimate("emotional")
    assert across.value - truth["emotional_effect"] > 3 * across.se

    demeaned_y = y - y.groupby(packages["test_id"]).transform("mean")
    demeaned_x = features - features.groupby(packages["test_id"]).transform("mean")
    within = ols(demeaned_y, demeaned_x, add_constant=False)
    emotional, number = within.estimate("emotional"), within.estimate("number")
    assert abs(emotional.value - truth["emotional_effect"]) < 3 * emotional.se
    assert abs(number.value - truth["number_effect"]) < 3 * number.se


def test_mind_generator_entanglement_and_instrument(tmp_path):
    for setting in ("orthogonal", "entangled"):
        truth = synthetic.write_mind(tmp_path / setting, n_news=1_500, n_users=50, n_impressions=50,
                                     seed=0, setting=setting)
        news = truth["news"][truth["news"]["category"] == "sports"].merge(truth["teams"], on="team")
        r = np.corrcoef(news["sentiment"], news["popularity"])[0, 1]
        se = 1 / np.sqrt(len(news))
        if setting == "entangled":
            assert r < -3 * se  # popular headlines are the negative ones
        else:
            assert abs(r) < 3 * se
        # Region market size drives popularity: a strong first stage.
        first_stage = ols(news["popularity"], news[["instrument"]]).estimate("instrument")
        assert first_stage.value > 10 * first_stage.se
        loaded, _ = mind.load_mind(tmp_path / setting)
        assert pd.Series(loaded["news_id"]).equals(truth["news"]["news_id"])
