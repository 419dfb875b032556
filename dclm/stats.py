"""Statistics shared by the experiments, written once: intervals and tests across seeds,
ridge paths, pair AUCs and their bootstraps over groups.

Every experiment and :mod:`dclm.claims` imports these; none keeps a private copy. Intervals go
across independent replicates (training or RL seeds, data draws), never across generations of
one model. Introduced where each is first used (chapters 2-4); collected here for reuse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats


def seed_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """A t interval for the mean of independent per-seed values (training or RL seeds)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return (float("nan"), float("nan"))
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return (float(values.mean() - half), float(values.mean() + half))


def tost_paired(a: Sequence[float], b: Sequence[float], margin: float, alpha: float = 0.05) -> dict:
    """Two one-sided t tests (TOST) of "mean(a − b) lies within ±``margin``", paired by seed.

    Equivalence is concluded when both one-sided tests reject at ``alpha``, which is the same as
    the 1 − 2·alpha t interval of the paired difference lying inside (−margin, margin). Failing
    to show a difference is not evidence of none; this test is. Returns ``{"margin", "mean",
    "low", "high", "p", "equivalent", "n"}`` (``low``/``high``: the 1 − 2·alpha interval; ``p``: the
    larger one-sided p-value), in the units of ``a`` and ``b``. Introduced in chapter 3.
    """
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin > 0):
        raise ValueError(f"margin={margin!r}: the equivalence margin must be a positive number")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha!r}: must be between 0 and 0.5")
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(diff)
    if n < 2:
        return {"margin": float(margin), "mean": float(diff.mean()) if n else None, "low": None, "high": None,
                "p": None, "equivalent": False, "n": n}
    mean, se = float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(n))
    half = stats.t.ppf(1 - alpha, n - 1) * se
    if se == 0:
        p = 0.0 if abs(mean) < margin else 1.0
    else:
        p = float(max(stats.t.sf((mean + margin) / se, n - 1), stats.t.cdf((mean - margin) / se, n - 1)))
    low, high = mean - half, mean + half
    return {"margin": float(margin), "mean": mean, "low": float(low), "high": float(high), "p": p,
            "equivalent": bool(-margin < low and high < margin), "n": n}


def welch_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Welch t interval of mean(a) − mean(b) per column (rows are independent refits)."""
    va, vb = a.var(0, ddof=1) / len(a), b.var(0, ddof=1) / len(b) if len(b) > 1 else np.zeros(a.shape[1])
    se = np.sqrt(va + vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = np.where(se > 0, (va + vb) ** 2 / (va**2 / (len(a) - 1) + (vb**2 / (len(b) - 1) if len(b) > 1 else 0)),
                       1.0)
    half = stats.t.ppf(0.5 + level / 2, np.maximum(dof, 1.0)) * se
    centre = a.mean(0) - b.mean(0)
    return centre - half, centre + half


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


def paired_p(a, b) -> float | None:
    """Two-sided paired t-test p-value over training seeds (model a seed k vs model b seed k).

    DPO seed k starts from SFT seed k, so the two are not independent samples; seeds where
    either value is undefined are left out. None with fewer than 2 complete pairs or no spread.
    """
    diffs = np.array([x - y for x, y in zip(a, b, strict=True) if x is not None and y is not None], dtype=float)
    if len(diffs) < 2 or np.all(diffs == diffs[0]):
        return None
    return float(stats.ttest_rel(diffs, np.zeros_like(diffs)).pvalue)


def ridge_path(features: np.ndarray, target: np.ndarray, lambdas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ridge coefficients for every lambda at once, with an unpenalised intercept.

    Minimises ``||y - b - X w||^2 + lambda ||w||^2`` (scikit-learn's ``Ridge(alpha=lambda)``)
    through one eigendecomposition of the centred features' Gram matrix (one SVD when there
    are fewer rows than features). Returns ``(weights (d, L), intercepts (L,))``.
    """
    x_mean, y_mean = features.mean(0), target.mean()
    centred = features - x_mean
    if centred.shape[0] >= centred.shape[1]:
        # d x d instead of n x d: several times faster for many rows (chapter 6 refits it often).
        eigenvalues, vectors = np.linalg.eigh(centred.T @ centred)
        projected = vectors.T @ (centred.T @ (target - y_mean))
        shrink = 1.0 / (np.clip(eigenvalues, 0.0, None)[:, None] + np.asarray(lambdas)[None, :])
        weights = vectors @ (shrink * projected[:, None])
    else:
        u, s, vt = np.linalg.svd(centred, full_matrices=False)
        uty = u.T @ (target - y_mean)
        shrink = s[:, None] / (s[:, None] ** 2 + np.asarray(lambdas)[None, :])
        weights = vt.T @ (shrink * uty[:, None])
    return weights, y_mean - x_mean @ weights


def pair_auc(diffs: np.ndarray, a_wins: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray | float:
    """ROC-AUC of score differences for "a beats b", ties counted half.

    ``diffs`` is one score per pair, or pairs x models (one AUC per column). ``weights`` is one
    weight per pair, or draws x pairs (one AUC per draw: the bootstrap's resampling counts).
    """
    diffs = np.asarray(diffs, dtype=float)
    if diffs.ndim == 2:
        return np.array([pair_auc(column, a_wins, weights) for column in diffs.T])
    positive = np.asarray(a_wins, dtype=bool)
    if positive.all() or not positive.any():
        raise ValueError("pair_auc needs pairs won by a and pairs won by b")
    w = np.ones((1, len(diffs))) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    order = np.argsort(diffs, kind="stable")
    sorted_diffs = diffs[order]
    starts = np.flatnonzero(np.r_[True, sorted_diffs[1:] != sorted_diffs[:-1]])
    pos = np.add.reduceat(w[:, order] * positive[order], starts, axis=1)
    neg = np.add.reduceat(w[:, order] * ~positive[order], starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    auc = (pos * (below + 0.5 * neg)).sum(1) / (pos.sum(1) * neg.sum(1))
    return float(auc[0]) if weights is None or np.ndim(weights) == 1 else auc


def bootstrap_auc_se(diffs: dict[str, np.ndarray], a_wins: np.ndarray, groups: np.ndarray, draws: int,
                     seed: int) -> dict[str, float]:
    """SE of each method's pair AUC, resampling whole test-images (pairs share packages)."""
    weights, positive = group_bootstrap_weights(groups, a_wins, draws, seed)
    return {name: float(np.std(pair_auc(d, positive, weights), ddof=1)) for name, d in diffs.items()}


def group_bootstrap_weights(groups: np.ndarray, a_wins: np.ndarray, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-draw pair weights from resampling whole test-images, keeping only draws with both
    outcomes present (an AUC needs winners and losers); and the winners as booleans."""
    codes, uniques = pd.factorize(groups)
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, len(uniques), len(uniques)), minlength=len(uniques))
                       for _ in range(draws)])
    weights = counts[:, codes].astype(float)
    positive = np.asarray(a_wins, dtype=bool)
    return weights[(weights[:, positive].sum(1) > 0) & (weights[:, ~positive].sum(1) > 0)], positive


def paired_auc_difference(diff_a: np.ndarray, diff_b: np.ndarray, a_wins: np.ndarray, groups: np.ndarray,
                          draws: int, seed: int) -> dict[str, float]:
    """AUC(a) − AUC(b) on the same pairs, with a 95% percentile interval from a paired bootstrap
    over test-images (both AUCs recomputed on each draw). Introduced in chapter 4."""
    weights, positive = group_bootstrap_weights(groups, a_wins, draws, seed)
    boot = pair_auc(diff_a, positive, weights) - pair_auc(diff_b, positive, weights)
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"diff": float(pair_auc(diff_a, positive) - pair_auc(diff_b, positive)), "low": float(low),
            "high": float(high)}


def first_stage_f(instrument, confounder) -> float:
    """The first-stage F of one instrument with an intercept: ``(n − 2) r² / (1 − r²)``.

    ``r`` is the correlation of the instrument with the confounder; the same number as the
    partial F of :func:`dclm.causal.iv.fit_2sls` without controls. Introduced in chapter 2.
    """
    r = np.corrcoef(instrument, confounder)[0, 1]
    return (len(np.asarray(instrument)) - 2) * r**2 / (1 - r**2)
