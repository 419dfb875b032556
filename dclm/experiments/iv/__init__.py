"""Chapter 2: instrumental variables and the DeconfoundLM correction.

Simulated headlines (``dclm.causal.simulate.simulate_popularity``): clicks
y = s(T) + beta·p + noise, with popularity p driven by the region instrument Z and, in the
entangled setting, also by the headline's own score s(T). OLS of y on p is biased only when
entangled; 2SLS with Z is unbiased in both settings; subtracting ĥ(p) = β̂·p leaves an outcome
that tracks s(T) better than raw y.

Three ways to learn the text's effect g (truth 1) and popularity's effect beta: ``naive``
(y on p alone for beta, y on s(T) alone for g), ``adjusted`` (y on s(T) and p together: the
text and the confounder as features) and ``iv`` (2SLS with Z, then y - beta_IV p on s(T)).
Adjusting is enough in the plain entangled case; the ``mechanisms`` study shows two cases
where it is not and the instrument still is: popularity observed through a noisy proxy, and
an unobserved cause of both popularity and clicks. ``other_arrow`` reverses s(T) -> p.

Metrics: ``orthogonal`` and ``entangled``, each with ``true_beta``, ``ols_beta``, ``iv_beta``,
``iv_se``, ``first_stage_f``, ``corr_raw`` (corr of y with s(T)), ``corr_adjusted`` (corr of
the adjusted outcome with s(T)); ``mechanisms.<case>.<estimator>_{beta,g}`` (Monte Carlo
means) with ``..._sd``; ``other_arrow`` (``iv_beta``, ``direct_beta``, ``total_effect``);
``dowhy`` (the cross-check with a control). Data: Monte Carlo draws behind the figures.
"""

from dclm.experiments.iv.claims import LESSON, claims
from dclm.experiments.iv.config import (
    ESTIMATORS,
    MECHANISM_LABELS,
    MECHANISMS,
    SEED_DOC,
    VIOLATIONS,
    Config,
    config_for,
    draw,
)
from dclm.experiments.iv.figures import explore_figure, figures
from dclm.experiments.iv.studies import run, setting_metrics, three_estimates

__all__ = ["ESTIMATORS", "LESSON", "MECHANISMS", "MECHANISM_LABELS", "SEED_DOC", "VIOLATIONS", "Config", "claims",
           "config_for", "draw", "explore_figure", "figures", "run", "setting_metrics", "three_estimates"]
