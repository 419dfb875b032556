"""dclm.stats.tost_paired: equivalence is concluded when the truth is inside the margin, and at
the margin's edge no more often than alpha."""

import numpy as np
import pytest

from dclm.stats import tost_paired


def test_concludes_equivalence_when_the_truth_is_zero_and_the_data_are_precise():
    rng = np.random.default_rng(0)
    b = rng.normal(size=40)
    out = tost_paired(b + rng.normal(0, 0.02, 40), b, margin=0.1)
    assert out["equivalent"] and out["p"] < 0.05 and -0.1 < out["low"] < out["high"] < 0.1


def test_does_not_conclude_equivalence_for_a_real_difference_or_for_noisy_data():
    rng = np.random.default_rng(1)
    b = rng.normal(size=40)
    assert not tost_paired(b + 0.2 + rng.normal(0, 0.02, 40), b, margin=0.1)["equivalent"]
    # Zero difference, but four noisy seeds: not rejecting a difference is not equivalence.
    noisy = tost_paired(rng.normal(0, 0.3, 4), np.zeros(4), margin=0.1)
    assert not noisy["equivalent"] and noisy["p"] >= 0.05


def test_size_at_the_margin_is_at_most_alpha_and_power_inside_it_is_high():
    rng = np.random.default_rng(2)
    draws, n, margin, alpha = 2_000, 5, 0.1, 0.05
    at_edge = np.mean([tost_paired(rng.normal(margin, 0.05, n), np.zeros(n), margin)["equivalent"]
                       for _ in range(draws)])
    # The one-sided test at the edge rejects with probability alpha; TOST needs both: at most alpha.
    assert at_edge <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / draws)
    inside = np.mean([tost_paired(rng.normal(0, 0.05, 20), np.zeros(20), margin)["equivalent"]
                      for _ in range(500)])
    assert inside > 0.95


def test_the_p_value_and_the_interval_agree():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 12))
        out = tost_paired(rng.normal(rng.normal(0, 0.1), rng.uniform(0.01, 0.2), n), np.zeros(n), margin=0.1)
        assert out["equivalent"] == (out["p"] < 0.05)


def test_too_few_seeds_and_bad_margins():
    assert tost_paired([0.1], [0.0], margin=0.1)["equivalent"] is False
    for margin in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="margin"):
            tost_paired([0.1, 0.2], [0.0, 0.0], margin=margin)
