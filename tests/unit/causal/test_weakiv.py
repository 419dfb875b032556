"""Weak-IV inference (AR tests and sets, effective F) and the wild cluster bootstrap, against
linearmodels, brute force, explicit loops and known-truth Monte Carlo.

Monte-Carlo tolerances are 3 standard errors of a share: 3·sqrt(p(1 − p) / reps).
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from linearmodels.iv import IV2SLS
from scipy import optimize, stats

from dclm.causal.iv import WeakInstrumentWarning, fit_2sls
from dclm.causal.linear import ols
from dclm.causal.weakiv import (
    LMMP_T_TEST_F,
    MOP_CRITICAL_VALUE_K1,
    ConfidenceSet,
    anderson_rubin_set,
    anderson_rubin_test,
    effective_f,
    weak_iv_coverage,
)
from dclm.causal.wildboot import (
    bootstrap_weights,
    wild_cluster_ar_set,
    wild_cluster_interval,
    wild_cluster_pvalue,
)


def mc_tolerance(p, reps):
    return 3 * math.sqrt(p * (1 - p) / reps)


def iv_data(seed, n=400, k=1, strength=0.3):
    """One control, heteroskedastic outcome errors, 25 clusters; the true effect is 1."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, k))
    w = rng.standard_normal(n)
    u = rng.standard_normal(n)
    v = 0.8 * u + 0.6 * rng.standard_normal(n)
    x = z @ np.full(k, strength) + 0.5 * w + v
    y = 1.0 * x + w + u * (1 + np.abs(z[:, 0]))
    return {"y": y, "x": x, "z": z, "w": w, "g": rng.integers(0, 25, n)}


def few_clusters(rng, n_clusters=12):
    """Unequal cluster sizes, labels 0..G-1 in order of appearance (so they are the codes)."""
    sizes = rng.integers(10, 60, n_clusters)
    return np.repeat(np.arange(n_clusters), sizes)


def cov_kwargs(cov, d):
    return {"cov": cov, "clusters": d["g"] if cov == "cluster" else None}


def linearmodels_fit(target, regressors, cov, d):
    kwargs = {"cov_type": "clustered", "clusters": pd.Series(d["g"])} if cov == "cluster" else {"cov_type": cov}
    return IV2SLS(target, regressors, None, None).fit(debiased=True, **kwargs)


# --- Anderson–Rubin test ------------------------------------------------------------------------


@pytest.mark.parametrize("cov", ["unadjusted", "robust", "cluster"])
@pytest.mark.parametrize("k", [1, 2])
def test_ar_statistic_is_linearmodels_wald_over_k(cov, k):
    d = iv_data(k, k=k)
    beta0 = 0.7
    ours = anderson_rubin_test(d["y"], d["x"], d["z"], beta0, exog=d["w"], **cov_kwargs(cov, d))
    ref = linearmodels_fit(d["y"] - beta0 * d["x"], np.column_stack([np.ones(len(d["y"])), d["w"], d["z"]]), cov, d)
    params, covariance = ref.params.to_numpy()[2:], ref.cov.to_numpy()[2:, 2:]
    wald = params @ np.linalg.solve(covariance, params)
    assert ours["statistic"] == pytest.approx(wald / k, rel=1e-6, abs=1e-10)
    if cov == "unadjusted":
        n_params = 2 + k
        assert ours["df"] == (k, len(d["y"]) - n_params)
        assert ours["pvalue"] == pytest.approx(stats.f.sf(wald / k, k, len(d["y"]) - n_params), rel=1e-6)
    else:
        test = ref.wald_test(formula=", ".join(f"{name} = 0" for name in ref.params.index[2:]))
        assert ours["df"] == (k, math.inf)
        assert ours["pvalue"] == pytest.approx(test.pval, rel=1e-6)


def test_ar_accepts_pandas_and_numpy_alike():
    d = iv_data(0)
    frame = pd.DataFrame({"y": d["y"], "x": d["x"], "z": d["z"][:, 0], "w": d["w"]})
    a = anderson_rubin_test(frame["y"], frame["x"], frame[["z"]], 1.0, exog=frame["w"])
    b = anderson_rubin_test(d["y"], d["x"], d["z"], 1.0, exog=d["w"])
    assert a["statistic"] == pytest.approx(b["statistic"], rel=1e-12)


# --- Anderson–Rubin sets ------------------------------------------------------------------------


def brute_force_set(d, cov, level=0.95, span=60.0, points=1201):
    """Invert anderson_rubin_test on a grid, refining each sign change with brentq."""
    def excess(b):
        return anderson_rubin_test(d["y"], d["x"], d["z"], b, exog=d["w"], **cov_kwargs(cov, d))["pvalue"] - (1 - level)

    grid = np.linspace(-span, span, points)
    values = np.array([excess(b) for b in grid])
    changes = np.flatnonzero(np.sign(values[1:]) != np.sign(values[:-1]))
    roots = [optimize.brentq(excess, grid[i], grid[i + 1], xtol=1e-12, rtol=1e-12) for i in changes]
    return roots, values[0] > 0, values[-1] > 0


@pytest.mark.parametrize(("k", "cov", "strength", "seed", "kind"), [
    (1, "robust", 0.3, 0, "interval"),
    (1, "robust", 0.08, 3, "two_rays"),
    (2, "unadjusted", 0.3, 0, "interval"),
    (2, "unadjusted", 0.08, 0, "two_rays"),
    (2, "robust", 0.3, 0, "interval"),  # the numerical inversion (k > 1, robust)
    (2, "robust", 0.08, 0, "two_rays"),
])
def test_ar_set_equals_brute_force_inversion(k, cov, strength, seed, kind):
    d = iv_data(seed, k=k, strength=strength)
    found = anderson_rubin_set(d["y"], d["x"], d["z"], exog=d["w"], cov=cov)
    roots, open_left, open_right = brute_force_set(d, cov)
    assert found.kind == kind
    ends = [end for piece in found.pieces for end in piece if math.isfinite(end)]
    np.testing.assert_allclose(ends, roots, rtol=0, atol=1e-6)
    assert (found.pieces[0][0] == -math.inf) == open_left
    assert (found.pieces[-1][1] == math.inf) == open_right


def test_ar_set_is_empty_when_the_instruments_disagree():
    """With k = 2 and a direct effect of one instrument, no single effect fits both."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((2_000, 2))
    x = z @ [1.0, 1.0] + rng.standard_normal(2_000)
    y = x + 3.0 * z[:, 1] + rng.standard_normal(2_000)
    found = anderson_rubin_set(y, x, z, cov="unadjusted")
    assert found.kind == "empty" and found.pieces == () and str(found) == "∅"
    assert anderson_rubin_test(y, x, z, 2.5, cov="unadjusted")["pvalue"] < 0.05


def test_strong_instrument_ar_interval_is_close_to_the_wald_interval():
    d = iv_data(1, n=5_000, strength=1.0)
    found = anderson_rubin_set(d["y"], d["x"], d["z"], exog=d["w"], cov="robust")
    wald = fit_2sls(d["y"], d["x"], d["z"], exog=d["w"], cov="robust").estimate("endog")
    assert found.kind == "interval" and found.bounded
    np.testing.assert_allclose(found.pieces[0], wald.ci95, atol=0.1 * wald.se)
    assert found.contains(wald.value) and not found.contains(wald.value + 3 * wald.se)


def test_very_weak_instrument_gives_unbounded_ar_sets_in_most_draws():
    sets = [anderson_rubin_set(d["y"], d["x"], d["z"], exog=d["w"], cov="robust")
            for d in (iv_data(seed, strength=0.01) for seed in range(40))]
    unbounded = [s for s in sets if not s.bounded]
    assert len(unbounded) >= 0.8 * len(sets)
    assert {s.kind for s in unbounded} <= {"two_rays", "real_line"}


def test_coverage_ar_exact_at_any_strength_t_fails_when_weak():
    reps = 4_000
    result = weak_iv_coverage([0.0, 0.5], n=200, reps=reps, rng=0)
    assert result["reps"] == reps and result["n"] == 200 and result["strength"] == [0.0, 0.5]
    tol = mc_tolerance(0.95, reps)
    weak, strong = 0, 1
    assert abs(result["ar_coverage"][weak] - 0.95) <= tol
    assert abs(result["ar_coverage"][strong] - 0.95) <= tol
    # Irrelevant instrument, corr(u, v) = 0.8: the Wald interval covers about 87% of the time.
    assert result["t_coverage"][weak] < 0.90
    assert result["ar_unbounded_share"][weak] > 0.9 and result["ar_unbounded_share"][strong] < 0.01
    assert result["mean_f"][weak] < 2 < LMMP_T_TEST_F / 4 < result["median_f"][strong]


def test_coverage_agrees_with_the_one_draw_functions():
    """The vectorised closed forms decide as anderson_rubin_set does, draw by draw."""
    rng = np.random.default_rng(3)
    n, a = 60, 0.2
    for _ in range(20):
        z, u, e = rng.standard_normal((3, n))
        x = a * z + 0.8 * u + 0.6 * e
        y = x + u
        found = anderson_rubin_set(y, x, z, cov="unadjusted")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakInstrumentWarning)
            first_f = fit_2sls(y, x, z, cov="unadjusted").first_stage_f.iloc[0]
        assert found.bounded == (first_f > stats.f.ppf(0.95, 1, n - 2))
        assert found.contains(1.0) == (anderson_rubin_test(y, x, z, 1.0, cov="unadjusted")["pvalue"] > 0.05)


# --- effective F --------------------------------------------------------------------------------


def test_effective_f_unadjusted_is_the_classical_first_stage_f():
    d = iv_data(2, k=3, strength=0.4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakInstrumentWarning)
        classical = fit_2sls(d["y"], d["x"], d["z"], exog=d["w"], cov="unadjusted").first_stage_f.iloc[0]
    assert effective_f(d["x"], d["z"], exog=d["w"], cov="unadjusted") == pytest.approx(classical, rel=1e-6)


@pytest.mark.parametrize("cov", ["robust", "cluster"])
def test_effective_f_with_one_instrument_is_the_squared_robust_t(cov):
    d = iv_data(4, k=1)
    first = linearmodels_fit(d["x"], np.column_stack([np.ones(len(d["x"])), d["w"], d["z"]]), cov, d)
    t_squared = float(first.tstats.iloc[2] ** 2)
    assert effective_f(d["x"], d["z"], exog=d["w"], **cov_kwargs(cov, d)) == pytest.approx(t_squared, rel=1e-6)


def test_effective_f_two_instruments_heteroskedastic():
    """MOP's formula from linearmodels' robust covariance; it differs from the non-robust F."""
    rng = np.random.default_rng(8)
    n = 2_000
    z, w = rng.standard_normal((n, 2)), rng.standard_normal(n)
    x = z @ [0.15, 0.1] + w + rng.standard_normal(n) * (0.3 + 2 * np.abs(z[:, 0]))
    ours = effective_f(x, z, exog=w, cov="robust")
    first = linearmodels_fit(x, np.column_stack([np.ones(n), w, z]), "robust", {})
    design = np.column_stack([np.ones(n), w])
    z_partial = z - design @ np.linalg.lstsq(design, z, rcond=None)[0]
    pi, covariance = first.params.to_numpy()[2:], first.cov.to_numpy()[2:, 2:]
    zz = z_partial.T @ z_partial
    assert ours == pytest.approx(pi @ zz @ pi / np.trace(covariance @ zz), rel=1e-6)
    classical = effective_f(x, z, exog=w, cov="unadjusted")
    assert ours > 0 and abs(ours / classical - 1) > 0.2


def test_published_thresholds():
    assert MOP_CRITICAL_VALUE_K1 == pytest.approx(23.109, abs=1e-3)
    assert LMMP_T_TEST_F == 104.7


# --- ConfidenceSet ------------------------------------------------------------------------------


def test_confidence_set_kinds_text_and_json():
    inf = math.inf
    interval = ConfidenceSet.from_pieces([(0.12, 0.87)], 0.95)
    rays = ConfidenceSet.from_pieces([(-inf, -3.1), (0.4, inf)], 0.95)
    line = ConfidenceSet.from_pieces([(-inf, inf)], 0.9)
    assert (interval.kind, rays.kind, line.kind) == ("interval", "two_rays", "real_line")
    assert ConfidenceSet.from_pieces([], 0.95).kind == "empty"
    assert ConfidenceSet.from_pieces([(1.0, inf)], 0.95).kind == "ray"
    assert str(interval) == "[0.12, 0.87]" and str(rays) == "(-inf, -3.1] ∪ [0.4, inf)"
    assert str(ConfidenceSet.from_pieces([(1000.01, 1000.03)], 0.95)) == "[1000.01, 1000.03]"
    assert interval.bounded and not rays.bounded and not line.bounded
    assert rays.contains(-5) and rays.contains(0.4) and not rays.contains(0.0)
    assert rays.to_dict() == {"kind": "two_rays", "level": 0.95, "text": str(rays),
                              "pieces": [[None, -3.1], [0.4, None]]}


# --- wild cluster bootstrap ---------------------------------------------------------------------


def wcr_pvalue_by_loop(y, regressor, exog, clusters, null, v):
    """The restricted wild cluster bootstrap written out draw by draw (the reference)."""
    n = len(y)
    design = np.column_stack([np.ones(n), exog, regressor])
    n_params, n_groups = design.shape[1], clusters.max() + 1
    bread = np.linalg.inv(design.T @ design)

    def t_stat(target):
        coef = bread @ design.T @ target
        scores = np.zeros((n_groups, n_params))
        np.add.at(scores, clusters, design * (target - design @ coef)[:, None])
        var = (bread @ scores.T @ scores @ bread)[-1, -1] * n_groups / (n_groups - 1) * (n - 1) / (n - n_params)
        return (coef[-1] - null) / math.sqrt(var)

    restricted = design[:, :-1]
    target = y - null * regressor
    fitted = restricted @ np.linalg.lstsq(restricted, target, rcond=None)[0]
    boot = np.array([t_stat(fitted + null * regressor + draw[clusters] * (target - fitted)) for draw in v])
    return float(np.mean(np.abs(boot) >= abs(t_stat(y)) * (1 - 1e-10)))


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
@pytest.mark.parametrize("null", [0.0, 0.3])
def test_wild_pvalue_equals_the_explicit_loop(weights, null):
    rng = np.random.default_rng(0)
    g = few_clusters(rng, 10)
    w = rng.standard_normal((len(g), 2))
    r = rng.standard_normal(10)[g] + 0.3 * rng.standard_normal(len(g))
    y = 0.2 * r + w @ [1.0, -1.0] + rng.standard_normal(10)[g] + rng.standard_normal(len(g))
    fast = wild_cluster_pvalue(y, r, exog=w, clusters=g, null=null, weights=weights, draws=199, seed=4)
    slow = wcr_pvalue_by_loop(y, r, w, g, null, bootstrap_weights(weights, 199, 10, seed=4))
    assert fast == slow


def test_wild_bootstrap_has_its_size_with_12_clusters():
    """Cluster-level regressor, intra-cluster correlation 0.5, true null, 12 unequal clusters.

    In this design the conventional CR1 t-test (normal critical values, as linearmodels and
    dclm report) rejects about 16% of the time at 5% (13% with t(G - 1) critical values); the
    restricted wild bootstrap rejects about 5%.
    """
    rng = np.random.default_rng(2024)
    reps = 500
    wild, conventional = [], []
    for rep in range(reps):
        g = few_clusters(rng)
        r = rng.standard_normal(12)[g]
        y = rng.standard_normal(12)[g] + rng.standard_normal(len(g))
        wild.append(wild_cluster_pvalue(y, r, clusters=g, draws=199, seed=rep) <= 0.05)
        conventional.append(abs(ols(y, r, cov_type="cluster", clusters=g).tstats.iloc[-1]) > 1.959964)
    assert abs(np.mean(wild) - 0.05) <= mc_tolerance(0.05, reps)
    assert np.mean(conventional) > np.mean(wild) + 0.05


def iv_few_clusters(rng, strength=1.0):
    """Just-identified IV, instrument and confounding shock at the cluster level; effect 1."""
    g = few_clusters(rng)
    z = rng.standard_normal(12)[g]
    shock = rng.standard_normal(12)[g]
    x = strength * z + shock + 0.5 * rng.standard_normal(12)[g] + rng.standard_normal(len(g))
    y = x + 1.5 * shock + rng.standard_normal(12)[g] + rng.standard_normal(len(g))
    return y, x, z, g


def test_wild_ar_set_covers_with_12_clusters_where_the_asymptotic_one_does_not():
    rng = np.random.default_rng(11)
    reps = 300
    wild, asymptotic = [], []
    for rep in range(reps):
        y, x, z, g = iv_few_clusters(rng)
        wild.append(wild_cluster_ar_set(y, x, z, clusters=g, draws=199, seed=rep).contains(1.0))
        asymptotic.append(anderson_rubin_set(y, x, z, cov="cluster", clusters=g).contains(1.0))
    assert abs(np.mean(wild) - 0.95) <= mc_tolerance(0.95, reps)
    # chi2 critical values with 12 clusters: about 85% coverage in this design.
    assert np.mean(asymptotic) < np.mean(wild) - 0.05


def test_wild_ar_set_agrees_with_the_pvalue_it_inverts():
    """beta0 is in the set exactly when the p-value of z in y − beta0·x on [1, z] exceeds 5%."""
    y, x, z, g = iv_few_clusters(np.random.default_rng(1), strength=3.0)
    found = wild_cluster_ar_set(y, x, z, clusters=g, draws=399, seed=7)
    assert found.kind == "interval"
    low, high = found.pieces[0]
    for beta0 in np.r_[np.linspace(low - 1, high + 1, 41), low + 1e-6, high - 1e-6, low - 1e-6, high + 1e-6]:
        p = wild_cluster_pvalue(y - beta0 * x, z, clusters=g, draws=399, seed=7)
        assert found.contains(beta0) == (p > 0.05), beta0
    # A grid that ends inside the set reports the set as open there.
    short = wild_cluster_ar_set(y, x, z, clusters=g, draws=399, seed=7, grid=np.linspace((low + high) / 2, high + 1, 50))
    assert short.kind == "ray" and short.pieces[0][0] == -math.inf
    assert short.pieces[0][1] == pytest.approx(high, abs=1e-9)


def test_wild_interval_for_an_ols_coefficient():
    rng = np.random.default_rng(6)
    g = few_clusters(rng)
    r = rng.standard_normal(12)[g]
    y = 0.5 * r + rng.standard_normal(12)[g] + rng.standard_normal(len(g))
    found = wild_cluster_interval(y, r, clusters=g, draws=399, seed=1)
    fit = ols(y, r, cov_type="cluster", clusters=g).estimate("x")
    assert found.kind == "interval" and found.contains(fit.value)
    # With 12 clusters the bootstrap interval is wider than the CR1 normal one.
    assert found.pieces[0][1] - found.pieces[0][0] > fit.ci95[1] - fit.ci95[0]
    for b in found.pieces[0]:
        assert wild_cluster_pvalue(y, r, clusters=g, null=b + 1e-7 * np.sign(b - fit.value), draws=399, seed=1) <= 0.05


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "message"), [
    (lambda d: anderson_rubin_test(d["y"], d["x"], d["z"], 1.0, cov="HC3"),
     "cov must be 'unadjusted', 'robust' or 'cluster', got 'HC3'"),
    (lambda d: anderson_rubin_set(d["y"][:-1], d["x"], d["z"]), "endog has 400 rows but y has 399"),
    (lambda d: anderson_rubin_test(d["y"], d["x"], d["z"][:-1], 1.0), "instruments has 399 rows but y has 400"),
    (lambda d: anderson_rubin_set(d["y"], d["x"], d["z"], cov="cluster"), "cov='cluster' needs clusters"),
    (lambda d: anderson_rubin_set(d["y"], d["x"], d["z"], clusters=d["g"]), "use cov='cluster'"),
    (lambda d: anderson_rubin_set(d["y"], d["x"], d["z"], cov="cluster", clusters=d["g"][:5]),
     "clusters has 5 rows but y has 400"),
    (lambda d: anderson_rubin_set(d["y"], d["x"], d["z"], level=95), "level=95"),
    (lambda d: anderson_rubin_test(d["y"], np.r_[np.nan, d["x"][1:]], d["z"], 1.0),
     "endog contains NaN or inf (first at row 0)"),
    (lambda d: anderson_rubin_test(d["y"], d["x"], d["z"], math.nan), "beta0=nan"),
    (lambda d: anderson_rubin_set(d["y"], np.column_stack([d["x"], d["x"]]), d["z"]), "endog must be one column"),
    (lambda d: anderson_rubin_set(d["y"], d["x"], np.column_stack([d["z"], 2 * d["z"]])), "instruments: an instrument"),
    (lambda d: effective_f(d["x"], d["z"][:-1]), "instruments has 399 rows but endog has 400"),
    (lambda d: effective_f(d["x"], d["z"], cov="cluster"), "cov='cluster' needs clusters"),
    (lambda d: wild_cluster_pvalue(d["y"], d["x"], clusters=d["g"], weights="gaussian"),
     "weights must be 'rademacher' or 'webb', got 'gaussian'"),
    (lambda d: wild_cluster_pvalue(d["y"], d["x"]), "clusters: the wild cluster bootstrap needs clusters"),
    (lambda d: wild_cluster_pvalue(d["y"], d["x"], clusters=d["g"], draws=5), "draws=5"),
    (lambda d: wild_cluster_ar_set(d["y"], d["x"], np.column_stack([d["z"], d["w"]]), clusters=d["g"]),
     "instrument must be one column"),
    (lambda d: wild_cluster_interval(d["y"], d["x"], clusters=d["g"], grid=[1.0, 0.0]), "grid must be an increasing"),
    (lambda d: weak_iv_coverage([0.1, math.nan]), "strengths contains NaN"),
    (lambda d: weak_iv_coverage([0.1], reps=0), "reps=0"),
])
def test_bad_input_is_a_one_line_valueerror_naming_the_argument(call, message):
    with pytest.raises(ValueError) as err:
        call(iv_data(0))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_confidence_set_format_rounds_finite_ends_for_prose():
    rays = ConfidenceSet.from_pieces([(-math.inf, 1.2781), (3.0, math.inf)], 0.95)
    assert rays.format() == "(-inf, 1.28] ∪ [3.00, inf)"
    assert ConfidenceSet.from_pieces([(0.95789, 1.0781)], 0.95).format(3) == "[0.958, 1.078]"
    assert ConfidenceSet.from_pieces([], 0.95).format() == "∅"
