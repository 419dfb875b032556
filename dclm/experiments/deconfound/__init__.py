"""Chapter 5: DeconfoundLM end to end. Deconfounded rewards, RL fine-tuning, the paper's table.

Headlines name sports teams; each team's home region Z (the instrument) drives its popularity,
and a headline's popularity p confounds its outcome y = s(T) + beta·p + noise, with s the
headline's sentiment. Five ridge reward models on frozen MiniLM embeddings (``naive`` on y,
``feature`` with p as an input, ``iv`` on y - beta_IV·p, ``invariant`` with a Cov(score, p)
penalty, ``oracle`` on s) each drive an RLOO fine-tune of the same SFT policy; the policies'
generations, from a bare prompt (story choice) and from prompts that fix the story's team
(framing), are scored for sentiment, team naming and fluency (a calibrated guard). Settings (the book's graph,
``dclm.causal.simulate``): ``orthogonal`` (p independent of the sentiment), ``entangled`` (the
text moves p: editors promote negative headlines) and ``proxy`` (entangled, and the analyst
logs popularity with error: a mechanism under which adjusting for the confounder fails and the
instrument does not; listed in ``metrics.failure_settings``).

Headlines are split by story (the title without its team), so no test headline is a training
headline. Reward scores are standardised on the training headlines before RL (a probe's scale
shrinks as its ridge penalty grows; RLOO's KL penalty is in reward units). Intervals are across
RL seeds (generations) or across independent data draws (reward correlations).

Work is shared: one SFT model serves every setting, method and seed; identical reward models
(the oracle in every setting, the naive reward in ``proxy`` and ``entangled``) share one RL run
per seed; embeddings are cached; RL runs are parallel single-thread processes, each saved when
done, so a re-run resumes.

The steps: ``config`` (:class:`Config`, :func:`config_for`), ``rewards`` (headlines, story
split, outcomes, reward probes), ``sweeps`` (reward studies without RL), ``policies`` (SFT, RL
jobs, ``accelerate launch``, sampling; ``__main__`` is the launched entry), ``evaluate``
(generation metrics), ``pipeline`` (:func:`prepare`, :func:`run`), ``claims`` and ``figures``.
"""

from __future__ import annotations

from dclm.experiments.deconfound.claims import LESSON, REPORTED, claims
from dclm.experiments.deconfound.config import (
    METHOD_LABELS,
    METHODS,
    RL_METRICS,
    SEED_DOC,
    SETTINGS,
    Config,
    config_for,
)
from dclm.experiments.deconfound.figures import explore_beta, figures
from dclm.experiments.deconfound.pipeline import prepare, run
from dclm.experiments.deconfound.rewards import headline_features
from dclm.experiments.deconfound.sweeps import advantage_map

__all__ = [
    "LESSON", "METHODS", "METHOD_LABELS", "REPORTED", "RL_METRICS", "SEED_DOC", "SETTINGS", "Config", "advantage_map", "claims",
    "config_for", "explore_beta", "figures", "headline_features", "prepare", "run",
]
