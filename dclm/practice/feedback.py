"""What a check returns (:class:`Feedback`) and the reading of a student's answer every check shares:
as a number, as a vector, compared with the reference and the usual mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dclm.claims import Claim

PASS, FAIL = "✔ Correct:", "✘ Not yet:"


@dataclass(frozen=True, repr=False)
class Feedback(Claim):
    """The verdict on one answer: a claim about it (``holds``, ``text``), read as ``passed`` and
    ``message``, shown as "✔ Correct: ..." or "✘ Not yet: ..." in a notebook."""

    @property
    def passed(self) -> bool:
        return self.holds

    @property
    def message(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"{PASS if self.passed else FAIL} {self.message}"

    __str__ = __repr__  # printed or shown, a verdict starts with its mark

    def _repr_markdown_(self) -> str:
        return f"**{PASS if self.passed else FAIL}** {self.message}"


def correct(message: str) -> Feedback:
    return Feedback(True, message)


def not_yet(message: str) -> Feedback:
    return Feedback(False, message)


def as_number(name: str, value) -> float | Feedback:
    """``value`` as a finite float, or the Feedback saying why it is not one."""
    if value is None:
        return not_yet(f"`{name}` is still None: replace None with your answer and run the cell again.")
    try:
        number = float(np.asarray(value, dtype=float).item())
    except (TypeError, ValueError):
        return not_yet(f"`{name}` should be one number, got {type(value).__name__} {str(value)[:60]!r}.")
    if not np.isfinite(number):
        return not_yet(f"`{name}` is {number}: check for a division by zero or an empty selection.")
    return number


def as_vector(name: str, value, n: int, what: str) -> np.ndarray | Feedback:
    """``value`` as a finite float vector of length ``n``, or the Feedback saying why not."""
    if value is None:
        return not_yet(f"`{name}` is still None: replace None with your answer and run the cell again.")
    try:
        vector = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        return not_yet(f"`{name}` should be an array of numbers, got {type(value).__name__}.")
    if len(vector) != n:
        return not_yet(f"`{name}` has {len(vector)} values; it needs {n}, one per {what}.")
    if not np.isfinite(vector).all():
        return not_yet(f"`{name}` contains NaN or infinite values.")
    return vector


def close(a: float, b: float, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    return bool(np.isclose(a, b, rtol=rtol, atol=atol))


def compare(name: str, value, reference: float, mistakes: list[tuple[float, str]], right: str,
             rtol: float = 1e-4, atol: float = 1e-6) -> Feedback:
    """Pass when ``value`` equals ``reference``; else the message of the first matching mistake."""
    number = as_number(name, value)
    if isinstance(number, Feedback):
        return number
    if close(number, reference, rtol, atol):
        return correct(right)
    for wrong, message in mistakes:
        if np.isfinite(wrong) and close(number, wrong, rtol, atol):
            return not_yet(message)
    if close(number, -reference, rtol, atol):
        return not_yet(f"`{name}` = {number:.4g} has the right size but the wrong sign: check which "
                   "way round you subtracted.")
    return not_yet(f"`{name}` = {number:.4g} is not what the reference computes; re-read the step in "
               "the cell above and check each piece separately.")


def slope(y, x) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    xc = x - x.mean()
    return float(xc @ (y - y.mean()) / (xc @ xc))
