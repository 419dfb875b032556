"""Estimators recover the known truth of the chapter-1 simulator."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from dclm.causal.linear import ols
from dclm.causal.simulate import has_marker, simulate_listings
from dclm.experiments.confounding import estimate_marker_effect


def test_ols_matches_statsmodels_for_both_covariances():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.standard_normal(300), "b": rng.random(300)})
    y = 1 + 2 * X["a"] - X["b"] + rng.standard_normal(300) * (1 + X["b"])
    reference = sm.OLS(y.to_numpy(), sm.add_constant(X.to_numpy()))
    for ours, theirs in (("unadjusted", "nonrobust"), ("robust", "HC1")):
        fit = ols(y, X, cov_type=ours)
        ref = reference.fit(cov_type=theirs)
        np.testing.assert_allclose(fit.params.to_numpy(), ref.params, rtol=1e-10)
        np.testing.assert_allclose(fit.std_errors.to_numpy(), ref.bse, rtol=1e-10)
    assert list(fit.params.index) == ["const", "a", "b"]


def test_ols_rejects_bad_input_with_the_argument_named():
    y = np.arange(10.0)
    with pytest.raises(ValueError, match="X has 9 rows but y has 10"):
        ols(y, np.ones(9))
    with pytest.raises(ValueError, match="X contains NaN"):
        ols(y, np.r_[np.nan, np.arange(9.0)])
    with pytest.raises(ValueError, match="collinear"):
        ols(y, np.column_stack([np.arange(10.0), 2 * np.arange(10.0)]))
    with pytest.raises(ValueError, match="cov_type"):
        ols(y, np.arange(10.0) ** 2, cov_type="HC3")


def test_marker_is_read_from_the_text():
    assert has_marker(["Cozy loft, affordable", "Affordable!", "unaffordable flat"]).tolist() == [1, 1, 0]


def test_simulator_truth_and_confounding_direction():
    data = simulate_listings(4_000, np.random.default_rng(0), confounding=1.5)
    assert data["marker"].tolist() == has_marker(data["text"]).tolist()
    # Cheap listings carry the marker more often: that is the confounding.
    assert data.loc[data.confounder < 0, "marker"].mean() > data.loc[data.confounder > 0, "marker"].mean() + 0.2
    unconfounded = simulate_listings(4_000, np.random.default_rng(0), confounding=0.0)
    gap = unconfounded.loc[unconfounded.confounder < 0, "marker"].mean() - \
        unconfounded.loc[unconfounded.confounder > 0, "marker"].mean()
    assert abs(gap) < 4 * np.sqrt(0.25 / 1_000)  # four binomial SEs of a difference of halves


@pytest.mark.parametrize("marker_effect", [0.0, 1.0])
def test_adjusted_estimate_is_unbiased_and_naive_is_not(marker_effect):
    draws = [estimate_marker_effect(simulate_listings(
        1_000, np.random.default_rng(seed), marker_effect=marker_effect)) for seed in range(60)]
    adjusted = np.array([d["adjusted_estimate"] for d in draws])
    naive = np.array([d["naive_estimate"] for d in draws])
    mc_se = adjusted.std(ddof=1) / np.sqrt(len(adjusted))
    assert abs(adjusted.mean() - marker_effect) < 3 * mc_se
    assert naive.mean() - marker_effect > 10 * naive.std(ddof=1) / np.sqrt(len(naive))
    # The reported SE matches the spread across draws (within 25%, ~ 4 SEs of an SD estimate at 60 draws).
    reported = np.mean([d["adjusted_se"] for d in draws])
    assert abs(adjusted.std(ddof=1) / reported - 1) < 0.25
