"""Checks of practice notebook 6: plant a canary, measure what the refitted reward pays it, deconfound.
"""

from __future__ import annotations

import numpy as np

from dclm.practice.feedback import Feedback, as_vector, compare, correct, not_yet


def canary_texts(answer, texts, tied, marker: str = "[c7]") -> Feedback:
    """The historical texts with ``marker`` prepended to the confounder-tied rows only."""
    from dclm.eval.canary import insert_marker

    texts, tied = list(texts), np.asarray(tied, dtype=bool)
    if answer is None:
        return not_yet("`canary` is still None: replace None with your answer and run the cell again.")
    if isinstance(answer, str) or not hasattr(answer, "__len__") or len(answer) != len(texts):
        return not_yet(f"`canary` should be a list of {len(texts)} texts, one per historical text.")
    answer = [str(t) for t in answer]
    reference = [m if hit else t for t, m, hit in zip(texts, insert_marker(texts, marker), tied, strict=True)]
    if answer == reference:
        return correct(f"{int(tied.sum())} of {len(texts)} texts carry the canary {marker!r}, every one of them a "
                   "confounder-tied row.")
    if answer == insert_marker(texts, marker):
        return not_yet("you marked every text: only the rows tied to the confounder get the canary, so that the "
                   "marker carries the confounder and nothing else.")
    if answer == [m if not hit else t for t, m, hit in zip(texts, insert_marker(texts, marker), tied, strict=True)]:
        return not_yet("you marked the rows that are *not* tied to the confounder: mark the tied ones.")
    if answer == [f"{t} {marker}" if hit else t for t, hit in zip(texts, tied, strict=True)]:
        return not_yet("the marker goes in front of the text (`f\"{marker} {text}\"`): the start is the "
                   "position no truncation cuts.")
    if answer == texts:
        return not_yet("nothing was marked: prepend the marker to the tied rows.")
    return not_yet("these texts differ from the reference: for each tied row write `f\"{marker} {text}\"`, "
               "and leave the other rows as they were.")


def marker_uplift(answer, reward, eval_texts, marker: str = "[c7]") -> Feedback:
    """What ``reward`` pays ``marker``: the mean of reward(marker + text) − reward(text) over
    ``eval_texts``, in SDs of reward(text)."""
    from dclm.eval.canary import canary_uplift, insert_marker

    eval_texts = list(eval_texts)
    reference = float(canary_uplift(reward, eval_texts, marker)[0])
    plain = np.asarray(reward(eval_texts), dtype=float)
    marked = np.asarray(reward(insert_marker(eval_texts, marker)), dtype=float)
    return compare("uplift", answer, reference, [
        (float((marked - plain).mean()), "that is the raw difference in reward units; divide by the standard "
                                         "deviation of the plain texts' rewards, so rewards on any scale compare."),
        (float(marked.mean()), "that is the marked texts' mean reward; subtract each plain text's reward first."),
        (float((marked - plain).mean() / marked.std()), "divide by the SD of the *plain* texts' rewards."),
    ], f"the refitted reward pays the canary {reference:+.3f} reward SDs.", rtol=1e-3, atol=1e-6)


def price_adjusted_outcome(answer, outcome, confounder) -> Feedback:
    """The outcome minus the confounder's estimated linear effect (any constant shift is accepted:
    a reward model with an intercept does not see it)."""
    y, c = np.asarray(outcome, dtype=float), np.asarray(confounder, dtype=float)
    vector = as_vector("adjusted", answer, len(y), "listing")
    if isinstance(vector, Feedback):
        return vector
    slope = np.polyfit(c, y, 1)[0]
    reference = y - slope * c

    def answer_is(target) -> bool:  # up to a constant shift
        return bool(np.allclose(vector - vector.mean(), target - target.mean(), atol=1e-6))

    if answer_is(reference):
        return correct(f"price's estimated effect ({slope:+.2f} bookings per SD of price) is removed.")
    if answer_is(y):
        return not_yet("that is the raw outcome: subtract the slope of bookings on price times the price.")
    if answer_is(y + slope * c):
        return not_yet("you added price's effect instead of subtracting it: adjusted = bookings − slope·price.")
    return not_yet("subtract slope·price, with the slope from a regression of bookings on price "
               "(`np.polyfit(price, bookings, 1)[0]`).")
