"""Checks for the practice notebooks (notebooks/practice/NN-slug.ipynb).

Each "your turn" cell of a practice notebook asks the student for one step a chapter teaches;
the check cell after it calls one function here. A check computes the reference answer with
the same `dclm` function the chapter uses, compares, and returns a :class:`Feedback` whose
message says what is wrong in plain words: it recognises the usual mistakes (the naive slope
instead of the Wald ratio, a flipped sign, pairs built from raw scores, ...) by computing them
too. A check never raises on a student's answer: ``None`` (the blank), a wrong type or a wrong
shape all come back as a failed :class:`Feedback`, so a notebook with blanks runs to the end.

Also here: the two small formulas of chapter 5's primer on reward models, which no experiment
needs on its own, :func:`bradley_terry_probability` and :func:`kl_optimal_policy`.
Introduced with the practice notebooks (instructor guide).
"""

from dclm.practice.ch1_confounding import adjusted_estimate, naive_estimate, omitted_variable_bias
from dclm.practice.ch2_iv import text_effect, two_stage_least_squares, wald_ratio
from dclm.practice.ch3_monday import adjusted_scores, deconfounded_balance, marker_balance
from dclm.practice.ch4_upworthy import lambda_by_validation_auc, lambda_by_validation_mse, pair_auc
from dclm.practice.ch5_deconfound import (
    bradley_terry_probability,
    deconfounded_outcome,
    kl_optimal_policy,
    kl_policy,
    preference_probability,
    reward_scores,
)
from dclm.practice.ch6_canary import canary_texts, marker_uplift, price_adjusted_outcome
from dclm.practice.feedback import FAIL, PASS, Feedback

__all__ = ["FAIL", "Feedback", "PASS", "adjusted_estimate", "adjusted_scores", "bradley_terry_probability", "canary_texts", "deconfounded_balance", "deconfounded_outcome", "kl_optimal_policy", "kl_policy", "lambda_by_validation_auc", "lambda_by_validation_mse", "marker_balance", "marker_uplift", "naive_estimate", "omitted_variable_bias", "pair_auc", "preference_probability", "price_adjusted_outcome", "reward_scores", "text_effect", "two_stage_least_squares", "wald_ratio"]
