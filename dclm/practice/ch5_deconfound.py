"""Checks of practice notebook 5 and the two formulas of chapter 5's primer on reward models
(:func:`bradley_terry_probability`, :func:`kl_optimal_policy`).
"""

from __future__ import annotations

import numpy as np

from dclm.practice.feedback import Feedback, as_vector, close, compare, correct, not_yet, slope


def deconfounded_outcome(answer, y, p, z) -> Feedback:
    """ỹ = y − β̂_IV·p (any constant shift is fine), β̂_IV from the instrument z."""
    from dclm.causal import iv
    from dclm.causal.deconfound import deconfound_outcome

    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    vector = as_vector("y_tilde", answer, len(y), "headline")
    if isinstance(vector, Feedback):
        return vector
    reference = np.asarray(deconfound_outcome(y, p, z).adjusted)
    removed = y - vector
    implied = slope(removed, p)  # the β the answer subtracted, if it subtracted a multiple of p
    beta_iv, beta_ols = iv.wald_ratio(y, p, z), slope(y, p)
    if np.allclose(vector - vector.mean(), reference - reference.mean(), atol=1e-6):
        return correct(f"ỹ = y − β̂_IV·p with β̂_IV = {beta_iv:.3f}.")
    if not np.allclose(removed - removed.mean(), implied * (p - p.mean()), atol=1e-6):
        return not_yet("y − ỹ should be a multiple of p (β̂·p plus a constant); you changed the outcome "
                   "in some other way.")
    if close(implied, 0.0, atol=1e-9):
        return not_yet("ỹ is the raw outcome: subtract β̂_IV·p.")
    if close(implied, -beta_iv):
        return not_yet("you added β̂_IV·p; subtract it.")
    if close(implied, beta_ols):
        return not_yet(f"you subtracted the naive slope of y on p ({beta_ols:.3f}), which the entanglement "
                   f"biases; use the instrument (β̂_IV = {beta_iv:.3f}).")
    if close(implied, 1.0):
        return not_yet("you subtracted 1·p, the simulation's true β; an analyst does not know it: "
                   "estimate β̂ with the instrument.")
    return not_yet(f"you subtracted {implied:.3f}·p; β̂_IV is {beta_iv:.3f} (the Wald ratio of y and p "
               "on the instrument).")


def reward_scores(answer, x_train, target, x_test, lam: float, raw_outcome=None) -> Feedback:
    """Held-out scores of a ridge reward (standardised features, penalty ``lam``) fitted on ``target``."""
    from dclm.models.probe import fit_probe

    x_train, x_test = np.asarray(x_train, dtype=float), np.asarray(x_test, dtype=float)
    if answer is not None and np.size(answer) == len(x_train) and len(x_train) != len(x_test):
        return not_yet("you scored the training headlines; score the held-out ones (x_test).")
    vector = as_vector("reward_test", answer, len(x_test), "held-out headline")
    if isinstance(vector, Feedback):
        return vector
    reference = fit_probe(x_train, target, lam).score(x_test)

    def agrees(a, b) -> bool:  # a reward is standardised before RL: its scale and offset are free
        return bool(np.std(a) > 0 and np.std(b) > 0 and np.corrcoef(a, b)[0, 1] > 0.9999)

    if agrees(vector, reference):
        return correct("your reward model scores the held-out headlines as the reference ridge does.")
    if agrees(vector, -reference):
        return not_yet("your scores are the reference's with the sign flipped.")
    if raw_outcome is not None and agrees(vector, fit_probe(x_train, raw_outcome, lam).score(x_test)):
        return not_yet("you fitted the reward on the raw outcome y; fit it on the deconfounded ỹ.")
    if agrees(vector, fit_probe(x_train, target, 0.0).score(x_test)):
        return not_yet("you left out the ridge penalty: add λ·I to XᵀX.")
    return not_yet("these scores differ from a ridge fitted on standardised training features: "
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
    return compare("p_a_wins", answer, reference, [
        (1 - reference, "that is the probability that b wins; σ(r(a) − r(b)) is a's."),
        (reward_a - reward_b, "that is the reward difference itself; pass it through the sigmoid "
                              "σ(u) = 1 / (1 + e^(−u))."),
        (float(np.exp(reward_a - reward_b)), "that is the odds e^(r(a) − r(b)); the probability is "
                                             "odds / (1 + odds)."),
    ], f"P(a preferred) = {reference:.3f}.")


def kl_policy(answer, ref_probs, rewards, beta_kl: float) -> Feedback:
    """π*(T) ∝ π_ref(T)·exp(r(T)/β_KL) over the candidate texts."""
    ref_probs, rewards = np.asarray(ref_probs, dtype=float), np.asarray(rewards, dtype=float)
    vector = as_vector("pi_star", answer, len(rewards), "candidate text")
    if isinstance(vector, Feedback):
        return vector
    reference = kl_optimal_policy(ref_probs, rewards, beta_kl)
    if np.allclose(vector, reference, atol=1e-6):
        top = int(np.argmax(rewards))
        return correct(f"the highest-reward text has probability {ref_probs[top]:.2f} under π_ref and "
                   f"{reference[top]:.2f} under π*.")
    if not np.isclose(vector.sum(), 1.0, atol=1e-6) and vector.sum() > 0 and \
            np.allclose(vector / vector.sum(), reference, atol=1e-6):
        return not_yet(f"right shape, but your probabilities sum to {vector.sum():.3g}: divide by their sum.")
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
            return not_yet(message)
    return not_yet("these are not π_ref(T)·exp(r(T)/β_KL) normalised to sum to 1.")
