"""deconfound_outcome: recovers h(C) with an instrument, as regression, and as one-hot terms."""

import numpy as np
import pandas as pd
import pytest

from dclm.causal.deconfound import deconfound_outcome
from dclm.causal.simulate import simulate_popularity


def test_linear_iv_recovers_beta_and_keeps_index():
    data = simulate_popularity(5_000, np.random.default_rng(0), beta=1.0)
    data.index = data.index + 1_000
    result = deconfound_outcome(data["outcome"], data["confounder"], data["instrument"])
    est = result.iv.estimate("confounder")
    assert abs(est.value - 1.0) < 3 * est.se
    assert isinstance(result.adjusted, pd.Series) and result.adjusted.index.equals(data.index)
    np.testing.assert_allclose(result.adjusted + result.h, data["outcome"], rtol=1e-12)
    assert abs(result.h.mean()) < 1e-10
    # Deconfounding restores the text's signal in the entangled setting.
    assert np.corrcoef(result.adjusted, data["quality"])[0, 1] > np.corrcoef(data["outcome"], data["quality"])[0, 1]


def test_exogenous_confounder_is_regression_adjustment():
    rng = np.random.default_rng(1)
    c = rng.standard_normal(2_000)
    y = 3 * c + rng.standard_normal(2_000)
    result = deconfound_outcome(y, c, None)
    assert isinstance(result.adjusted, np.ndarray) and result.iv.endog == ()
    est = result.iv.estimate("confounder")
    assert abs(est.value - 3) < 3 * est.se


def test_polynomial_basis_recovers_a_nonlinear_h():
    rng = np.random.default_rng(2)
    n = 20_000
    z = rng.standard_normal(n)
    s = rng.standard_normal(n)
    c = z - 0.5 * s + rng.standard_normal(n) * 0.5
    h = 0.5 * c + 0.4 * c**2
    y = s + h + rng.standard_normal(n)
    result = deconfound_outcome(y, c, z, basis=2)
    true_h = h - h.mean()
    linear = deconfound_outcome(y, c, z)
    assert np.corrcoef(result.h, true_h)[0, 1] > 0.99
    assert np.mean((result.h - true_h) ** 2) < 0.2 * np.mean((linear.h - true_h) ** 2)


def test_binary_instrument_cannot_identify_a_quadratic():
    rng = np.random.default_rng(3)
    z = (rng.random(500) > 0.5).astype(float)
    c = z + rng.standard_normal(500)
    with pytest.raises(ValueError, match="collinear"):
        deconfound_outcome(c + rng.standard_normal(500), c, z, basis=2)


def test_weekday_as_categorical_confounder():
    rng = np.random.default_rng(4)
    days = pd.Series(rng.choice(["Mon", "Tue", "Wed", "Fri"], 4_000))
    effect = days.map({"Mon": 1.0, "Tue": 0.0, "Wed": 0.0, "Fri": -0.5})
    y = pd.Series(effect + rng.standard_normal(4_000))
    result = deconfound_outcome(y, days, None)
    adjusted_means = result.adjusted.groupby(days).mean()
    assert adjusted_means.max() - adjusted_means.min() < 4 * np.sqrt(2 / 1_000)
    assert result.terms == ("C_Mon", "C_Tue", "C_Wed")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"basis": "cubic"}, "basis must be 'linear' or a polynomial degree"),
        ({"basis": 0}, "basis must be"),
        ({"confounder": pd.Series(["a", "b"] * 50)}, "categorical confounders are supported with instrument=None"),
        ({"instrument": np.ones(100)}, "instruments: the instrument is constant"),
        ({"confounder": np.ones(99)}, "confounder has 99 rows but y has 100"),
        ({"controls": np.full(100, np.nan)}, "controls contains NaN"),
    ],
)
def test_bad_input(kwargs, message):
    rng = np.random.default_rng(0)
    args = {"y": rng.standard_normal(100), "confounder": rng.standard_normal(100),
            "instrument": rng.standard_normal(100), **kwargs}
    with pytest.raises(ValueError, match=message):
        deconfound_outcome(**args)
