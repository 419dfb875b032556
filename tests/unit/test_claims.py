"""dclm.claims: each helper's verdict on constructed inputs, both when it holds and when it fails."""

import math

import numpy as np
import pytest
from scipy import stats

from dclm.claims import Claim, greater, off_target, on_target
from dclm.stats import seed_interval

# Mean exactly 1.0, SD about 0.1, Monte Carlo SE 0.01: a target 0.5 away is 50 SEs off.
DRAWS = list(1.0 + 0.1 * np.tile([-1.0, 1.0], 50))


def test_claim_prints_its_text():
    assert str(Claim(True, "words")) == "words"


def test_on_target_holds_at_the_truth_and_fails_far_from_it():
    near = on_target(DRAWS, 1.0, "the estimator")
    assert near.holds
    assert near.text == "the estimator is centred on the truth (mean 1.00 over 100 draws, truth 1)"
    far = on_target(DRAWS, 1.5, "the estimator")
    assert not far.holds
    assert "biased by -0.50" in far.text


def test_on_target_threshold_is_z_monte_carlo_standard_errors():
    se = np.std(DRAWS, ddof=1) / math.sqrt(len(DRAWS))
    assert on_target(DRAWS, 1.0 + 2.9 * se, "x").holds
    assert not on_target(DRAWS, 1.0 + 3.1 * se, "x").holds
    assert on_target(DRAWS, 1.0 + 3.1 * se, "x", z=4.0).holds


def test_off_target_is_the_opposite_verdict_with_the_same_text():
    assert off_target(DRAWS, 1.5, "x").holds
    assert not off_target(DRAWS, 1.0, "x").holds
    assert off_target(DRAWS, 1.5, "x").text == on_target(DRAWS, 1.5, "x").text


def test_seed_interval_is_a_t_interval_for_the_mean():
    values = [1.0, 2.0, 3.0, 4.5]
    expected = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert seed_interval(values) == pytest.approx(expected, rel=1e-12)
    assert seed_interval(values, level=0.5)[1] < expected[1]


def test_seed_interval_of_one_seed_is_undefined():
    low, high = seed_interval([0.7])
    assert math.isnan(low) and math.isnan(high)


def test_greater_on_single_numbers():
    assert greater(2.0, 1.0, "A", "B", "score").holds
    assert greater(2.0, 1.0, "A", "B", "score").text == "A's score (2.00) is higher than B's (1.00)"
    lower = greater(1.0, 2.0, "A", "B", "score")
    assert not lower.holds and "not higher than" in lower.text
    assert not greater(1.0, 1.0, "A", "B", "score").holds


def test_greater_paired_needs_the_whole_difference_interval_above_zero():
    b = np.array([0.50, 0.61, 0.48, 0.70, 0.55])
    assert greater(b + np.array([0.10, 0.12, 0.09, 0.11, 0.10]), b, "A", "B", "score").holds
    # A mean difference above zero is not enough when the seeds disagree.
    noisy = greater(b + np.array([0.5, -0.4, 0.3, -0.3, 0.1]), b, "A", "B", "score")
    assert not noisy.holds and "not distinguishable from" in noisy.text
    below = greater(b - 0.1, b, "A", "B", "score")
    assert not below.holds and "lower than" in below.text and "over 5 seeds" in below.text


def test_greater_unpaired_uses_both_groups_spread():
    a, b = [1.0, 1.1, 0.9, 1.05], [0.0, 0.1, -0.1, 0.05]
    assert greater(a, b, "A", "B", "score", paired=False).holds
    assert not greater(b, a, "B", "A", "score", paired=False).holds
    overlapping = greater([1.0, 3.0, -1.0, 2.0], [0.5, 0.0, 1.5, 0.2], "A", "B", "score", paired=False)
    assert not overlapping.holds
