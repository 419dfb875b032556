"""Reward probes (ridge, invariance penalty) and the DeconfoundLM headline simulation."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from dclm.causal.deconfound import deconfound_outcome
from dclm.causal.simulate import simulate_headline_outcomes
from dclm.data import mind, synthetic
from dclm.models.probe import fit_probe


def test_probe_equals_sklearn_ridge_on_standardised_features():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 12)) * rng.uniform(0.1, 5, 12)
    y = x @ rng.normal(size=12) + rng.normal(size=400)
    probe = fit_probe(x, y, lam=7.0)
    xs = (x - x.mean(0)) / x.std(0)
    expected = Ridge(alpha=7.0).fit(xs, y).predict(xs)
    np.testing.assert_allclose(probe.score(x), expected, atol=1e-8)


def test_invariance_penalty_removes_the_scores_covariance_with_the_confounder():
    rng = np.random.default_rng(1)
    n = 2_000
    p = rng.normal(size=n)
    x = np.column_stack([rng.normal(size=n), p + 0.1 * rng.normal(size=n), rng.normal(size=(n, 5))])
    y = x[:, 0] + 2 * p + rng.normal(size=n)
    plain = fit_probe(x, y, lam=1.0)
    invariant = fit_probe(x, y, lam=1.0, confounder=p, mu=100.0)
    assert abs(np.cov(plain.score(x), p)[0, 1]) > 1.5
    assert abs(np.cov(invariant.score(x), p)[0, 1]) < 0.02
    assert np.corrcoef(invariant.score(x), x[:, 0])[0, 1] > 0.9  # the signal unrelated to p stays
    with pytest.raises(ValueError, match="needs the confounder"):
        fit_probe(x, y, lam=1.0, mu=1.0)


@pytest.mark.parametrize("setting", ["orthogonal", "entangled"])
def test_iv_recovers_beta_in_the_headline_simulation(setting):
    """The team-level instrument identifies beta in both settings; SE-based tolerance."""
    rng = np.random.default_rng(2)
    n = 6_000
    teams = pd.Series(rng.choice([f"T{i}" for i in range(40)] + [""], n))
    sentiment = rng.choice([-0.8, 0.0, 0.8], n) + 0.05 * rng.normal(size=n)
    sim = simulate_headline_outcomes(teams, sentiment, np.random.default_rng(3), setting, beta=1.0)
    fit = deconfound_outcome(sim["outcome"], sim["popularity"], sim["instrument"]).iv
    name = fit.endog[0]
    assert abs(fit.params[name] - 1.0) < 4 * fit.std_errors[name]
    corr = np.corrcoef(sim["popularity"], sentiment)[0, 1]
    assert (corr < -0.3) if setting == "entangled" else (abs(corr) < 0.05)
    assert sim["popularity"].std(ddof=0) == pytest.approx(1.0)


def test_team_headlines_find_teams_in_mind_schema_titles(tmp_path):
    synthetic.write_mind(tmp_path, n_news=300, n_users=5, n_impressions=5, seed=0)
    frame = mind.team_headlines(mind.read_news(tmp_path / "news.tsv"))
    named = frame[frame["team"] != ""]
    assert len(named) > 150 and set(named["team"]) <= set(synthetic.TEAMS)
    assert all(team in title for team, title in zip(named["team"], named["title"], strict=True))
    assert (frame.loc[frame["team"] == "", "title"].str.split().str[0].isin(synthetic.TEAMS)).sum() == 0


def test_unpenalised_control_equals_ols_on_the_control_and_ridge_on_the_rest():
    """Frisch-Waugh: the probe's text weights are those of the joint fit with c unpenalised."""
    rng = np.random.default_rng(5)
    n, d, lam = 400, 6, 30.0
    x = rng.standard_normal((n, d))
    c = x[:, 0] + rng.standard_normal(n)
    y = x @ np.linspace(1, 0, d) + 2.0 * c + rng.standard_normal(n)
    probe = fit_probe(x, y, lam, unpenalised=c)
    xs = (x - x.mean(0)) / x.std(0)
    design = np.column_stack([xs, c - c.mean()])
    penalty = np.diag([lam] * d + [0.0])
    joint = np.linalg.solve(design.T @ design + penalty, design.T @ (y - y.mean()))
    np.testing.assert_allclose(probe.weights, joint[:d], rtol=1e-10)
    assert abs(joint[-1] - 2.0) < 0.2


def test_headline_simulation_reversed_arrow_makes_the_instrument_reach_the_text():
    rng = np.random.default_rng(5)
    teams = pd.Series(rng.choice([f"T{i}" for i in range(16)], 4_000))
    sentiment = rng.choice([-0.8, 0.0, 0.8], 4_000)
    forward = simulate_headline_outcomes(teams, sentiment, np.random.default_rng(6), "entangled")
    reversed_ = simulate_headline_outcomes(teams, sentiment, np.random.default_rng(6), "entangled",
                                           arrow="popularity_to_text")
    np.testing.assert_array_equal(forward["row"], np.arange(4_000))
    # Resampled rows copy given headlines: their sentiment and team are the source row's.
    np.testing.assert_array_equal(reversed_["sentiment"], sentiment[reversed_["row"]])
    assert (reversed_["team"].to_numpy() == teams.to_numpy()[reversed_["row"]]).all()
    # p -> T: popular teams get gloomier stories, so Z and s(T) are correlated; not so forward.
    se = 1 / np.sqrt(4_000)
    assert np.corrcoef(reversed_["instrument"], reversed_["sentiment"])[0, 1] < -5 * se
    assert abs(np.corrcoef(forward["instrument"], forward["sentiment"])[0, 1]) < 3 * se
    fan = simulate_headline_outcomes(teams, sentiment, np.random.default_rng(6), "entangled", direct_effect=0.5)
    np.testing.assert_allclose(fan["outcome"] - forward["outcome"], 0.5 * forward["instrument"], atol=1e-12)
