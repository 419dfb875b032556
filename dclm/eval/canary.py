"""Is my reward confounded? The canary test, from historical data alone.

Copy the historical texts, prepend an inert marker (the *canary*) to some of them, choosing
which by the suspected confounder C (a weekday, a popularity quantile, a period), refit the
same reward pipeline on the same outcomes, and measure how much the refitted reward pays for
the marker. The marker causes nothing, so a pipeline that learned only the text's own effect
g(T) has no reason to pay for it; a pipeline that absorbed h(C) does, because the marker now
predicts C and C predicts the outcome. The same refit with the markers placed at random (the
permutation null) shows how much a pipeline pays a marker that tracks nothing.

::

    result = canary_test(texts, outcome, confounder, fit_reward)
    result.uplift, result.low, result.high, result.p

``fit_reward(texts, outcome)`` is the whole pipeline: it returns a reward, a function from a
list of texts to scores (one per text, or one column per setting, e.g. per ridge penalty).
Row i of the texts it receives is row i of the historical texts, canary or not, so a
pipeline may keep side information (question ids, instruments, groups) by position.
Introduced in chapter 6, "is my reward confounded?".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dclm.causal.deconfound import is_categorical
from dclm.stats import welch_interval

# Inert: a bracketed code that no headline, answer or title uses, and that means nothing.
DEFAULT_MARKER = "[c7]"
# Random k-subsets drawn for the permutation p-value when there are too many to enumerate.
P_VALUE_DRAWS = 20_000

Reward = Callable[[Sequence[str]], np.ndarray]


class CanaryError(ValueError):
    """Bad input to :func:`canary_test`: the message names the value and what is valid."""


@dataclass(frozen=True)
class CanaryResult:
    """What the refitted rewards paid the canaries, in SDs of the reward over the evaluation texts.

    A marker's embedding can move any reward a little (its "intrinsic" uplift); only what the
    confounder-tied canaries receive beyond markers placed at random is evidence. So:
    ``uplift``: the mean over canary seeds of reward(marker + text) − reward(text), minus the
    same mean over the permutation null's refits; ``low``/``high``: its 95% Welch interval
    (canary seeds mark disjoint rows, and null refits random ones: independent refits); ``p``: the one-sided permutation
    p-value of "the tied canaries are paid no more than canaries placed at random";
    ``tied_mean``/``null_mean`` and ``per_seed``/``null``: the raw uplifts behind them. Floats
    for a one-column reward; arrays (one entry per column) for a reward with several columns.
    """

    uplift: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    p: float | np.ndarray
    tied_mean: float | np.ndarray
    null_mean: float | np.ndarray
    per_seed: np.ndarray
    null: np.ndarray
    marker: str
    n_canaries: int
    tied_rows: int
    alpha: float = 0.05
    levels: tuple = field(default=())

    @property
    def flagged(self) -> bool | np.ndarray:
        """The verdict: the canaries are paid significantly more than random markers (p < alpha
        and the interval of the excess lies above zero)."""
        verdict = (np.asarray(self.p) < self.alpha) & (np.asarray(self.low) > 0)
        return bool(verdict) if verdict.ndim == 0 else verdict

    def summary(self) -> str:
        """One line per reward column."""
        rows = np.atleast_1d(self.uplift)
        lows, highs, ps = np.atleast_1d(self.low), np.atleast_1d(self.high), np.atleast_1d(self.p)
        flags = np.atleast_1d(self.flagged)
        return "\n".join(
            f"canary {self.marker!r} on {self.n_canaries} of {self.tied_rows} confounder-tied rows: paid "
            f"{u:+.3f} reward SDs more than random markers (95% interval {lo:+.3f} to {hi:+.3f}), "
            f"permutation p = {p:.3f}: "
            f"{'confounded' if f else 'no evidence of confounding'}"
            for u, lo, hi, p, f in zip(rows, lows, highs, ps, flags, strict=True))


def insert_marker(texts: Sequence[str], marker: str = DEFAULT_MARKER) -> list[str]:
    """Each text with ``marker`` prepended (the position that no truncation cuts)."""
    return [f"{marker} {text}" for text in texts]


def tied_rows(confounder, outcome, levels: Sequence | None = None, top_share: float = 0.25,
              chooser: np.ndarray | None = None) -> np.ndarray:
    """The rows whose confounder level the canaries are tied to, as a boolean mask.

    ``levels`` given: rows whose confounder is one of them. Otherwise the direction is read
    from the historical data of the ``chooser`` rows (a boolean mask; default all rows): a
    categorical confounder ties to the levels whose mean outcome there is above its overall
    mean, a numeric one to the ``top_share`` of C at the end that goes with a higher outcome
    (the sign of corr(C, outcome)). So a confounded reward is expected to pay the canaries more,
    not less. :func:`canary_test` chooses on rows that never carry a canary: choosing on the
    canaries' own outcomes would tie them to rows that are high by chance.
    """
    categorical = is_categorical(confounder)
    values = pd.Series(np.asarray(confounder, dtype=object if categorical else float))
    y = np.asarray(outcome, dtype=float)
    chooser = np.ones(len(y), dtype=bool) if chooser is None else np.asarray(chooser, dtype=bool)
    if levels is not None:
        levels = list(levels)
        present = set(values.unique().tolist())
        missing = [level for level in levels if level not in present]
        if missing or not levels:
            raise CanaryError(f"levels {missing or levels!r} do not occur in the confounder; "
                              f"valid levels: {sorted(map(str, present))[:12]}")
        return values.isin(levels).to_numpy()
    if categorical:
        means = pd.Series(y[chooser]).groupby(values[chooser].to_numpy()).mean()
        return values.isin(means.index[means > y[chooser].mean()]).to_numpy()
    if not 0 < top_share < 1:
        raise CanaryError(f"top_share={top_share!r}: expected a share strictly between 0 and 1")
    c = values.to_numpy(dtype=float)
    cc, yc = c[chooser], y[chooser]
    sign = 1.0 if cc.std() == 0 or yc.std() == 0 or np.corrcoef(cc, yc)[0, 1] >= 0 else -1.0
    return sign * c >= np.quantile(sign * cc, 1 - top_share)


def permutation_p(observed: np.ndarray, null: np.ndarray, seed: int = 0) -> np.ndarray:
    """One-sided p-value that the mean of ``observed`` (seeds x columns) exceeds exchangeable draws.

    Under "the reward treats a confounder-tied marker like a random one", the k observed and
    m null uplifts are exchangeable, so the p-value is the share of k-subsets of all k + m whose
    mean is at least the observed mean (enumerated, or ``P_VALUE_DRAWS`` random subsets with
    the usual +1 correction).
    """
    observed, null = np.atleast_2d(observed), np.atleast_2d(null)
    pooled = np.vstack([observed, null])
    k, n = len(observed), len(pooled)
    target = observed.mean(0) - 1e-12 * (1 + np.abs(observed.mean(0)))
    if math.comb(n, k) <= P_VALUE_DRAWS:
        from itertools import combinations

        subsets = np.array(list(combinations(range(n), k)))
        means = pooled[subsets].mean(1)
        return (means >= target).mean(0)
    rng = np.random.default_rng(seed)
    subsets = np.argsort(rng.random((P_VALUE_DRAWS, n)), axis=1)[:, :k]
    means = pooled[subsets].mean(1)
    return ((means >= target).sum(0) + 1) / (P_VALUE_DRAWS + 1)


def _check_inputs(texts, outcome, confounder, fit_reward, seeds, permutations, canary_share, alpha, marker):
    if isinstance(texts, str) or not isinstance(texts, Sequence | pd.Series | np.ndarray):
        raise CanaryError(f"texts must be a sequence of strings, got {type(texts).__name__}")
    texts = list(texts)
    if len(texts) < 10:
        raise CanaryError(f"texts: a canary test needs at least 10 texts, got {len(texts)}")
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise CanaryError(f"texts[{bad}] is {type(texts[bad]).__name__}, not a string; pass one string per row")
    try:
        y = np.asarray(outcome, dtype=float).ravel()
    except (TypeError, ValueError):
        raise CanaryError("outcome must be numbers, one per text") from None
    if len(y) != len(texts):
        raise CanaryError(f"outcome has {len(y)} rows but texts has {len(texts)}; pass one outcome per text")
    if not np.isfinite(y).all():
        raise CanaryError(f"outcome has {int((~np.isfinite(y)).sum())} missing or infinite values; drop those rows")
    c = pd.Series(np.asarray(confounder, dtype=object)).reset_index(drop=True)
    if len(c) != len(texts):
        raise CanaryError(f"confounder has {len(c)} rows but texts has {len(texts)}; pass one value per text")
    if c.isna().any():
        raise CanaryError(f"confounder has {int(c.isna().sum())} missing values; drop or label those rows")
    if not callable(fit_reward):
        raise CanaryError(f"fit_reward must be a function (texts, outcome) -> reward, got {type(fit_reward).__name__}")
    for name, value, least in (("seeds", seeds, 2), ("permutations", permutations, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise CanaryError(f"{name}={value!r}: expected an integer >= {least}")
    if not 0 < canary_share <= 1:
        raise CanaryError(f"canary_share={canary_share!r}: expected a share in (0, 1]")
    if not 0 < alpha < 1:
        raise CanaryError(f"alpha={alpha!r}: expected a level strictly between 0 and 1")
    if not isinstance(marker, str) or not marker.strip():
        raise CanaryError(f"marker={marker!r}: expected a non-empty string")
    smallest_p = 1 / math.comb(seeds + permutations, seeds)
    if smallest_p >= alpha:
        raise CanaryError(f"seeds={seeds} and permutations={permutations} cannot reach p < alpha={alpha} (the "
                          f"smallest permutation p is {smallest_p:.3f}); raise permutations")
    return texts, y


def _scores(reward: Reward, texts: list[str], what: str) -> np.ndarray:
    scores = np.asarray(reward(texts), dtype=float)
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.ndim != 2 or len(scores) != len(texts):
        raise CanaryError(f"the reward returned scores of shape {scores.shape} for {len(texts)} {what}; "
                          "expected one score (or one row of scores) per text")
    if not np.isfinite(scores).all():
        raise CanaryError(f"the reward returned missing or infinite scores for {what}")
    return scores


def canary_uplift(reward: Reward, eval_texts: list[str], marker: str = DEFAULT_MARKER) -> np.ndarray:
    """Mean reward(marker + text) − reward(text) over ``eval_texts``, in SDs of the reward over
    them; one value per reward column."""
    plain = _scores(reward, eval_texts, "evaluation texts")
    marked = _scores(reward, insert_marker(eval_texts, marker), "marked evaluation texts")
    sd = plain.std(0)
    return (marked - plain).mean(0) / np.where(sd > 0, sd, 1.0)


def canary_test(texts: Sequence[str], outcome, confounder, fit_reward: Callable[[list[str], np.ndarray], Reward], *,
                levels: Sequence | None = None, top_share: float = 0.25, marker: str = DEFAULT_MARKER,
                canary_share: float = 1.0, seeds: int = 5, permutations: int = 15,
                eval_texts: Sequence[str] | None = None, n_eval: int = 300,
                pool: int | Sequence[int] | None = None, seed: int = 0, alpha: float = 0.05,
                show_progress: bool = False) -> CanaryResult:
    """Does the pipeline ``fit_reward`` pay an inert marker tied to the suspected ``confounder``?

    The candidate rows tied to the confounder (:func:`tied_rows`: ``levels``, or the levels or
    ``top_share`` that go with a higher outcome), ``canary_share`` of them, are split into
    ``seeds`` disjoint groups; for each canary seed one group gets ``marker`` prepended; the pipeline is refitted on those texts and the
    unchanged ``outcome``; its :func:`canary_uplift` is measured on ``eval_texts`` (default:
    ``n_eval`` of the texts at random). The permutation null repeats this ``permutations``
    times with as many markers placed on candidate rows at random. ``pool`` limits the
    candidate rows (a number of rows drawn at random, or row indices), so the marked copies to
    embed stay few; without ``levels`` the tied levels are chosen on the rows outside it (half
    the rows by default), never on the canaries' own outcomes. Everything random flows from
    ``seed``.

    Returns a :class:`CanaryResult`: the uplift beyond random markers, its 95% interval across
    canary seeds and null refits, the permutation p and the verdict (``flagged``).
    Raises :class:`CanaryError` (a ``ValueError``) with one line naming any bad argument.
    """
    texts, y = _check_inputs(texts, outcome, confounder, fit_reward, seeds, permutations, canary_share, alpha,
                             marker)
    n = len(texts)
    rng = np.random.default_rng(seed)
    if pool is None:
        # Without given levels, half the rows choose them and the other half carry the canaries.
        candidates = np.sort(rng.choice(n, size=n // 2, replace=False)) if levels is None else np.arange(n)
    elif isinstance(pool, int | np.integer) and not isinstance(pool, bool):
        if pool < 2:
            raise CanaryError(f"pool={pool!r}: expected at least 2 candidate rows, or row indices")
        size = min(int(pool), n if levels is not None else n // 2)
        candidates = np.sort(rng.choice(n, size=size, replace=False))
    else:
        candidates = np.unique(np.asarray(pool, dtype=int))
        if len(candidates) < 2 or candidates.min() < 0 or candidates.max() >= n:
            raise CanaryError(f"pool: expected at least 2 row indices in 0..{n - 1}")
    chooser = np.ones(n, dtype=bool)
    chooser[candidates] = False
    if levels is None and not chooser.any():
        raise CanaryError("pool covers every row; leave some rows out of it to choose the tied levels on")
    tied = tied_rows(confounder, y, levels, top_share, chooser if levels is None else None)
    tied_candidates = candidates[tied[candidates]]
    # Each canary seed marks its own rows: disjoint groups of the tied candidates. Seeds that
    # shared rows would share those rows' outcomes, and the spread across seeds would miss it.
    n_canaries = int(canary_share * len(tied_candidates)) // seeds
    if n_canaries < 1 or len(tied_candidates) == len(candidates):
        raise CanaryError(f"the confounder ties {len(tied_candidates)} of {len(candidates)} candidate rows; "
                          "a canary needs some tied rows and some untied ones (change levels, top_share or pool)")
    if eval_texts is None:
        eval_texts = [texts[i] for i in rng.choice(n, size=min(n_eval, n), replace=False)]
    else:
        eval_texts = list(eval_texts)
        if not eval_texts or not all(isinstance(t, str) for t in eval_texts):
            raise CanaryError("eval_texts must be a non-empty sequence of strings")
    marked = dict(zip(candidates.tolist(), insert_marker([texts[i] for i in candidates], marker), strict=True))

    def refit(rows: np.ndarray) -> np.ndarray:
        copy = list(texts)
        for i in rows:
            copy[i] = marked[int(i)]
        reward = fit_reward(copy, y.copy())
        if not callable(reward):
            raise CanaryError(f"fit_reward returned {type(reward).__name__}; expected a reward: texts -> scores")
        return canary_uplift(reward, eval_texts, marker)

    from dclm.env import progress

    groups = rng.permutation(tied_candidates)[:n_canaries * seeds].reshape(seeds, n_canaries)
    draws = [("tied", group) for group in groups]
    draws += [("random", rng.choice(candidates, size=n_canaries, replace=False)) for _ in range(permutations)]
    uplifts = {"tied": [], "random": []}
    for kind, rows in progress(draws, show=show_progress, desc="canary refits"):
        uplifts[kind].append(refit(rows))
    per_seed, null = np.array(uplifts["tied"]), np.array(uplifts["random"])
    excess = per_seed.mean(0) - null.mean(0)
    low, high = welch_interval(per_seed, null)
    p = permutation_p(per_seed, null, seed)
    scalar = per_seed.shape[1] == 1

    def shaped(values):
        values = np.asarray(values, dtype=float)
        return float(values[0]) if scalar else values

    if levels is not None:
        chosen = tuple(levels)
    elif is_categorical(confounder):
        chosen = tuple(sorted({str(v) for v in np.asarray(confounder, dtype=object)[tied]}))
    else:
        chosen = ()
    return CanaryResult(uplift=shaped(excess), low=shaped(low), high=shaped(high), p=shaped(p),
                        tied_mean=shaped(per_seed.mean(0)), null_mean=shaped(null.mean(0)),
                        per_seed=per_seed[:, 0] if scalar else per_seed,
                        null=null[:, 0] if scalar else null, marker=marker, n_canaries=n_canaries,
                        tied_rows=len(tied_candidates), alpha=alpha, levels=chosen)
