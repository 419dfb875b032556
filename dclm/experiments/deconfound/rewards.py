"""Chapter 5's headlines, their story split, the simulated outcomes and the reward probes."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from dclm.experiments.deconfound.config import METHODS, SIMULATION, Config
from dclm.models.probe import Probe
from dclm.train.options import DEFAULT_OPTIONS, JobOptions


def load_headlines(cfg: Config, work_dir: Path) -> pd.DataFrame:
    """Titles and the team each names (``""`` for none), from MIND or the MIND-schema generator."""
    from dclm.data import mind, synthetic

    if cfg.data == "generated":
        folder = work_dir / "mind"
        if not (folder / "news.tsv").exists():
            synthetic.write_mind(folder, n_news=cfg.n_news, n_users=10, n_impressions=10, seed=cfg.seed)
    elif cfg.data == "mind":
        folder = mind.mind_dir()
    else:
        folder = Path(cfg.data)
    return mind.team_headlines(mind.read_news(folder / "news.tsv"))


def headline_features(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS
                      ) -> tuple[pd.DataFrame, np.ndarray]:
    """The headlines with their sentiment s(T) (column ``sentiment``) and their frozen
    embeddings (one float32 row per headline): everything a reward probe is fitted on."""
    from dclm.models.embed import embed_texts
    from dclm.models.sentiment import sentiment

    headlines = load_headlines(cfg, work_dir)
    headlines["sentiment"] = sentiment(headlines["title"].tolist(), cfg.sentiment_model, device=cfg.device)
    features = embed_texts(headlines["title"].tolist(), model_id=cfg.embed_model_id, device=cfg.device,
                           show_progress=options.show_progress)
    return headlines, features


def team_pattern(teams) -> re.Pattern:
    """A regular expression matching any of ``teams`` as whole words, longest names first."""
    names = sorted({t for t in teams if t}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")


def story_keys(titles, teams) -> list[str]:
    """A headline's story: its title without the team's name, lower-cased (the split unit)."""
    keys = []
    for title, team in zip(titles, teams, strict=True):
        text = re.sub(r"\b" + re.escape(team) + r"\b", " ", title) if team else title
        keys.append(" ".join(text.lower().split()))
    return keys


def split_by_story(titles, teams, rng: np.random.Generator, test_share: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices with no story, hence no title, on both sides.

    Whole stories go to the test side in a random order, each one that still fits under
    ``test_share`` of the rows, so the reward model is judged on headlines it never saw.
    """
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be between 0 and 1, got {test_share}")
    keys = np.array(story_keys(titles, teams))
    unique, counts = np.unique(keys, return_counts=True)
    if len(unique) < 2:
        raise ValueError(f"split_by_story needs at least 2 distinct stories, got {len(unique)}")
    target, taken, test_keys = test_share * len(keys), 0, set()
    for index in rng.permutation(len(unique)):
        if taken + counts[index] <= target or not test_keys:
            test_keys.add(unique[index])
            taken += counts[index]
    is_test = np.array([k in test_keys for k in keys])
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def outcomes_for(headlines: pd.DataFrame, setting: str, cfg: Config, rng: np.random.Generator,
                 **changes) -> pd.DataFrame:
    """The simulated outcome table of ``setting`` (see :data:`SIMULATION`); ``changes``
    override the config's simulation parameters (``beta=``, ``measurement_error=``, ...)."""
    from dclm.causal.simulate import simulate_headline_outcomes

    simulated, logged_with_error = SIMULATION[setting]
    params = {"beta": cfg.beta, "instrument_strength": cfg.instrument_strength, "entanglement": cfg.entanglement,
              "noise_sd": cfg.noise_sd, "measurement_error": cfg.measurement_error if logged_with_error else 0.0,
              **changes}
    return simulate_headline_outcomes(headlines["team"], headlines["sentiment"].to_numpy(), rng, simulated,
                                      **params)


def _clusters(teams: pd.Series) -> np.ndarray:
    # The instrument is a team-level value: rows of one team are one cluster; headlines that
    # name no team get no instrument variation and are their own clusters.
    return np.array([t if t else f"row {i}" for i, t in enumerate(teams)])


def fit_rewards(features: np.ndarray, outcomes: pd.DataFrame, train: np.ndarray, cfg: Config,
                lam: float | None = None, methods=METHODS) -> dict:
    """The probes on the training rows, plus the clustered IV estimate of beta. JSON-ready dicts.

    The analyst sees ``observed_popularity`` (p itself unless it is logged with error). Each
    probe stores the mean and SD of its scores on the training headlines, which standardise
    its reward before RL, and an ``id`` (a hash of the probe): identical rewards share one id.
    """
    import warnings

    from dclm.causal.deconfound import deconfound_outcome
    from dclm.causal.linear import WeakInstrumentWarning
    from dclm.models.debias import fit_calibrated, fit_mmd, fit_two_head
    from dclm.models.probe import fit_probe

    lam = cfg.probe_lambda if lam is None else lam
    x, y = features[train], outcomes["outcome"].to_numpy()[train]
    p = outcomes["observed_popularity"].to_numpy()[train]
    z = outcomes["instrument"].to_numpy()[train]
    teams = outcomes["team"].iloc[train]
    # Headlines naming no team have Z = 0 by construction; the indicator keeps the first stage
    # to variation across teams' regions rather than "sports or not", which could differ in tone.
    names_team = (teams != "").astype(float).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakInstrumentWarning)  # reported through first_stage_f
        deconfounded = deconfound_outcome(y, p, z, controls=names_team[:, None] if names_team.std() > 0 else None,
                                          cov="cluster", clusters=_clusters(teams))
    fits = {
        "naive": lambda: fit_probe(x, y, lam),
        # p is an unpenalised control (a penalised p column would lose its effect to the team
        # names in the text); scoring a generation sets p to its training mean.
        "feature": lambda: fit_probe(x, y, lam, unpenalised=p),
        "iv": lambda: fit_probe(x, np.asarray(deconfounded.adjusted), lam),
        "invariant": lambda: fit_probe(x, y, lam, confounder=p, mu=cfg.invariance_mu),
        "calibrated": lambda: fit_calibrated(x, y, p, lam),
        "two_head": lambda: fit_two_head(x, y, p, lam, mu=cfg.two_head_mu),
        "mmd": lambda: fit_mmd(x, y, p, lam, mu=cfg.mmd_mu, bins=cfg.mmd_bins),
        "oracle": lambda: fit_probe(x, outcomes["sentiment"].to_numpy()[train], lam),
    }
    probes = {}
    for method in methods:
        probe = fits[method]()
        scores = probe.score(x)
        stored = {"mean": probe.mean.tolist(), "sd": probe.sd.tolist(), "weights": probe.weights.tolist(),
                  "intercept": probe.intercept, "score_mean": float(scores.mean()),
                  "score_sd": float(scores.std()) or 1.0}
        stored["id"] = hashlib.sha256(json.dumps(stored, sort_keys=True).encode()).hexdigest()[:16]
        probes[method] = stored
    endogenous = deconfounded.iv.endog[0]
    return {"probes": probes, "beta_iv": float(deconfounded.iv.params[endogenous]),
            "beta_iv_se": float(deconfounded.iv.std_errors[endogenous]),
            "first_stage_f": float(deconfounded.iv.first_stage_f.iloc[0]),
            "n_clusters": int(deconfounded.iv.n_clusters)}


def held_out_corr(stored: dict, features: np.ndarray, target: np.ndarray, test: np.ndarray) -> float:
    """Correlation of a stored probe's scores with ``target`` (s(T), or logged popularity) on the
    ``test`` rows (-1 to 1)."""
    return float(np.corrcoef(Probe.from_stored(stored).score(features[test]), target[test])[0, 1])


def wild_beta_set(outcomes: pd.DataFrame, train: np.ndarray, cfg: Config) -> dict:
    """The Anderson–Rubin 95% set for beta with wild cluster bootstrap p-values (Webb weights,
    999 draws), clustered by team, on the training headlines that name a team.

    Only those carry instrument variation, and with about sixteen teams a cluster-robust t
    interval is too narrow; the wild bootstrap respects both the few clusters and the first stage.
    """
    from dclm.causal.wildboot import wild_cluster_ar_set

    rows = train[(outcomes["team"].to_numpy()[train] != "")]
    found = wild_cluster_ar_set(outcomes["outcome"].to_numpy()[rows], outcomes["observed_popularity"].to_numpy()[rows],
                                outcomes["instrument"].to_numpy()[rows], clusters=outcomes["team"].to_numpy()[rows],
                                weights="webb", draws=999, seed=cfg.seed)
    return {**found.to_dict(), "n_clusters": int(len(set(outcomes["team"].to_numpy()[rows])))}


# The share of the data's distinct headlines a reward's "top" means: what a policy that only
# learnt to pick the data's headlines it likes best would write.
TOP_SHARE = 0.05


def top_headline_sentiment(stored: dict, features: np.ndarray, headlines: pd.DataFrame) -> float:
    """Mean s(T) of the ``TOP_SHARE`` of distinct headlines a stored probe scores highest.

    RL climbs a reward's ranking, so where two rewards agree on average but differ at the top,
    their policies differ: this is the sentiment at the top of the ranking.
    """
    first = ~headlines["title"].duplicated().to_numpy()
    scores = Probe.from_stored(stored).score(features[first])
    top = np.argsort(-scores, kind="stable")[: max(1, int(np.ceil(TOP_SHARE * first.sum())))]
    return float(headlines["sentiment"].to_numpy()[first][top].mean())


def reward_models(headlines: pd.DataFrame, features: np.ndarray, train: np.ndarray, test: np.ndarray,
                  cfg: Config) -> dict:
    """Per setting of ``cfg.settings``: the fitted rewards (:func:`fit_rewards`), their held-out
    correlation with s(T), the top team and the correlations that show each setting's graph.

    Every setting draws from the same generator state: the same regions, team popularity and
    noise, so settings differ only in how the text moves popularity and how p is logged.
    """
    s = headlines["sentiment"].to_numpy()
    settings = {}
    for setting in cfg.settings:
        outcomes = outcomes_for(headlines, setting, cfg, np.random.default_rng(cfg.seed))
        fitted = fit_rewards(features, outcomes, train, cfg, methods=cfg.methods)
        fitted["reward_sentiment_corr"] = {m: held_out_corr(fitted["probes"][m], features, s, test)
                                           for m in cfg.methods}
        fitted["top_headline_sentiment"] = {m: top_headline_sentiment(fitted["probes"][m], features, headlines)
                                            for m in cfg.methods}
        # What an analyst without an instrument can check: does the reward still move with logged p?
        logged = outcomes["observed_popularity"].to_numpy()
        fitted["reward_popularity_corr"] = {m: held_out_corr(fitted["probes"][m], features, logged, test)
                                            for m in cfg.methods}
        team_pop = outcomes.loc[outcomes["team"] != ""].groupby("team")["team_popularity"].first()
        fitted["top_team"] = str(team_pop.idxmax())
        # Standardised across teams: the scale of "how popular is the team a headline names".
        fitted["team_popularity"] = ((team_pop - team_pop.mean()) / team_pop.std(ddof=0)).round(12).to_dict()
        fitted["corr_p_s"] = float(np.corrcoef(outcomes["popularity"], s)[0, 1])
        # Independence leaves a trace: Z should be uncorrelated with s(T) among team headlines.
        sports = (outcomes["team"] != "").to_numpy()
        fitted["corr_z_s"] = float(np.corrcoef(outcomes["instrument"].to_numpy()[sports], s[sports])[0, 1])
        fitted["corr_y_s"] = float(np.corrcoef(outcomes["outcome"], s)[0, 1])
        fitted["beta_iv_wild_set"] = wild_beta_set(outcomes, train, cfg)
        settings[setting] = fitted
    return settings
