"""Checks of practice notebook 4: a pair AUC, and the ridge penalty chosen by validation MSE and by
validation-pair AUC.
"""

from __future__ import annotations

import numpy as np

from dclm import stats
from dclm.practice.feedback import Feedback, as_number, compare, correct


def pair_auc(answer, diffs, a_wins) -> Feedback:
    """ROC-AUC of score differences for "a beats b", ties counted half (Mann–Whitney)."""

    diffs, a_wins = np.asarray(diffs, dtype=float), np.asarray(a_wins, dtype=bool)
    reference = stats.pair_auc(diffs, a_wins)
    accuracy = float(np.mean((diffs > 0) == a_wins))
    return compare("auc", answer, reference, [
        (1 - reference, "your AUC is flipped (1 − AUC): count a pair a won ranked above a pair b "
                        "won when its score difference is larger."),
        (accuracy, "that is the share of pairs whose winner scores higher (accuracy); the AUC "
                   "compares every pair a won with every pair b won."),
    ], f"AUC = {reference:.3f} (0.5 is a coin flip).")


def _ridge_curves(x, y, train, val, grid):
    """Ridge scores of every row under every λ (fitted on ``train``), validation and training MSE."""

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    weights, intercepts = stats.ridge_path(x[train], y[train], np.asarray(grid, float))
    scores = x @ weights + intercepts
    val_mse = ((scores[val] - y[val][:, None]) ** 2).mean(0)
    train_mse = ((scores[train] - y[train][:, None]) ** 2).mean(0)
    return scores, val_mse, train_mse


def _choose_lambda(name: str, answer, grid: np.ndarray, criterion: np.ndarray, best: int,
                   mistakes: list[tuple[float, str]], right: str) -> Feedback:
    """Pass for any grid value whose criterion ties with the best (a flat curve has several)."""
    number = as_number(name, answer)
    if isinstance(number, Feedback):
        return number
    on_grid = np.flatnonzero(np.isclose(grid, number, rtol=1e-6))
    if len(on_grid) and np.isclose(criterion[on_grid[0]], criterion[best], rtol=1e-9, atol=1e-12):
        return correct(right)
    mistakes = mistakes + [(float(best), "that is the λ's position in the grid; give the value, grid[i].")]
    return compare(name, number, grid[best], mistakes, right, rtol=1e-6)


def lambda_by_validation_mse(answer, x, y, train, val, grid) -> Feedback:
    """The grid's λ whose ridge (fitted on the ``train`` rows) has the smallest MSE on the ``val`` rows."""
    grid = np.asarray(grid, dtype=float)
    _, val_mse, train_mse = _ridge_curves(x, y, train, val, grid)
    best = int(np.argmin(val_mse))
    return _choose_lambda("lam_mse", answer, grid, val_mse, best, [
        (grid[int(np.argmax(val_mse))], "that λ has the largest validation MSE; pick the smallest."),
        (grid[int(np.argmin(train_mse))], "that λ minimises the training MSE, which always favours "
                                          "the weakest penalty; use the validation rows."),
    ], f"validation MSE is lowest at λ = {grid[best]:,.4g}.")


def lambda_by_validation_auc(answer, x, y, train, val, val_a, val_b, val_a_wins, grid) -> Feedback:
    """The grid's λ whose ridge has the largest AUC on the validation pairs (rows ``val_a`` vs ``val_b``)."""

    grid = np.asarray(grid, dtype=float)
    scores, val_mse, _ = _ridge_curves(x, y, train, val, grid)
    auc = stats.pair_auc(scores[np.asarray(val_a)] - scores[np.asarray(val_b)],
                            np.asarray(val_a_wins, dtype=bool))
    best, by_mse = int(np.argmax(auc)), int(np.argmin(val_mse))
    mistakes = [(grid[int(np.argmin(auc))], "that λ has the smallest validation AUC; a larger AUC "
                                            "ranks the pairs better, so pick the largest.")]
    if not np.isclose(auc[by_mse], auc[best], rtol=1e-9):
        mistakes.append((grid[by_mse], "that is the λ validation MSE picks; choose by the AUC on "
                                       "the validation pairs instead."))
    return _choose_lambda("lam_auc", answer, grid, auc, best, mistakes,
                          f"the validation pairs pick λ = {grid[best]:,.4g} (AUC {auc[best]:.3f}); "
                          f"validation MSE picked λ = {grid[by_mse]:,.4g} (AUC {auc[by_mse]:.3f}).")
