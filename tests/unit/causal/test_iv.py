"""fit_2sls against linearmodels, its errors and warnings, and the IV Monte Carlo truths."""

import warnings

import numpy as np
import pandas as pd
import pytest
from linearmodels.iv import IV2SLS

from dclm.causal.crosscheck import dowhy_iv
from dclm.causal.iv import WeakInstrumentWarning, fit_2sls, wald_ratio
from dclm.causal.simulate import simulate_popularity


def make_data(seed, n=1_500, n_controls=3, n_instruments=2):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, n_instruments))
    w = rng.standard_normal((n, n_controls))
    u = rng.standard_normal(n)
    x = z @ np.linspace(0.6, 0.3, n_instruments) + w.sum(axis=1) * 0.2 + u + rng.standard_normal(n)
    y = 0.5 + 2.0 * x + w @ np.linspace(1, -1, n_controls) + 2 * u + rng.standard_normal(n) * (1 + np.abs(z[:, 0]))
    frame = pd.DataFrame({"y": y, "x": x})
    for j in range(n_instruments):
        frame[f"z{j}"] = z[:, j]
    for j in range(n_controls):
        frame[f"w{j}"] = w[:, j]
    return frame


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_controls", [0, 4])
@pytest.mark.parametrize("n_instruments", [1, 2])
@pytest.mark.parametrize("cov", ["robust", "unadjusted"])
def test_matches_linearmodels(seed, n_controls, n_instruments, cov):
    df = make_data(seed, n_controls=n_controls, n_instruments=n_instruments)
    controls = [c for c in df if c.startswith("w")]
    instruments = [c for c in df if c.startswith("z")]
    ours = fit_2sls(df["y"], df[["x"]], df[instruments], exog=df[controls] if controls else None, cov=cov)
    exog = df[controls].assign(const=1.0)[["const", *controls]]
    ref = IV2SLS(df["y"], exog, df[["x"]], df[instruments]).fit(cov_type=cov, debiased=True)
    names = list(ref.params.index)
    np.testing.assert_allclose(ours.params[names], ref.params, rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors[names], ref.std_errors, rtol=1e-8)
    np.testing.assert_allclose(ours.cov.loc[names, names], ref.cov, rtol=1e-8, atol=1e-14)
    # Our first-stage F is the classical homoskedastic partial F (RSS / (n - k)): linearmodels'
    # under unadjusted covariance with the small-sample correction.
    ref_unadj = IV2SLS(df["y"], exog, df[["x"]], df[instruments]).fit(cov_type="unadjusted", debiased=True)
    np.testing.assert_allclose(ours.first_stage_f["x"], ref_unadj.first_stage.diagnostics["f.stat"]["x"], rtol=1e-8)
    assert ours.nobs == len(df)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("n_controls", [0, 2])
@pytest.mark.parametrize("n_instruments", [1, 2])
def test_clustered_matches_linearmodels(seed, n_controls, n_instruments):
    """Clustered 2SLS (params, covariance, cluster-robust first-stage F) equals linearmodels."""
    df = make_data(seed, n_controls=n_controls, n_instruments=n_instruments)
    groups = np.random.default_rng(seed + 10).integers(0, 30, len(df))
    controls = [c for c in df if c.startswith("w")]
    instruments = [c for c in df if c.startswith("z")]
    ours = fit_2sls(df["y"], df[["x"]], df[instruments], exog=df[controls] if controls else None,
                    cov="cluster", clusters=groups)
    exog = df[controls].assign(const=1.0)[["const", *controls]]
    ref = IV2SLS(df["y"], exog, df[["x"]], df[instruments]).fit(cov_type="clustered", clusters=pd.Series(groups),
                                                               debiased=True)
    names = list(ref.params.index)
    np.testing.assert_allclose(ours.params[names], ref.params, rtol=1e-8)
    np.testing.assert_allclose(ours.cov.loc[names, names], ref.cov, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(ours.std_errors[names], ref.std_errors, rtol=1e-8)
    # linearmodels reports the clustered first-stage Wald statistic; ours divides it by q.
    np.testing.assert_allclose(ours.first_stage_f["x"] * n_instruments,
                               ref.first_stage.diagnostics["f.stat"]["x"], rtol=1e-8)
    assert ours.n_clusters == len(np.unique(groups))


def test_clustering_by_group_widens_the_first_stage_when_the_instrument_is_a_group_value():
    """An instrument constant within 12 groups: per-row F overstates its strength."""
    rng = np.random.default_rng(4)
    groups = rng.integers(0, 12, 3_000)
    z = rng.standard_normal(12)[groups]
    x = 0.5 * z + rng.standard_normal(12)[groups] + rng.standard_normal(3_000)
    y = x + rng.standard_normal(3_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakInstrumentWarning)
        per_row = fit_2sls(y, x, z)
        clustered = fit_2sls(y, x, z, cov="cluster", clusters=groups)
    assert clustered.first_stage_f.iloc[0] < per_row.first_stage_f.iloc[0] / 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cov": "cluster"}, "cov='cluster' needs clusters"),
    ({"cov": "cluster", "clusters": np.zeros(5)}, "clusters has 5 rows"),
    ({"cov": "cluster", "clusters": np.zeros(1_500)}, "at least 2 groups"),
    ({"cov": "robust", "clusters": np.arange(1_500)}, "use cov_type='cluster'"),
])
def test_cluster_argument_errors(kwargs, message):
    df = make_data(0)
    with pytest.raises(ValueError, match=message):
        fit_2sls(df["y"], df[["x"]], df[["z0", "z1"]], **kwargs)


def test_numpy_input_and_no_constant():
    df = make_data(3, n_controls=2)
    arr = fit_2sls(df["y"].to_numpy(), df["x"].to_numpy(), df[["z0", "z1"]].to_numpy(),
                   exog=df[["w0", "w1"]].to_numpy())
    named = fit_2sls(df["y"], df["x"], df[["z0", "z1"]], exog=df[["w0", "w1"]])
    np.testing.assert_allclose(arr.params.to_numpy(), named.params.to_numpy(), rtol=1e-12)
    assert list(arr.params.index) == ["const", "exog0", "exog1", "endog"]
    no_const = fit_2sls(df["y"], df["x"], df[["z0"]], exog=df[["w0"]].assign(one=1.0), add_constant=False)
    with_const = fit_2sls(df["y"], df["x"], df[["z0"]], exog=df[["w0"]])
    assert no_const.params["x"] == pytest.approx(with_const.params["x"], rel=1e-10)


def test_summary_reads_like_linearmodels():
    df = make_data(0)
    text = fit_2sls(df["y"], df[["x"]], df[["z0", "z1"]]).summary()
    assert "IV-2SLS Estimation Summary" in text and "Robust (HC1)" in text
    assert "Parameter" in text and "Std. Err." in text and "First-stage partial F" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": np.ones(9)}, "endog has 10 rows but y has 9"),
        ({"endog": np.r_[np.nan, np.arange(9.0)]}, "endog contains NaN or inf (first at row 0)"),
        ({"instruments": np.r_[np.inf, np.arange(9.0)]}, "instruments contains NaN or inf"),
        ({"instruments": np.full(10, 3.0)}, "instruments: column 'instrument' is constant"),
        ({"instruments": np.column_stack([np.arange(10.0), 2 * np.arange(10.0)])}, "instruments: the columns"),
        ({"endog": np.random.default_rng(0).standard_normal((10, 2))},
         "instruments: 2SLS needs at least as many instruments as endogenous regressors"),
        ({"exog": np.ones(9)}, "exog has 9 rows but y has 10"),
        ({"cov": "HC3"}, "cov must be 'robust', 'unadjusted' or 'cluster'"),
    ],
)
def test_bad_input_is_a_valueerror_naming_the_argument(kwargs, message):
    rng = np.random.default_rng(0)
    args = {"y": rng.standard_normal(10), "endog": rng.standard_normal(10),
            "instruments": rng.standard_normal(10), **kwargs}
    with pytest.raises(ValueError) as err:
        fit_2sls(**args)
    assert message in str(err.value)


def test_weak_instrument_warns_but_fits():
    data = simulate_popularity(500, np.random.default_rng(0), instrument_strength=0.02)
    with pytest.warns(WeakInstrumentWarning, match="first-stage F for 'confounder' is"):
        result = fit_2sls(data["outcome"], data[["confounder"]], data[["instrument"]])
    assert result.first_stage_f["confounder"] < 10
    strong = simulate_popularity(500, np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakInstrumentWarning)
        fit_2sls(strong["outcome"], strong[["confounder"]], strong[["instrument"]])


def test_wald_ratio_is_2sls_with_one_instrument():
    data = simulate_popularity(2_000, np.random.default_rng(4))
    fit = fit_2sls(data["outcome"], data["confounder"], data["instrument"])
    assert wald_ratio(data["outcome"], data["confounder"], data["instrument"]) == pytest.approx(
        fit.params["confounder"], rel=1e-10)


@pytest.mark.parametrize("setting", ["orthogonal", "entangled"])
def test_iv_unbiased_in_both_settings_ols_biased_only_when_entangled(setting):
    beta = 0.5
    rng = np.random.default_rng(12345)
    iv, ols = [], []
    for _ in range(200):
        d = simulate_popularity(1_000, rng, setting=setting, beta=beta)
        iv.append(wald_ratio(d["outcome"], d["confounder"], d["instrument"]))
        p = d["confounder"] - d["confounder"].mean()
        ols.append(float(p @ d["outcome"] / (p @ p)))
    iv, ols = np.array(iv), np.array(ols)
    assert abs(iv.mean() - beta) < 2 * iv.std(ddof=1) / np.sqrt(len(iv))
    ols_mc_se = ols.std(ddof=1) / np.sqrt(len(ols))
    if setting == "entangled":
        assert abs(ols.mean() - beta) > 10 * ols_mc_se
    else:
        assert abs(ols.mean() - beta) < 3 * ols_mc_se


def test_dowhy_iv_ignores_controls():
    data = simulate_popularity(3_000, np.random.default_rng(7), beta=1.0, control_effect=1.0)
    from_dowhy = dowhy_iv(data, "confounder", "outcome", "instrument", common_causes=["control"])
    without = fit_2sls(data["outcome"], data[["confounder"]], data[["instrument"]]).params["confounder"]
    with_control = fit_2sls(data["outcome"], data[["confounder"]], data[["instrument"]],
                            exog=data[["control"]])
    assert from_dowhy == pytest.approx(without, rel=1e-8)
    assert abs(with_control.params["confounder"] - 1.0) < 3 * with_control.std_errors["confounder"]
    assert abs(from_dowhy - 1.0) > 10 * with_control.std_errors["confounder"]


def test_crosschecks_say_so_when_dowhy_is_missing(monkeypatch):
    import sys

    from dclm.causal import crosscheck
    from dclm.causal.simulate import simulate_popularity

    data = simulate_popularity(500, np.random.default_rng(0), beta=1.0, control_effect=1.0)
    monkeypatch.setitem(sys.modules, "dowhy", None)  # as if not installed: the import raises ImportError
    assert crosscheck.dowhy_iv(data, "confounder", "outcome", "instrument", common_causes=["control"]) is None
    assert crosscheck.dowhy_backdoor(data, "confounder", "outcome", ["control"]) is None
    assert crosscheck.describe("dowhy", None) == crosscheck.DOWHY_MISSING and "dclm[causal]" in crosscheck.DOWHY_MISSING
    assert crosscheck.describe("dowhy", 0.5) == "dowhy: +0.500000"


def test_selection_on_exposure_biases_2sls_only_when_the_text_moves_exposure():
    # Known truth beta = 1; tolerances from the spread of the estimates over draws.
    rng = np.random.default_rng(11)
    estimates = {setting: [] for setting in ("orthogonal", "entangled")}
    for _ in range(60):
        for setting in estimates:
            d = simulate_popularity(2_000, rng, setting=setting, beta=1.0, selected_share=0.5)
            estimates[setting].append(wald_ratio(d["outcome"], d["confounder"], d["instrument"]))
    for setting, values in estimates.items():
        mean, se = np.mean(values), np.std(values, ddof=1) / np.sqrt(len(values))
        if setting == "orthogonal":
            assert abs(mean - 1.0) < 3 * se + 0.02
        else:
            assert mean - 1.0 > 10 * se
    kept = simulate_popularity(1_000, np.random.default_rng(0), selected_share=0.3)
    full = simulate_popularity(1_000, np.random.default_rng(0))
    assert len(kept) == 300 and kept["true_confounder"].min() >= full["true_confounder"].quantile(0.69)
    with pytest.raises(ValueError, match="selected_share"):
        simulate_popularity(100, np.random.default_rng(0), selected_share=0.05)


def test_fan_interest_biases_2sls_by_delta_over_the_first_stage_slope():
    delta, a, rho = 0.3, 1.0, -0.5
    d = simulate_popularity(200_000, np.random.default_rng(12), beta=1.0, instrument_strength=a, entanglement=rho,
                            direct_effect=delta)
    fit = fit_2sls(d["outcome"], d[["confounder"]], d[["instrument"]])
    expected = 1.0 + delta * np.sqrt(a**2 + rho**2 + 1.0) / a
    assert abs(fit.params["confounder"] - expected) < 3 * fit.std_errors["confounder"]
