"""DeconfoundLM's story split, shared reward runs and claims (chapter 5)."""

import numpy as np
import pandas as pd
import pytest

from dclm.causal.simulate import simulate_headline_outcomes
from dclm.experiments import deconfound
from dclm.experiments.deconfound import rewards
from dclm.models.probe import Probe


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from dclm.data import mind, synthetic

    folder = tmp_path_factory.mktemp("mind")
    synthetic.write_mind(folder, n_news=1_500, n_users=5, n_impressions=5, seed=3)
    return mind.team_headlines(mind.read_news(folder / "news.tsv"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_test_headline_appears_in_training(generated, seed):
    train, test = rewards.split_by_story(generated["title"], generated["team"], np.random.default_rng(seed))
    titles = generated["title"]
    assert set(titles.iloc[train]).isdisjoint(set(titles.iloc[test]))
    assert len(train) + len(test) == len(titles)
    assert 0.15 < len(test) / len(titles) < 0.3
    # Stories, not only strings: a test phrase never occurs with another team in training.
    keys = np.array(rewards.story_keys(titles, generated["team"]))
    assert set(keys[train]).isdisjoint(set(keys[test]))


def test_split_rejects_a_bad_share(generated):
    with pytest.raises(ValueError, match="test_share must be between 0 and 1, got 1.5"):
        rewards.split_by_story(generated["title"], generated["team"], np.random.default_rng(0), 1.5)


def test_identical_rewards_share_one_id_and_scores_are_standardised(generated):
    rng = np.random.default_rng(0)
    features = rng.standard_normal((len(generated), 8))
    sentiment = features[:, 0] / 3
    headlines = generated.assign(sentiment=sentiment)
    cfg = deconfound.Config(probe_lambda=10.0)
    train, _ = rewards.split_by_story(headlines["title"], headlines["team"], np.random.default_rng(0))
    fits = {s: rewards.fit_rewards(features, rewards.outcomes_for(headlines, s, cfg, np.random.default_rng(0)),
                                      train, cfg) for s in ("entangled", "proxy", "orthogonal")}
    ids = {s: {m: f["probes"][m]["id"] for m in deconfound.METHODS} for s, f in fits.items()}
    # y is the same in entangled and proxy (only the logged p differs): one naive reward, one RL run.
    assert ids["entangled"]["naive"] == ids["proxy"]["naive"]
    assert ids["entangled"]["feature"] != ids["proxy"]["feature"]
    assert len({ids[s]["oracle"] for s in ids}) == 1
    stored = fits["entangled"]["probes"]["iv"]
    scores = Probe.from_stored(stored).score(features[train])
    np.testing.assert_allclose((scores.mean(), scores.std()), (stored["score_mean"], stored["score_sd"]))


def test_proxy_outcome_equals_entangled_outcome():
    teams = pd.Series(["A", "B", "", "C"] * 50)
    s = np.linspace(-1, 1, 200)
    exact = simulate_headline_outcomes(teams, s, np.random.default_rng(4), "entangled")
    proxy = simulate_headline_outcomes(teams, s, np.random.default_rng(4), "entangled", measurement_error=1.0)
    np.testing.assert_array_equal(exact["outcome"], proxy["outcome"])
    np.testing.assert_array_equal(exact["popularity"], exact["observed_popularity"])
    assert 0.8 < np.std(proxy["observed_popularity"] - proxy["popularity"]) < 1.2


def _metrics(iv_corr, feature_corr, iv_sent, naive_sent):
    def row(sent, corr):
        return {"sentiment_per_seed": list(sent), "story_sentiment_per_seed": list(sent),
                "on_story_sentiment_per_seed": list(sent),
                "top_team_rate_per_seed": [0.1] * len(sent), "named_team_popularity_per_seed": [0.0] * len(sent),
                "off_story_team_rate_per_seed": [0.1] * len(sent),
                "reward_sentiment_corr": float(np.mean(corr)), "reward_sentiment_corr_per_replicate": list(corr),
                "reward_popularity_corr": 0.0}
    settings = {}
    for setting in ("orthogonal", "entangled", "proxy"):
        settings[setting] = {"iv": row(iv_sent, iv_corr), "feature": row(iv_sent, feature_corr),
                             "naive": row(naive_sent, [-0.3, -0.2, -0.25]), "oracle": row(iv_sent, iv_corr)}
    return {"results": settings, "failure_settings": ["proxy"]}


def test_claims_follow_the_numbers_and_fail_when_broken():
    good = deconfound.claims(_metrics([0.8, 0.9, 0.85], [0.1, 0.2, 0.0], [0.5, 0.6, 0.55], [-0.5, -0.6, -0.4]))
    assert good["corr_iv_over_feature_proxy"].holds
    assert good["sentiment_iv_over_naive_entangled"].holds
    assert good["naive_reward_negative_entangled"].holds
    assert "higher than" in good["corr_iv_over_feature_proxy"].text
    broken = deconfound.claims(_metrics([0.1, 0.2, 0.0], [0.8, 0.9, 0.85], [-0.5, -0.6, -0.4], [0.5, 0.6, 0.55]))
    assert not broken["corr_iv_over_feature_proxy"].holds
    assert not broken["sentiment_iv_over_naive_entangled"].holds
    assert not broken["story_sentiment_iv_over_naive_entangled"].holds
    assert "lower than" in broken["corr_iv_over_feature_proxy"].text


def _map(low, high):
    return {"rows": ["logging error 1", "reversed arrow p -> T"], "lambda": [10.0, 100.0], "fail_below": 0.5,
            "low": low, "high": high, "failed": [[True, False], [False, False]],
            "difference": [[(a + b) / 2 for a, b in zip(lo, hi, strict=True)] for lo, hi in zip(low, high, strict=True)]}


def test_map_claims_read_both_sides_and_fail_when_one_is_missing():
    from dclm.experiments.deconfound.claims import map_claims

    two_sided = map_claims(_map([[0.1, 0.2], [-0.9, -0.8]], [[0.3, 0.4], [-0.5, -0.4]]))
    assert two_sided["map_reading"].holds
    assert "confounder-as-feature reward in 2 (reversed arrow p -> T at lambda = 10; " in two_sided["map_reading"].text
    assert "logging error 1: the IV reward, at every lambda" in two_sided["map_advice"].text
    assert "reversed arrow p -> T: the confounder as a feature, at every lambda" in two_sided["map_advice"].text
    assert "logging error 1 at lambda = 10" in two_sided["map_both_fail"].text
    one_sided = map_claims(_map([[0.1, 0.2], [-0.1, 0.1]], [[0.3, 0.4], [0.2, 0.3]]))
    assert not one_sided["map_reading"].holds
    assert "confounder-as-feature reward in 0 (none)" in one_sided["map_reading"].text


def test_story_prompts_and_the_fluency_split():
    from dclm.experiments.deconfound.config import PROMPT, Config
    from dclm.experiments.deconfound.evaluate import fluency_split
    from dclm.experiments.deconfound.policies import rl_prompts, sft_records, story_prompt
    from dclm.experiments.deconfound.rewards import story_keys

    teams = ["Ravens", "Bears", ""] * 40
    titles = [f"{t} win game {i % 10}".strip() if t else f"Markets close {i % 4}" for i, t in enumerate(teams)]
    prepared = {"titles": titles, "headline_teams": teams, "teams": ["Bears", "Ravens"], "train": list(range(120))}
    cfg = Config(story_share=0.5, rl_steps=10, rl_batch_size=20)
    records = sft_records(cfg, prepared)
    story = [r for r in records if r["prompt"] != PROMPT]
    # Only team headlines get a story prompt, and it names the headline's own team.
    assert all(r["prompt"] == story_prompt(r["completion"].split()[0]) for r in story)
    assert 0.3 < len(story) / 80 < 0.7
    prompts = rl_prompts(cfg, prepared, seed=3)
    assert len(prompts) == 200 and 0.35 < np.mean([p != PROMPT for p in prompts]) < 0.65
    assert prompts == rl_prompts(cfg, prepared, seed=3) != rl_prompts(cfg, prepared, seed=4)
    fit, calibrate, check = fluency_split(titles, teams, np.random.default_rng(0))
    assert not set(fit) & set(calibrate) and not set(fit) & set(check) and not set(calibrate) & set(check)
    assert set(fit) | set(calibrate) | set(check) == set(titles)
    # Every calibration title's story is still in the model's titles.
    fit_stories = set(story_keys(fit, [dict(zip(titles, teams, strict=True))[t] for t in fit]))
    assert set(story_keys(calibrate, [dict(zip(titles, teams, strict=True))[t] for t in calibrate])) <= fit_stories
