"""The Upworthy chapter's estimators: ridge path, pair AUC, bootstrap SE, cross-fitting, splits."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import roc_auc_score

from dclm import stats
from dclm.data import synthetic, upworthy
from dclm.experiments import upworthy as exp

KEYS = exp.METHODS


def test_ridge_path_equals_sklearn_ridge():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 20)) * rng.uniform(0.5, 3, 20) + 4
    y = x @ rng.normal(size=20) + rng.normal(size=300) + 2
    lambdas = np.array([0.1, 30.0, 5_000.0])
    weights, intercepts = stats.ridge_path(x, y, lambdas)
    for k, lam in enumerate(lambdas):
        model = Ridge(alpha=lam).fit(x, y)
        np.testing.assert_allclose(weights[:, k], model.coef_, rtol=1e-8, atol=1e-10)
        assert intercepts[k] == pytest.approx(model.intercept_, rel=1e-8)


def test_pair_auc_equals_sklearn_with_ties_and_weights():
    rng = np.random.default_rng(1)
    diffs = np.round(rng.normal(size=400), 1)  # many ties
    wins = rng.random(400) < 0.5 + 0.2 * np.tanh(diffs)
    assert stats.pair_auc(diffs, wins) == pytest.approx(roc_auc_score(wins, diffs), abs=1e-12)
    weights = rng.integers(0, 4, (3, 400))
    expected = [roc_auc_score(wins, diffs, sample_weight=w) for w in weights]
    np.testing.assert_allclose(stats.pair_auc(diffs, wins, weights), expected, atol=1e-12)
    two = stats.pair_auc(np.column_stack([diffs, -diffs]), wins)
    assert two[0] == pytest.approx(1 - two[1])
    with pytest.raises(ValueError, match="pairs won by a and pairs won by b"):
        stats.pair_auc(diffs, np.ones(400, dtype=bool))


def test_bootstrap_se_matches_the_textbook_formula_for_independent_pairs():
    """With one pair per group the cluster bootstrap is the ordinary one: compare with Hanley-McNeil."""
    rng = np.random.default_rng(2)
    n = 2_000
    wins = rng.random(n) < 0.5
    diffs = rng.normal(size=n) + 0.8 * wins
    auc = stats.pair_auc(diffs, wins)
    n1, n0 = wins.sum(), (~wins).sum()
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    hanley = np.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) / (n1 * n0))
    se = stats.bootstrap_auc_se({"m": diffs}, wins, np.arange(n), draws=400, seed=0)["m"]
    # A bootstrap SD from 400 draws is itself uncertain by about 1/sqrt(2*399) = 3.5 %: allow 4 of those.
    assert se == pytest.approx(hanley, rel=4 / np.sqrt(2 * 399))


def test_clustered_pairs_get_a_larger_bootstrap_se():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(200), 10)
    shift = rng.normal(size=200)[groups]  # every pair of a group moves together
    wins = rng.random(2_000) < 0.5
    diffs = shift + 0.5 * wins + 0.1 * rng.normal(size=2_000)
    clustered = stats.bootstrap_auc_se({"m": diffs}, wins, groups, 300, 0)["m"]
    independent = stats.bootstrap_auc_se({"m": diffs}, wins, np.arange(2_000), 300, 0)["m"]
    assert clustered > independent


def test_cross_fitted_nuisance_never_sees_its_own_row():
    rng = np.random.default_rng(4)
    n = 400
    frame = pd.DataFrame({
        "test_id": [f"{i // 4:024x}" for i in range(n)], "eyecatcher_id": "img",
        "created_at": pd.to_datetime("2014-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
        "lede": rng.choice(["dogs are great", "cats rule the internet", "a story about dogs and cats"], n),
        "ctr": rng.uniform(0.01, 0.02, n),
    })
    crossfit, _ = exp.nuisance_predictions(frame, [], folds=2, seed=0, lam=1.0)
    changed = frame.copy()
    changed.loc[0, "ctr"] = 5.0
    crossfit_changed, (full,) = exp.nuisance_predictions(changed, [frame.iloc[:1]], folds=2, seed=0, lam=1.0)
    assert crossfit_changed[0] == pytest.approx(crossfit[0])  # row 0's own outcome is not used for it
    assert not np.allclose(crossfit_changed[1:], crossfit[1:])  # but it is used for the other fold
    assert full[0] > crossfit[0]  # the full-data fit has seen the change


def test_lambda_grid_holds_the_reported_values_and_the_ends():
    grid = exp.lambda_grid(exp.Config())
    assert {1.0, 10_000.0, 18_000.0, 50_000.0, 1e6} <= set(grid)
    assert np.all(np.diff(grid) > 0)


def test_split_views_keep_training_headlines_out_of_evaluation_pairs(tmp_path):
    path = tmp_path / "up.csv"
    synthetic.write_upworthy_csv(path, n_tests=300, seed=0)
    packages = upworthy.read_packages(path)
    features = np.random.default_rng(0).normal(size=(len(packages), 8))
    image = (packages["test_id"] + "|" + packages["eyecatcher_id"].fillna("<none>")).to_numpy()
    archive = exp.Archive(packages, upworthy.headline_pairs(packages), packages["headline"], features, image)
    views = exp.split_views(archive, split_seed=0, alpha=0.05)
    train_headlines = set(packages["headline"].to_numpy()[views["exp_train"]])
    for name in ("val_pairs", "test_pairs"):
        pairs = views[name]
        assert len(pairs) and (pairs["p_value"] < 0.05).all()
        assert not (set(pairs["headline_a"]) | set(pairs["headline_b"])) & train_headlines
    obs = np.concatenate([views["obs_train"], views["obs_val"]])
    assert len(set(image[obs])) == len(obs)  # one package per test-image
    assert set(views["split"][views["obs_train"]]) == {"train"}


def test_pair_diffs_follow_index_labels_not_positions():
    packages = pd.DataFrame({"headline": ["a", "b", "c"]}, index=[10, 20, 30])
    archive = exp.Archive(packages, pd.DataFrame(), packages["headline"], np.zeros((3, 1)), np.array(["x"] * 3))
    pairs = pd.DataFrame({"package_a": [30, 10], "package_b": [20, 30]})
    np.testing.assert_array_equal(exp.pair_diffs(archive, pairs, np.array([1.0, 2.0, 4.0])), [2.0, -3.0])


def _synthetic_archive(tmp_path, dim=8):
    path = tmp_path / "up.csv"
    synthetic.write_upworthy_csv(path, n_tests=300, seed=0)
    packages = upworthy.read_packages(path)
    features = np.random.default_rng(0).normal(size=(len(packages), dim))
    features[:, 0] += packages["ctr"].to_numpy() / packages["ctr"].std()  # some signal
    image = (packages["test_id"] + "|" + packages["eyecatcher_id"].fillna("<none>")).to_numpy()
    return exp.Archive(packages, upworthy.headline_pairs(packages), packages["headline"], features, image)


def test_paired_auc_difference_is_zero_for_the_same_scores_and_brackets_a_real_gap():
    rng = np.random.default_rng(1)
    a_wins = rng.random(400) < 0.5
    groups = np.repeat(np.arange(100), 4)
    good = np.where(a_wins, 1.0, -1.0) + rng.normal(size=400)
    noise = rng.normal(size=400)
    same = stats.paired_auc_difference(good, good, a_wins, groups, 200, 0)
    assert same == {"diff": 0.0, "low": 0.0, "high": 0.0}
    gap = stats.paired_auc_difference(good, noise, a_wins, groups, 200, 0)
    assert gap["low"] < gap["diff"] < gap["high"] and gap["low"] > 0


def test_selection_cost_scores_two_validation_choices_on_the_test(tmp_path):
    archive = _synthetic_archive(tmp_path)
    views = exp.split_views(archive, split_seed=0, alpha=0.05)
    grid = exp.lambda_grid(exp.Config())
    sweep = exp.observational_sweep(archive, views, grid, standardize=True)
    cost = exp.selection_cost(archive, views, sweep, 100, 0)
    assert cost["auc_by_val_mse"] == sweep["auc_at_val_opt"]
    assert cost["diff"] == pytest.approx(cost["auc_by_val_pairs"] - cost["auc_by_val_mse"])
    assert cost["low"] <= cost["diff"] <= cost["high"]
    sd = np.asarray(exp.reward_scale(archive, views, sweep))
    # Once the penalty dominates, the reward's spread shrinks about as 1/lambda.
    assert sd[-1] < sd[0] and sd[-1] * grid[-1] == pytest.approx(sd[-2] * grid[-2], rel=0.2)


def test_ranking_orders_by_auc_and_reads_the_paired_interval():
    auc = dict(zip(KEYS, (0.70, 0.75, 0.60, 0.76, 0.65), strict=True))
    near = {"diff": -0.01, "low": -0.03, "high": 0.01}
    m = {"auc": auc, "auc_vs_best": {k: near for k in KEYS}}
    out = exp.ranking(m)
    assert out["order"][:2] == ["resid_exp", "ridge_exp"] and not out["claim"].holds
    m["auc_vs_best"] = {k: {"diff": -0.02, "low": -0.03, "high": -0.005} for k in KEYS}
    assert exp.ranking(m)["claim"].holds
