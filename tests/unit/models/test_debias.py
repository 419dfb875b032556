"""The three baseline debiasers remove a confounder they are designed for, on a known truth."""

import numpy as np
import pytest

from dclm.models.debias import confounder_bins, fit_calibrated, fit_mmd, fit_two_head
from dclm.models.probe import fit_probe


def world(n=4_000, seed=0, quality_with_p=0.0):
    """Features that carry quality s and the confounder p (plus noise columns); y = s + 2p + noise."""
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n)
    s = quality_with_p * p + rng.standard_normal(n)
    x = np.column_stack([s, p, rng.standard_normal((n, 6))]) + 0.1 * rng.standard_normal((n, 8))
    y = s + 2.0 * p + 0.3 * rng.standard_normal(n)
    return x, y, p, s


def corr(a, b):
    return float(np.corrcoef(a, b)[0, 1])


# At n = 4,000 the SE of a correlation near 0 is about 1/sqrt(n) = 0.016: 0.05 is three SEs.
NEAR_ZERO = 3 / np.sqrt(4_000)

FITS = {
    "calibrated": lambda x, y, p: fit_calibrated(x, y, p, lam=1.0),
    "two_head": lambda x, y, p: fit_two_head(x, y, p, lam=1.0, mu=100.0),
    "mmd": lambda x, y, p: fit_mmd(x, y, p, lam=1.0, mu=100.0, bins=10),
}


@pytest.mark.parametrize("method", list(FITS))
def test_removes_an_independent_confounder_and_keeps_quality(method):
    x, y, p, s = world()
    naive = fit_probe(x, y, 1.0).score(x)
    assert corr(naive, p) > 0.8  # the naive probe mostly reads the confounder
    scores = FITS[method](x, y, p).score(x)
    assert abs(corr(scores, p)) < NEAR_ZERO, corr(scores, p)
    assert corr(scores, s) > 0.95


@pytest.mark.parametrize("method", list(FITS))
def test_removes_quality_that_moves_with_the_confounder_too(method):
    # The assumption each one states: quality unrelated to p. When it moves with p, the
    # debiased score loses that part of quality and no longer ranks by s as well as s itself does.
    x, y, p, s = world(quality_with_p=1.0)
    scores = FITS[method](x, y, p).score(x)
    assert corr(scores, s) < 0.8


def test_calibration_leaves_a_confounder_free_reward_alone():
    x, _, p, s = world()
    clean = s + 0.3 * np.random.default_rng(1).standard_normal(len(s))
    before, after = fit_probe(x, clean, 1.0).score(x), fit_calibrated(x, clean, p, lam=1.0).score(x)
    assert corr(before, after) > 0.99


def test_mmd_penalty_zero_is_ridge_and_bins_are_quantiles():
    x, y, p, _ = world(n=500)
    np.testing.assert_allclose(fit_mmd(x, y, p, lam=3.0, mu=0.0).weights, fit_probe(x, y, 3.0).weights, atol=1e-10)
    counts = np.bincount(confounder_bins(p, 5))
    assert list(counts) == [100] * 5
    with pytest.raises(ValueError, match="bins=1: an MMD penalty needs at least 2"):
        fit_mmd(x, y, p, lam=1.0, mu=1.0, bins=1)


def test_mismatched_rows_name_the_argument():
    x, y, p, _ = world(n=100)
    with pytest.raises(ValueError, match="features have 100 rows but the confounder has 99"):
        fit_calibrated(x, y, p[:99], lam=1.0)


def test_calibration_removes_all_of_what_the_shrunk_text_probe_reads():
    # A heavy ridge shrinks q(T) towards its mean; the subtracted slope is taken on q(T), so the
    # calibrated reward keeps nothing that moves with q(T) on the training rows, shrinkage or not.
    x, y, p, _ = world(n=1_000)
    lam = 5_000.0
    reads_p = fit_probe(x, p, lam).score(x)
    assert np.std(reads_p) < 0.8 * np.std(p)  # shrunk
    scores = fit_calibrated(x, y, p, lam=lam).score(x)
    assert abs(corr(scores, reads_p)) < 1e-8
