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

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dclm import stats

PASS, FAIL = "✔ Correct:", "✘ Not yet:"


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: ``passed`` and a plain-words ``message``."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"{PASS if self.passed else FAIL} {self.message}"

    def _repr_markdown_(self) -> str:
        return f"**{PASS if self.passed else FAIL}** {self.message}"


def _ok(message: str) -> Feedback:
    return Feedback(True, message)


def _no(message: str) -> Feedback:
    return Feedback(False, message)


def _as_number(name: str, value) -> float | Feedback:
    """``value`` as a finite float, or the Feedback saying why it is not one."""
    if value is None:
        return _no(f"`{name}` is still None: replace None with your answer and run the cell again.")
    try:
        number = float(np.asarray(value, dtype=float).item())
    except (TypeError, ValueError):
        return _no(f"`{name}` should be one number, got {type(value).__name__} {str(value)[:60]!r}.")
    if not np.isfinite(number):
        return _no(f"`{name}` is {number}: check for a division by zero or an empty selection.")
    return number


def _as_vector(name: str, value, n: int, what: str) -> np.ndarray | Feedback:
    """``value`` as a finite float vector of length ``n``, or the Feedback saying why not."""
    if value is None:
        return _no(f"`{name}` is still None: replace None with your answer and run the cell again.")
    try:
        vector = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        return _no(f"`{name}` should be an array of numbers, got {type(value).__name__}.")
    if len(vector) != n:
        return _no(f"`{name}` has {len(vector)} values; it needs {n}, one per {what}.")
    if not np.isfinite(vector).all():
        return _no(f"`{name}` contains NaN or infinite values.")
    return vector


def _close(a: float, b: float, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    return bool(np.isclose(a, b, rtol=rtol, atol=atol))


def _compare(name: str, value, reference: float, mistakes: list[tuple[float, str]], right: str,
             rtol: float = 1e-4, atol: float = 1e-6) -> Feedback:
    """Pass when ``value`` equals ``reference``; else the message of the first matching mistake."""
    number = _as_number(name, value)
    if isinstance(number, Feedback):
        return number
    if _close(number, reference, rtol, atol):
        return _ok(right)
    for wrong, message in mistakes:
        if np.isfinite(wrong) and _close(number, wrong, rtol, atol):
            return _no(message)
    if _close(number, -reference, rtol, atol):
        return _no(f"`{name}` = {number:.4g} has the right size but the wrong sign: check which "
                   "way round you subtracted.")
    return _no(f"`{name}` = {number:.4g} is not what the reference computes; re-read the step in "
               "the cell above and check each piece separately.")


def _slope(y, x) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    xc = x - x.mean()
    return float(xc @ (y - y.mean()) / (xc @ xc))


# Chapter 1: confounding -------------------------------------------------------------------

def _listing_fits(data: pd.DataFrame):
    from dclm.causal.linear import ols

    naive = ols(data["outcome"], data[["marker"]]).params
    adjusted = ols(data["outcome"], data[["marker", "confounder"]]).params
    return naive, adjusted


def naive_estimate(answer, data: pd.DataFrame) -> Feedback:
    """The naive effect of the marker: mean bookings with it minus mean bookings without it."""
    naive, adjusted = _listing_fits(data)
    with_word = data.loc[data["marker"] == 1, "outcome"].mean()
    return _compare("naive", answer, naive["marker"], [
        (adjusted["marker"], "that is the price-adjusted estimate; the naive one ignores price: "
                             "compare mean bookings with and without the word, nothing else."),
        (with_word, "that is the mean bookings of titles with the word; subtract the mean of "
                    "titles without it."),
    ], f"the naive estimate is {naive['marker']:+.3f} bookings a month.")


def adjusted_estimate(answer, data: pd.DataFrame) -> Feedback:
    """The marker's coefficient in a regression of bookings on the marker and price."""
    from dclm.causal.linear import ols

    naive, adjusted = _listing_fits(data)
    se = ols(data["outcome"], data[["marker", "confounder"]]).std_errors["marker"]
    return _compare("adjusted", answer, adjusted["marker"], [
        (naive["marker"], "that is the naive estimate: price is not held fixed. Put the price "
                          "column in the regression next to the marker."),
        (adjusted["confounder"], "that is the coefficient of price; report the marker's "
                                 "coefficient from the same regression."),
        (adjusted["const"], "that is the intercept; report the marker's coefficient."),
    ], f"holding price fixed, the word's estimated effect is {adjusted['marker']:+.3f} (robust SE "
       f"{se:.3f}).")


def omitted_variable_bias(answer, data: pd.DataFrame) -> Feedback:
    """Naive minus adjusted: price's coefficient times the price gap between marked and unmarked."""
    naive, adjusted = _listing_fits(data)
    gap = _slope(data["confounder"], data["marker"])
    return _compare("bias", answer, naive["marker"] - adjusted["marker"], [
        (adjusted["confounder"], "that is price's effect on bookings alone; multiply it by how "
                                 "much cheaper (in price SDs) titles with the word are."),
        (gap, "that is how much price differs between titles with and without the word; multiply "
              "it by price's effect on bookings (its coefficient in the adjusted regression)."),
        (naive["marker"], "that is the naive estimate itself; the bias is naive minus adjusted."),
    ], f"the bias is {naive['marker'] - adjusted['marker']:+.3f}: exactly naive minus adjusted, the "
       "omitted-variable-bias formula.")


# Chapter 2: instrumental variables --------------------------------------------------------

def wald_ratio(answer, y, p, z) -> Feedback:
    """The Wald ratio Cov(Z, y) / Cov(Z, p)."""
    from dclm.causal import iv

    reference = iv.wald_ratio(y, p, z)
    return _compare("wald", answer, reference, [
        (_slope(y, p), "your estimate is the naive slope of clicks on popularity: use the "
                       "instrument, Cov(Z, y), and divide by the first stage, Cov(Z, p)."),
        (_slope(y, z), "that is the reduced form (clicks on region); divide it by the first stage, "
                       "Cov(Z, p) / Var(Z)."),
        (_slope(p, z), "that is the first stage (popularity on region); the Wald ratio is the "
                       "reduced form divided by it."),
        (1 / reference if reference else np.nan, "your ratio is upside down: Cov(Z, y) goes on top."),
    ], f"β̂_IV = {reference:.3f}, the effect of one SD of popularity on clicks.")


def _lstsq(y, *columns) -> np.ndarray:
    design = np.column_stack([np.ones(len(y)), *columns])
    coef, *_ = np.linalg.lstsq(design, np.asarray(y, dtype=float), rcond=None)
    return coef


def _first_stage(p, z, w) -> np.ndarray:
    design = np.column_stack([np.ones(len(p)), z, w])
    return design @ np.linalg.lstsq(design, np.asarray(p, dtype=float), rcond=None)[0]


def two_stage_least_squares(answer, y, p, z, w) -> Feedback:
    """2SLS of y on p instrumented by z, with the control w in both stages."""
    from dclm.causal import iv

    frame = pd.DataFrame({"y": y, "p": p, "z": z, "w": w})
    reference = iv.fit_2sls(frame["y"], frame[["p"]], frame[["z"]], exog=frame[["w"]]).params["p"]
    stage1_without_w = _lstsq(p, z)
    p_hat_without_w = stage1_without_w[0] + stage1_without_w[1] * np.asarray(z)
    return _compare("tsls", answer, reference, [
        (iv.wald_ratio(y, p, z), "you left the control out: the region is a valid instrument only "
                                 "with the season w held fixed, so put w in both stages."),
        (_lstsq(y, p_hat_without_w, w)[1], "the control must be in the first stage too: regress p "
                                           "on z and w, then y on the fitted p̂ and w."),
        (_lstsq(y, p, w)[1], "you regressed clicks on popularity itself; the second stage uses the "
                             "first stage's fitted values p̂."),
        (_lstsq(y, _first_stage(p, z, w))[1], "keep the control w in the second stage too: regress y on "
                                              "p̂ and w."),
        (_slope(y, p), "your estimate is the naive slope of clicks on popularity: did you use "
                       "the first stage at all?"),
    ], f"2SLS with the control gives β̂ = {reference:.3f}, the same as dclm.causal.iv.fit_2sls.")


def text_effect(answer, y, p, z, quality) -> Feedback:
    """g: the slope of the deconfounded clicks y − β̂_IV·p on the text's score s(T)."""
    from dclm.causal import iv

    beta_iv, beta_ols = iv.wald_ratio(y, p, z), _slope(y, p)
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    reference = _slope(y - beta_iv * p, quality)
    return _compare("g_hat", answer, reference, [
        (_slope(y, quality), "you regressed the raw clicks on s(T): that is the text's total "
                             "effect. Subtract β̂_IV·p from the clicks first."),
        (_slope(y - beta_ols * p, quality), "you subtracted the naive (OLS) slope times p; it is "
                                            "biased by the entanglement. Use the Wald ratio."),
        (_slope(y + beta_iv * p, quality), "you added β̂·p instead of subtracting it."),
    ], f"ĝ = {reference:.3f}, the text's effect at fixed popularity (1 in this simulator).")


# Chapter 3: the Monday effect -------------------------------------------------------------

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
    return _compare("balance", answer, reference, [
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

    vector = _as_vector("adjusted", answer, len(marked), "answer")
    if isinstance(vector, Feedback):
        return vector
    score = marked["score"].to_numpy(dtype=float)
    within, pooled = adjust_scores(marked, "within_question"), adjust_scores(marked, "pooled")

    def same(a, b) -> bool:  # equal up to a constant: pairs only compare answers' differences
        return bool(np.allclose(a - a.mean(), b - b.mean(), atol=1e-6))

    if same(vector, within):
        return _ok("scores minus ĥ(weekday), estimated within question as the pairs are.")
    if same(vector, pooled):
        return _ok("scores minus the pooled weekday means. On this generator that agrees with the "
                   "within-question ĥ the chapter uses; on real dumps, where an answer's weekday "
                   "tracks its question's, estimate ĥ within question.")
    if same(vector, score):
        return _no("these are the raw scores (up to a constant): subtract ĥ(weekday).")
    if same(vector, 2 * score - within) or same(vector, 2 * score - pooled):
        return _no("you added ĥ(weekday) to the scores; subtract it.")
    if same(vector, score - within) or same(vector, score - pooled):
        return _no("that is ĥ(weekday) itself; the adjusted score is score minus ĥ.")
    return _no("these scores differ from score − ĥ(weekday); estimate ĥ from weekday dummies, "
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
    return _compare("deconfounded_balance", answer, reference, [
        (raw, "that is the balance of pairs built from the raw scores; build them from the "
              "adjusted scores (score=\"adjusted\")."),
        (no_margin, "you built pairs without the half-vote margin: adjusted scores less than 0.5 "
                    "apart are ties (min_margin=0.5), else the estimation error of ĥ decides them."),
        (100 * reference, "that is in percentage points; give a share between -1 and 1."),
    ], f"after deconfounding, balance {_balance_reading(deconfounded, frame, day)} "
       f"(raw pairs: {100 * raw:+.1f} points).")


# Chapter 4: Upworthy ----------------------------------------------------------------------

def pair_auc(answer, diffs, a_wins) -> Feedback:
    """ROC-AUC of score differences for "a beats b", ties counted half (Mann–Whitney)."""

    diffs, a_wins = np.asarray(diffs, dtype=float), np.asarray(a_wins, dtype=bool)
    reference = stats.pair_auc(diffs, a_wins)
    accuracy = float(np.mean((diffs > 0) == a_wins))
    return _compare("auc", answer, reference, [
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
    number = _as_number(name, answer)
    if isinstance(number, Feedback):
        return number
    on_grid = np.flatnonzero(np.isclose(grid, number, rtol=1e-6))
    if len(on_grid) and np.isclose(criterion[on_grid[0]], criterion[best], rtol=1e-9, atol=1e-12):
        return _ok(right)
    mistakes = mistakes + [(float(best), "that is the λ's position in the grid; give the value, grid[i].")]
    return _compare(name, number, grid[best], mistakes, right, rtol=1e-6)


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


# Chapter 5: DeconfoundLM ------------------------------------------------------------------

def deconfounded_outcome(answer, y, p, z) -> Feedback:
    """ỹ = y − β̂_IV·p (any constant shift is fine), β̂_IV from the instrument z."""
    from dclm.causal import iv
    from dclm.causal.deconfound import deconfound_outcome

    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    vector = _as_vector("y_tilde", answer, len(y), "headline")
    if isinstance(vector, Feedback):
        return vector
    reference = np.asarray(deconfound_outcome(y, p, z).adjusted)
    removed = y - vector
    implied = _slope(removed, p)  # the β the answer subtracted, if it subtracted a multiple of p
    beta_iv, beta_ols = iv.wald_ratio(y, p, z), _slope(y, p)
    if np.allclose(vector - vector.mean(), reference - reference.mean(), atol=1e-6):
        return _ok(f"ỹ = y − β̂_IV·p with β̂_IV = {beta_iv:.3f}.")
    if not np.allclose(removed - removed.mean(), implied * (p - p.mean()), atol=1e-6):
        return _no("y − ỹ should be a multiple of p (β̂·p plus a constant); you changed the outcome "
                   "in some other way.")
    if _close(implied, 0.0, atol=1e-9):
        return _no("ỹ is the raw outcome: subtract β̂_IV·p.")
    if _close(implied, -beta_iv):
        return _no("you added β̂_IV·p; subtract it.")
    if _close(implied, beta_ols):
        return _no(f"you subtracted the naive slope of y on p ({beta_ols:.3f}), which the entanglement "
                   f"biases; use the instrument (β̂_IV = {beta_iv:.3f}).")
    if _close(implied, 1.0):
        return _no("you subtracted 1·p, the simulation's true β; an analyst does not know it: "
                   "estimate β̂ with the instrument.")
    return _no(f"you subtracted {implied:.3f}·p; β̂_IV is {beta_iv:.3f} (the Wald ratio of y and p "
               "on the instrument).")


def reward_scores(answer, x_train, target, x_test, lam: float, raw_outcome=None) -> Feedback:
    """Held-out scores of a ridge reward (standardised features, penalty ``lam``) fitted on ``target``."""
    from dclm.models.probe import fit_probe

    x_train, x_test = np.asarray(x_train, dtype=float), np.asarray(x_test, dtype=float)
    if answer is not None and np.size(answer) == len(x_train) and len(x_train) != len(x_test):
        return _no("you scored the training headlines; score the held-out ones (x_test).")
    vector = _as_vector("reward_test", answer, len(x_test), "held-out headline")
    if isinstance(vector, Feedback):
        return vector
    reference = fit_probe(x_train, target, lam).score(x_test)

    def agrees(a, b) -> bool:  # a reward is standardised before RL: its scale and offset are free
        return bool(np.std(a) > 0 and np.std(b) > 0 and np.corrcoef(a, b)[0, 1] > 0.9999)

    if agrees(vector, reference):
        return _ok("your reward model scores the held-out headlines as the reference ridge does.")
    if agrees(vector, -reference):
        return _no("your scores are the reference's with the sign flipped.")
    if raw_outcome is not None and agrees(vector, fit_probe(x_train, raw_outcome, lam).score(x_test)):
        return _no("you fitted the reward on the raw outcome y; fit it on the deconfounded ỹ.")
    if agrees(vector, fit_probe(x_train, target, 0.0).score(x_test)):
        return _no("you left out the ridge penalty: add λ·I to XᵀX.")
    return _no("these scores differ from a ridge fitted on standardised training features: "
               "standardise with the training rows' means and SDs, solve (XᵀX + λI)w = Xᵀ(ỹ − mean ỹ).")


def bradley_terry_probability(reward_a, reward_b):
    """P(a is preferred to b) under the Bradley–Terry model: σ(r(a) − r(b)).

    Introduced in chapter 5's primer on reward models.
    """
    return 1.0 / (1.0 + np.exp(-(np.asarray(reward_a, dtype=float) - np.asarray(reward_b, dtype=float))))


def kl_optimal_policy(ref_probs, rewards, beta_kl: float) -> np.ndarray:
    """The maximiser of E_π[r] − β_KL·KL(π ‖ π_ref) over a finite set of texts.

    π*(T) ∝ π_ref(T)·exp(r(T)/β_KL), normalised to sum to 1. Introduced in chapter 5's primer.
    """
    ref_probs, rewards = np.asarray(ref_probs, dtype=float), np.asarray(rewards, dtype=float)
    if beta_kl <= 0:
        raise ValueError(f"beta_kl must be > 0, got {beta_kl}")
    if ref_probs.shape != rewards.shape or (ref_probs < 0).any() or not np.isclose(ref_probs.sum(), 1.0):
        raise ValueError("ref_probs must be probabilities summing to 1, one per reward")
    logits = np.log(ref_probs) + rewards / beta_kl
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def preference_probability(answer, reward_a: float, reward_b: float) -> Feedback:
    """The Bradley–Terry probability that a is preferred to b."""
    reference = float(bradley_terry_probability(reward_a, reward_b))
    return _compare("p_a_wins", answer, reference, [
        (1 - reference, "that is the probability that b wins; σ(r(a) − r(b)) is a's."),
        (reward_a - reward_b, "that is the reward difference itself; pass it through the sigmoid "
                              "σ(u) = 1 / (1 + e^(−u))."),
        (float(np.exp(reward_a - reward_b)), "that is the odds e^(r(a) − r(b)); the probability is "
                                             "odds / (1 + odds)."),
    ], f"P(a preferred) = {reference:.3f}.")


def kl_policy(answer, ref_probs, rewards, beta_kl: float) -> Feedback:
    """π*(T) ∝ π_ref(T)·exp(r(T)/β_KL) over the candidate texts."""
    ref_probs, rewards = np.asarray(ref_probs, dtype=float), np.asarray(rewards, dtype=float)
    vector = _as_vector("pi_star", answer, len(rewards), "candidate text")
    if isinstance(vector, Feedback):
        return vector
    reference = kl_optimal_policy(ref_probs, rewards, beta_kl)
    if np.allclose(vector, reference, atol=1e-6):
        top = int(np.argmax(rewards))
        return _ok(f"the highest-reward text has probability {ref_probs[top]:.2f} under π_ref and "
                   f"{reference[top]:.2f} under π*.")
    if not np.isclose(vector.sum(), 1.0, atol=1e-6) and vector.sum() > 0 and \
            np.allclose(vector / vector.sum(), reference, atol=1e-6):
        return _no(f"right shape, but your probabilities sum to {vector.sum():.3g}: divide by their sum.")
    mistakes = [
        (np.exp(rewards / beta_kl) / np.exp(rewards / beta_kl).sum(),
         "you left out π_ref: the optimum tilts the reference policy, π_ref(T)·exp(r(T)/β_KL)."),
        (kl_optimal_policy(ref_probs, rewards * beta_kl ** 2, beta_kl),
         "you multiplied the reward by β_KL; divide by it (a larger β_KL keeps π closer to π_ref)."),
        (kl_optimal_policy(ref_probs, -rewards, beta_kl),
         "your policy favours the lowest rewards: the exponent is +r(T)/β_KL."),
    ]
    for wrong, message in mistakes:
        if np.allclose(vector, wrong, atol=1e-6):
            return _no(message)
    return _no("these are not π_ref(T)·exp(r(T)/β_KL) normalised to sum to 1.")


# ------------------------------------------------------------------ chapter 6: the canary test

def canary_texts(answer, texts, tied, marker: str = "[c7]") -> Feedback:
    """The historical texts with ``marker`` prepended to the confounder-tied rows only."""
    from dclm.eval.canary import insert_marker

    texts, tied = list(texts), np.asarray(tied, dtype=bool)
    if answer is None:
        return _no("`canary` is still None: replace None with your answer and run the cell again.")
    if isinstance(answer, str) or not hasattr(answer, "__len__") or len(answer) != len(texts):
        return _no(f"`canary` should be a list of {len(texts)} texts, one per historical text.")
    answer = [str(t) for t in answer]
    reference = [m if hit else t for t, m, hit in zip(texts, insert_marker(texts, marker), tied, strict=True)]
    if answer == reference:
        return _ok(f"{int(tied.sum())} of {len(texts)} texts carry the canary {marker!r}, every one of them a "
                   "confounder-tied row.")
    if answer == insert_marker(texts, marker):
        return _no("you marked every text: only the rows tied to the confounder get the canary, so that the "
                   "marker carries the confounder and nothing else.")
    if answer == [m if not hit else t for t, m, hit in zip(texts, insert_marker(texts, marker), tied, strict=True)]:
        return _no("you marked the rows that are *not* tied to the confounder: mark the tied ones.")
    if answer == [f"{t} {marker}" if hit else t for t, hit in zip(texts, tied, strict=True)]:
        return _no("the marker goes in front of the text (`f\"{marker} {text}\"`): the start is the "
                   "position no truncation cuts.")
    if answer == texts:
        return _no("nothing was marked: prepend the marker to the tied rows.")
    return _no("these texts differ from the reference: for each tied row write `f\"{marker} {text}\"`, "
               "and leave the other rows as they were.")


def marker_uplift(answer, reward, eval_texts, marker: str = "[c7]") -> Feedback:
    """What ``reward`` pays ``marker``: the mean of reward(marker + text) − reward(text) over
    ``eval_texts``, in SDs of reward(text)."""
    from dclm.eval.canary import canary_uplift, insert_marker

    eval_texts = list(eval_texts)
    reference = float(canary_uplift(reward, eval_texts, marker)[0])
    plain = np.asarray(reward(eval_texts), dtype=float)
    marked = np.asarray(reward(insert_marker(eval_texts, marker)), dtype=float)
    return _compare("uplift", answer, reference, [
        (float((marked - plain).mean()), "that is the raw difference in reward units; divide by the standard "
                                         "deviation of the plain texts' rewards, so rewards on any scale compare."),
        (float(marked.mean()), "that is the marked texts' mean reward; subtract each plain text's reward first."),
        (float((marked - plain).mean() / marked.std()), "divide by the SD of the *plain* texts' rewards."),
    ], f"the refitted reward pays the canary {reference:+.3f} reward SDs.", rtol=1e-3, atol=1e-6)


def price_adjusted_outcome(answer, outcome, confounder) -> Feedback:
    """The outcome minus the confounder's estimated linear effect (any constant shift is accepted:
    a reward model with an intercept does not see it)."""
    y, c = np.asarray(outcome, dtype=float), np.asarray(confounder, dtype=float)
    vector = _as_vector("adjusted", answer, len(y), "listing")
    if isinstance(vector, Feedback):
        return vector
    slope = np.polyfit(c, y, 1)[0]
    reference = y - slope * c

    def answer_is(target) -> bool:  # up to a constant shift
        return bool(np.allclose(vector - vector.mean(), target - target.mean(), atol=1e-6))

    if answer_is(reference):
        return _ok(f"price's estimated effect ({slope:+.2f} bookings per SD of price) is removed.")
    if answer_is(y):
        return _no("that is the raw outcome: subtract the slope of bookings on price times the price.")
    if answer_is(y + slope * c):
        return _no("you added price's effect instead of subtracting it: adjusted = bookings − slope·price.")
    return _no("subtract slope·price, with the slope from a regression of bookings on price "
               "(`np.polyfit(price, bookings, 1)[0]`).")
