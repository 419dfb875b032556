"""How often generations contain the weekday markers, and whether models differ.

As in the author's re-run (Table 1): the share of generations containing "Happy", "Monday",
"Friday"; mean and standard error across runs; Welch t-tests between models across training
seeds. ``monday_share`` = Monday / (Monday + Friday) among generations with either day.
Introduced in the Monday chapter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

WORDS = {"happy": "Happy", "monday": "Monday", "friday": "Friday"}
RATE_KEYS = (*WORDS, "monday_share")


def marker_rates(completions: Sequence[str]) -> dict[str, float | None]:
    """Shares in [0, 1] of ``completions`` containing each word (case-sensitive substrings).

    ``monday_share`` is None when no completion names either day.
    """
    if not completions:
        raise ValueError("completions is empty: nothing to measure")
    n = len(completions)
    counts = {key: sum(word in text for text in completions) for key, word in WORDS.items()}
    rates: dict[str, float | None] = {key: count / n for key, count in counts.items()}
    days = counts["monday"] + counts["friday"]
    rates["monday_share"] = counts["monday"] / days if days else None
    return rates


def mean_and_se(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Mean and standard error (sd / sqrt(n)) over runs, ignoring None; None when undefined."""
    present = np.array([v for v in values if v is not None], dtype=float)
    if len(present) == 0:
        return None, None
    se = float(present.std(ddof=1) / math.sqrt(len(present))) if len(present) > 1 else None
    return float(present.mean()), se


def welch_p(a: Sequence[float | None], b: Sequence[float | None]) -> float | None:
    """Two-sided Welch t-test p-value between two sets of per-run values (None if undefined)."""
    x = np.array([v for v in a if v is not None], dtype=float)
    y = np.array([v for v in b if v is not None], dtype=float)
    if len(x) < 2 or len(y) < 2 or (x.std() == 0 and y.std() == 0):
        return None
    return float(stats.ttest_ind(x, y, equal_var=False).pvalue)
