"""Comparative sentences computed from a run's metrics, with the condition a test can assert.

A chapter never types "X beats Y": it glues :attr:`Claim.text`, which states what the numbers
show whichever way they fall, and the experiment tests assert :attr:`Claim.holds` for the
claims its prose builds on, so a lesson that stops holding fails CI instead of staying on the
page. Introduced in chapter 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dclm.stats import seed_interval, welch_interval


@dataclass(frozen=True)
class Claim:
    """``holds``: whether the lesson's condition is true on these metrics; ``text``: the words."""

    holds: bool
    text: str

    def __str__(self) -> str:
        return self.text


def on_target(draws: Sequence[float], truth: float, what: str, z: float = 3.0) -> Claim:
    """Whether the mean of Monte Carlo ``draws`` is within ``z`` Monte Carlo SEs of ``truth``."""
    values = np.asarray(draws, dtype=float)
    mean, se = float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))
    bias = mean - truth
    holds = abs(bias) <= z * se
    verdict = "centred on the truth" if holds else f"biased by {bias:+.2f}"
    return Claim(holds, f"{what} is {verdict} (mean {mean:.2f} over {len(values)} draws, truth {truth:g})")


def off_target(draws: Sequence[float], truth: float, what: str, z: float = 3.0) -> Claim:
    """The opposite lesson: the mean of ``draws`` is more than ``z`` Monte Carlo SEs from ``truth``."""
    claim = on_target(draws, truth, what, z)
    return Claim(not claim.holds, claim.text)


def greater(a: Sequence[float] | float, b: Sequence[float] | float, a_label: str, b_label: str,
            quantity: str, paired: bool = True, unit: str = "seeds") -> Claim:
    """Whether ``a`` exceeds ``b``: for per-seed values, the interval of the (paired) difference
    lies above 0; for single numbers, plain comparison. ``unit`` names what the values are
    replicates of (RL seeds, data draws)."""
    a_values, b_values = np.atleast_1d(np.asarray(a, dtype=float)), np.atleast_1d(np.asarray(b, dtype=float))
    if len(a_values) == 1 or len(b_values) == 1:
        a_mean, b_mean = float(a_values.mean()), float(b_values.mean())
        holds = a_mean > b_mean
        relation = "higher than" if holds else "not higher than"
        return Claim(holds, f"{a_label}'s {quantity} ({a_mean:.2f}) is {relation} {b_label}'s ({b_mean:.2f})")
    diff = a_values - b_values if paired else None
    if paired:
        low, high = seed_interval(diff)
    else:
        # Welch: a t interval with Satterthwaite's degrees of freedom (few seeds per arm).
        lows, highs = welch_interval(a_values[:, None], b_values[:, None])
        low, high = float(lows[0]), float(highs[0])
    holds = low > 0
    relation = "higher than" if holds else ("lower than" if high < 0 else "not distinguishable from")
    return Claim(holds, f"{a_label}'s {quantity} ({a_values.mean():.2f}) is {relation} {b_label}'s "
                        f"({b_values.mean():.2f}; difference 95% interval {low:+.2f} to {high:+.2f} "
                        f"over {len(a_values)} {unit})")
