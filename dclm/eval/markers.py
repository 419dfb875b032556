"""How often generations contain the weekday markers, and whether models differ.

As in the author's re-run (Table 1): the share of generations containing "Happy", "Monday",
"Friday"; mean and standard error across runs; Welch t-tests between models across training
seeds. ``monday_share`` = Monday / (Monday + Friday) among generations with either day.
Introduced in the Monday chapter.
"""

from __future__ import annotations

from collections.abc import Sequence

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


