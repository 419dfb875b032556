"""Ridge probes on frozen embeddings: the reward models of the DeconfoundLM chapter.

A probe is ``score(x) = b + w·x`` on standardised features, fitted in closed form:

    minimise ||y - b - X w||² + lam ||w||² + mu · n · Cov(X w, p)²

The last term (``mu > 0``, with a confounder ``p``) is a counterfactual-invariance penalty in
the spirit of ODIN: it pushes the score to be uncorrelated with the confounder on the training
rows. Because ``Cov(Xw, p) = w·c`` with ``c = X_cᵀ p_c / n``, it adds ``mu·n·c cᵀ`` to the
normal equations and keeps a closed form. Introduced in the DeconfoundLM chapter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Probe:
    """A fitted probe: feature means and SDs (standardisation), weights and intercept."""

    mean: np.ndarray
    sd: np.ndarray
    weights: np.ndarray
    intercept: float

    @classmethod
    def from_stored(cls, stored: dict) -> Probe:
        """The probe of a JSON-ready dict holding ``mean``, ``sd``, ``weights`` and ``intercept``."""
        return cls(np.array(stored["mean"]), np.array(stored["sd"]), np.array(stored["weights"]), stored["intercept"])

    def score(self, features: np.ndarray) -> np.ndarray:
        """The probe's score of raw (unstandardised) features, one per row."""
        return ((np.asarray(features) - self.mean) / self.sd) @ self.weights + self.intercept


def standardise(features: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means, SDs (1 where a column is constant) and the standardised features."""
    features = np.asarray(features, dtype=float)
    mean, sd = features.mean(0), features.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    return mean, sd, (features - mean) / sd


def fit_probe(features: np.ndarray, target: np.ndarray, lam: float, confounder: np.ndarray | None = None,
              mu: float = 0.0, unpenalised: np.ndarray | None = None) -> Probe:
    """The closed-form ridge (``mu = 0``) or invariance-penalised ridge of the module docstring.

    ``unpenalised`` (one column, e.g. the confounder as a feature) enters the regression with no
    penalty, as a control: it is partialled out of the features and the target (Frisch-Waugh),
    so its coefficient is free and the returned probe scores the features with it at its mean.
    """
    features, target = np.asarray(features, dtype=float), np.asarray(target, dtype=float)
    if len(features) != len(target):
        raise ValueError(f"features have {len(features)} rows but the target has {len(target)}")
    if mu and confounder is None:
        raise ValueError("an invariance penalty (mu > 0) needs the confounder")
    mean, sd, x = standardise(features)
    y = target - target.mean()
    # The penalty is on the covariance of the score the probe returns (the raw standardised
    # features), so it is taken before any control is partialled out.
    penalty = None
    if mu:
        p = np.asarray(confounder, dtype=float)
        penalty = x.T @ (p - p.mean()) / len(x)
    if unpenalised is not None:
        c = np.asarray(unpenalised, dtype=float).ravel()
        if len(c) != len(target):
            raise ValueError(f"unpenalised has {len(c)} rows but the target has {len(target)}")
        c = c - c.mean()
        if c @ c > 0:
            x = x - np.outer(c, c @ x / (c @ c))
            y = y - c * (c @ y / (c @ c))
    n, d = x.shape
    gram = x.T @ x + lam * np.eye(d)
    if penalty is not None:
        gram += mu * n * np.outer(penalty, penalty)
    weights = np.linalg.solve(gram, x.T @ y)
    return Probe(mean, sd, weights, float(target.mean()))
