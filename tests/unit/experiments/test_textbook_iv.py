"""Card (1995) and Mroz (1987): our estimators against linearmodels and against the textbook's printed figures."""

import numpy as np
import pytest
from linearmodels.iv import IV2SLS

from dclm.data.textbook import CARD_SPEC, MROZ_SPEC, load_card, load_mroz
from dclm.experiments.iv.textbook import PUBLISHED, UnknownExampleError, iv_estimates, reproduce

EXAMPLES = {"card": (load_card, CARD_SPEC), "mroz": (load_mroz, MROZ_SPEC)}


@pytest.mark.parametrize("example", ["card", "mroz"])
def test_every_printed_figure_is_reproduced_to_its_precision(example):
    result = reproduce(example)
    assert all(result["matches"].values()), result["matches"]
    for key, value in PUBLISHED[example].items():
        if key not in ("source", "n"):
            assert abs(result[key] - value) <= 0.0005 + 1e-12, key  # half a unit of the last printed digit
    assert result["n"] == PUBLISHED[example]["n"]


@pytest.mark.parametrize("example", ["card", "mroz"])
@pytest.mark.parametrize("cov", ["unadjusted", "robust"])
def test_2sls_and_ols_equal_linearmodels(example, cov):
    load, spec = EXAMPLES[example]
    data = load()
    ours = iv_estimates(data, spec)
    exog = data[list(spec.controls)].assign(const=1.0)
    suffix = "" if cov == "unadjusted" else "_robust"
    iv = IV2SLS(data[spec.outcome], exog, data[[spec.endog]], data[[spec.instrument]]).fit(cov_type=cov, debiased=True)
    naive = IV2SLS(data[spec.outcome], exog.join(data[[spec.endog]]), None, None).fit(cov_type=cov, debiased=True)
    np.testing.assert_allclose(ours["iv"], iv.params[spec.endog], rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours[f"iv_se{suffix}"], iv.std_errors[spec.endog], rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours["ols"], naive.params[spec.endog], rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours[f"ols_se{suffix}"], naive.std_errors[spec.endog], rtol=0, atol=1e-8)
    if cov == "unadjusted":
        np.testing.assert_allclose(ours["first_stage_f"], iv.first_stage.diagnostics["f.stat"][spec.endog], rtol=1e-8)


def test_card_ar_set_is_an_interval_around_2sls():
    card = reproduce("card")
    (low, high), = card["ar_set"]["pieces"]
    assert card["ar_set"]["kind"] == "interval" and low < card["iv"] < high
    # Weak by Montiel Olea and Pflueger's 23.1, yet strong enough for a bounded Anderson-Rubin set.
    assert 10 < card["effective_f"] < 23.1


def test_card_hausman_t_is_the_contrast_of_the_printed_figures():
    card, printed = reproduce("card"), PUBLISHED["card"]
    from_print = (printed["iv"] - printed["ols"]) / np.sqrt(printed["iv_se"] ** 2 - printed["ols_se"] ** 2)
    assert abs(card["hausman_t"] - from_print) < 0.05  # the printed figures are rounded to 3 decimals


def test_unknown_example_names_the_valid_ones():
    with pytest.raises(UnknownExampleError, match="unknown example 'griliches'; valid: card, mroz"):
        reproduce("griliches")
