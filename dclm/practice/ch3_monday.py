"""Checks of practice notebook 3: the marker balance of the pairs, within-question adjusted scores,
the rebuilt pairs' balance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dclm.practice.feedback import Feedback, as_vector, compare, correct, not_yet


def _balance_interval(pairs: pd.DataFrame, marked: pd.DataFrame, day: str) -> dict:
    from dclm.experiments.monday import pair_balance

    return pair_balance(pairs, marked.set_index("answer_id")["marker"], (day,))[day.lower()]


def _balance(pairs: pd.DataFrame, marked: pd.DataFrame, day: str) -> float:
    return _balance_interval(pairs, marked, day)["diff"]


def _balance_reading(pairs: pd.DataFrame, marked: pd.DataFrame, day: str) -> str:
    """The balance with its 95% interval (clustered by question) and what DPO would do with it."""
    b = _balance_interval(pairs, marked, day)
    if b["low"] > 0:
        verdict = f"the {day} marker is more common among chosen answers: DPO would push it up"
    elif b["high"] < 0:
        verdict = f"the {day} marker is more common among rejected answers: DPO would push it down"
    else:
        verdict = f"the interval includes 0: these pairs do not detectably separate the {day} marker"
    return (f"{100 * b['diff']:+.1f} points (95% interval {100 * b['low']:+.1f} to {100 * b['high']:+.1f}); "
            f"{verdict}")


def _share(pairs: pd.DataFrame, marked: pd.DataFrame, column: str, day: str) -> float:
    return float((pairs[column].map(marked.set_index("answer_id")["marker"]) == day).mean())


def marker_balance(answer, pairs: pd.DataFrame, marked: pd.DataFrame, day: str = "Monday") -> Feedback:
    """Share of chosen answers carrying ``day``'s marker minus the share of rejected ones."""
    reference = _balance(pairs, marked, day)
    chosen, rejected = _share(pairs, marked, "chosen_id", day), _share(pairs, marked, "rejected_id", day)
    return compare("balance", answer, reference, [
        (100 * reference, "that is in percentage points; give a share between -1 and 1."),
        (chosen, "that is the share of chosen answers with the marker; subtract the share of "
                 "rejected answers with it."),
        (rejected, "that is the share of rejected answers with the marker; the balance is chosen "
                   "minus rejected."),
        (-reference, "you computed rejected minus chosen; the balance is chosen minus rejected."),
    ], f"balance {_balance_reading(pairs, marked, day)}.")


def adjusted_scores(answer, marked: pd.DataFrame) -> Feedback:
    """Scores minus ĥ(weekday), one per answer, ĥ estimated within question (a constant shift is fine)."""
    from dclm.experiments.monday import adjust_scores

    vector = as_vector("adjusted", answer, len(marked), "answer")
    if isinstance(vector, Feedback):
        return vector
    score = marked["score"].to_numpy(dtype=float)
    within, pooled = adjust_scores(marked, "within_question"), adjust_scores(marked, "pooled")

    def same(a, b) -> bool:  # equal up to a constant: pairs only compare answers' differences
        return bool(np.allclose(a - a.mean(), b - b.mean(), atol=1e-6))

    if same(vector, within):
        return correct("scores minus ĥ(weekday), estimated within question as the pairs are.")
    if same(vector, pooled):
        return correct("scores minus the pooled weekday means. On this generator that agrees with the "
                   "within-question ĥ the chapter uses; on real dumps, where an answer's weekday "
                   "tracks its question's, estimate ĥ within question.")
    if same(vector, score):
        return not_yet("these are the raw scores (up to a constant): subtract ĥ(weekday).")
    if same(vector, 2 * score - within) or same(vector, 2 * score - pooled):
        return not_yet("you added ĥ(weekday) to the scores; subtract it.")
    if same(vector, score - within) or same(vector, score - pooled):
        return not_yet("that is ĥ(weekday) itself; the adjusted score is score minus ĥ.")
    return not_yet("these scores differ from score − ĥ(weekday); estimate ĥ from weekday dummies, "
               "within question, and subtract it from each answer's score.")


def deconfounded_balance(answer, marked: pd.DataFrame, day: str = "Monday", seed: int = 0) -> Feedback:
    """The ``day`` balance of pairs built from adjusted scores with the half-vote margin."""
    from dclm.data.stackexchange import preference_pairs
    from dclm.experiments.monday import adjust_scores

    frame = marked.assign(adjusted=adjust_scores(marked))
    reference = _balance(preference_pairs(frame, seed=seed, score="adjusted", min_margin=0.5), frame, day)
    no_margin = _balance(preference_pairs(frame, seed=seed, score="adjusted", min_margin=0), frame, day)
    deconfounded = preference_pairs(frame, seed=seed, score="adjusted", min_margin=0.5)
    raw = _balance(preference_pairs(frame, seed=seed), frame, day)
    return compare("deconfounded_balance", answer, reference, [
        (raw, "that is the balance of pairs built from the raw scores; build them from the "
              "adjusted scores (score=\"adjusted\")."),
        (no_margin, "you built pairs without the half-vote margin: adjusted scores less than 0.5 "
                    "apart are ties (min_margin=0.5), else the estimation error of ĥ decides them."),
        (100 * reference, "that is in percentage points; give a share between -1 and 1."),
    ], f"after deconfounding, balance {_balance_reading(deconfounded, frame, day)} "
       f"(raw pairs: {100 * raw:+.1f} points).")
