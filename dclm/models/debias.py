"""Three published ways to keep a reward probe off a confounder, each rewritten for ridge probes.

Each returns a :class:`~dclm.models.probe.Probe` that scores text alone, so a policy's
generations (which have no logged confounder) can be scored. ``p`` is the confounder as the
analyst logs it on the training rows. Introduced in chapter 5, beside DeconfoundLM.

- :func:`fit_calibrated`: post-hoc reward calibration in the manner of Huang et al. (2025):
  fit the bias's part of the reward and subtract it (a linear fit where they use a locally
  weighted regression, because everything else here is linear). Their bias, length, is read
  off the text exactly; popularity is not, so a ridge probe q(T) reads it, and the part
  subtracted is E[r | q(T)] = γ q(T), γ the slope of r on q(T) on the training rows. (The slope
  of r on p itself would be too small a correction: ridge shrinks q(T) towards its mean, so
  r − γ_p q(T) keeps part of p.) Assumes the confounder is unrelated to quality: whatever of
  quality moves with p goes too.
- :func:`fit_two_head`: a two-head reward in the manner of ODIN (Chen et al. 2024): a confounder
  head q(T) (a probe of p) enters the regression unpenalised beside a quality head w·x, which
  is penalised for covariance with p; only the quality head is kept. Assumes the confounder
  head can carry p's part of the outcome and the quality itself is uncorrelated with p.
- :func:`fit_mmd`: a causal reward model in the manner of Wang et al. (2025, "CRM"): an MMD
  penalty between the score's distributions in confounder bins. With a linear kernel the
  squared MMD of a bin is (w·(x̄_bin − x̄))², so the penalty is quadratic and the fit stays in
  closed form; CRM uses a Gaussian kernel, which also matches higher moments. Assumes quality
  does not differ across the bins.
"""

from __future__ import annotations

import numpy as np

from dclm.models.probe import Probe, fit_probe, standardise


def _checked(features, target, confounder) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    features, target = np.asarray(features, dtype=float), np.asarray(target, dtype=float)
    confounder = np.asarray(confounder, dtype=float).ravel()
    for name, values in (("target", target), ("confounder", confounder)):
        if len(values) != len(features):
            raise ValueError(f"features have {len(features)} rows but the {name} has {len(values)}")
    return features, target, confounder


def fit_calibrated(features, target, confounder, lam: float) -> Probe:
    """The naive probe minus γ times a text probe of the confounder (see the module docstring)."""
    features, target, confounder = _checked(features, target, confounder)
    naive = fit_probe(features, target, lam)
    if np.ptp(confounder) == 0:
        raise ValueError("confounder: constant on the training rows; there is nothing to calibrate against")
    reads_p = fit_probe(features, confounder, lam)
    q = reads_p.score(features)
    q = q - q.mean()
    if q @ q == 0:
        raise ValueError(f"lam={lam}: the text probe of the confounder is constant; lower lam to calibrate")
    gamma = float(q @ naive.score(features) / (q @ q))
    return Probe(naive.mean, naive.sd, naive.weights - gamma * reads_p.weights, naive.intercept)


def fit_two_head(features, target, confounder, lam: float, mu: float) -> Probe:
    """The quality head of a two-head probe (see the module docstring); ``mu`` weighs its
    covariance-with-p penalty, as in :func:`dclm.models.probe.fit_probe`."""
    features, target, confounder = _checked(features, target, confounder)
    confounder_head = fit_probe(features, confounder, lam).score(features)
    return fit_probe(features, target, lam, confounder=confounder, mu=mu, unpenalised=confounder_head)


def confounder_bins(confounder, bins: int) -> np.ndarray:
    """Quantile bins of the confounder: one label in 0..bins-1 per row (ties share a bin)."""
    confounder = np.asarray(confounder, dtype=float).ravel()
    if bins < 2:
        raise ValueError(f"bins={bins}: an MMD penalty needs at least 2 confounder bins")
    edges = np.quantile(confounder, np.linspace(0, 1, bins + 1)[1:-1])
    return np.searchsorted(edges, confounder, side="right")


def fit_mmd(features, target, confounder, lam: float, mu: float, bins: int = 5) -> Probe:
    """Ridge with a linear-kernel MMD penalty across ``bins`` quantile bins of the confounder:

        minimise ||y − b − X w||² + lam ||w||² + mu · n · Σ_b π_b (w·(x̄_b − x̄))²

    with π_b the share of rows in bin b (see the module docstring)."""
    features, target, confounder = _checked(features, target, confounder)
    if mu < 0:
        raise ValueError(f"mu={mu}: the MMD penalty's weight must be at least 0")
    mean, sd, x = standardise(features)
    labels = confounder_bins(confounder, bins)
    n, d = x.shape
    gram = x.T @ x + lam * np.eye(d)
    for label in np.unique(labels):
        rows = labels == label
        gap = x[rows].mean(0)  # x is centred: the bin's mean minus the overall mean
        gram += mu * n * rows.mean() * np.outer(gap, gap)
    y = target - target.mean()
    return Probe(mean, sd, np.linalg.solve(gram, x.T @ y), float(target.mean()))
