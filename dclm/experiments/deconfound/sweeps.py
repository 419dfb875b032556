"""Chapter 5's reward-model studies, no RL: the beta sweep, independent data draws, the ridge
penalty sweep and the map of when DeconfoundLM-IV beats the confounder as a feature."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dclm.experiments.deconfound.config import Config
from dclm.experiments.deconfound.rewards import fit_rewards, held_out_corr, outcomes_for, split_by_story

# The two probes the sweeps compare: the confounder as an input, and the IV-deconfounded outcome.
COMPARED = ("feature", "iv")


def beta_sweep(features: np.ndarray, headlines: pd.DataFrame, train: np.ndarray, test: np.ndarray,
               cfg: Config) -> dict:
    """Entangled setting, per beta: corr(y, s) and held-out corr(reward, s) of naive and IV probes.

    Returns lists over ``cfg.beta_sweep`` under ``beta``, ``corr_y``, ``corr_naive``, ``corr_iv``.
    """
    rows = []
    s = headlines["sentiment"].to_numpy()
    for beta in cfg.beta_sweep:
        outcomes = outcomes_for(headlines, "entangled", cfg, np.random.default_rng(cfg.seed), beta=beta)
        fitted = fit_rewards(features, outcomes, train, cfg, methods=("naive", "iv"))
        row = {"beta": beta, "corr_y": float(np.corrcoef(outcomes["outcome"], s)[0, 1])}
        for method in ("naive", "iv"):
            row[f"corr_{method}"] = held_out_corr(fitted["probes"][method], features, s, test)
        rows.append(row)
    return {key: [row[key] for row in rows] for key in rows[0]}


def reward_replicates(features: np.ndarray, headlines: pd.DataFrame, cfg: Config) -> dict:
    """Held-out corr(reward, s) per setting and method over independent data draws.

    Replicate 0 is the run's own draw and split; replicate r > 0 redraws regions, popularity,
    noise and the story split from (seed, r). Returns setting -> method -> list over replicates.
    """
    s = headlines["sentiment"].to_numpy()
    out = {setting: {method: [] for method in cfg.methods} for setting in cfg.settings}
    for r in range(cfg.reward_replicates):
        seed = cfg.seed if r == 0 else (cfg.seed, r)
        train, test = split_by_story(headlines["title"], headlines["team"], np.random.default_rng(seed),
                                     cfg.test_share)
        for setting in cfg.settings:
            outcomes = outcomes_for(headlines, setting, cfg, np.random.default_rng(seed))
            fitted = fit_rewards(features, outcomes, train, cfg, methods=cfg.methods)
            for method in cfg.methods:
                out[setting][method].append(held_out_corr(fitted["probes"][method], features, s, test))
    return out


def lambda_sweep(features: np.ndarray, headlines: pd.DataFrame, train: np.ndarray, test: np.ndarray,
                 cfg: Config) -> dict:
    """Per setting and ridge penalty: held-out corr(reward, s) and the score SD of feature and IV probes.

    Returns ``lambda`` (the grid) and, per setting, lists under ``<method>_corr`` and
    ``<method>_score_sd`` (reward units before standardising).
    """
    s = headlines["sentiment"].to_numpy()
    out: dict = {"lambda": list(cfg.lambda_grid)}
    for setting in cfg.settings:
        outcomes = outcomes_for(headlines, setting, cfg, np.random.default_rng(cfg.seed))
        rows = {f"{m}_{k}": [] for m in COMPARED for k in ("corr", "score_sd")}
        for lam in cfg.lambda_grid:
            fitted = fit_rewards(features, outcomes, train, cfg, lam=lam, methods=COMPARED)
            for method in COMPARED:
                rows[f"{method}_corr"].append(held_out_corr(fitted["probes"][method], features, s, test))
                rows[f"{method}_score_sd"].append(fitted["probes"][method]["score_sd"])
        out[setting] = rows
    return out


def advantage_map(features: np.ndarray, headlines: pd.DataFrame, cfg: Config) -> dict | None:
    """When is DeconfoundLM needed? IV minus feature held-out corr(reward, s) over two knobs.

    Entangled outcomes. Rows: ``map_measurement_error`` (logging error of p); columns:
    ``map_lambdas`` (the probes' ridge penalty: how little of p's effect a penalised p column can
    keep before the text's team names take it over). Per cell, ``map_seeds`` independent draws
    and story splits; ``low``/``high`` is the 95% t interval of the paired difference. None
    when ``map_seeds`` is 0 (a quick side run).
    """
    from dclm.stats import seed_interval

    if cfg.map_seeds == 0:
        return None
    s = headlines["sentiment"].to_numpy()
    shape = (len(cfg.map_measurement_error), len(cfg.map_lambdas))
    cells = {key: np.zeros(shape) for key in ("feature", "iv", "difference", "low", "high")}
    draws = []
    for m in range(cfg.map_seeds):
        rng_seed = (cfg.seed, 100 + m)
        draws.append((rng_seed, split_by_story(headlines["title"], headlines["team"],
                                               np.random.default_rng(rng_seed), cfg.test_share)))
    for i, error in enumerate(cfg.map_measurement_error):
        for j, lam in enumerate(cfg.map_lambdas):
            per_seed = {method: [] for method in COMPARED}
            for rng_seed, (train, test) in draws:
                outcomes = outcomes_for(headlines, "proxy", cfg, np.random.default_rng(rng_seed),
                                        measurement_error=error)
                fitted = fit_rewards(features, outcomes, train, cfg, lam=lam, methods=COMPARED)
                for method in per_seed:
                    per_seed[method].append(held_out_corr(fitted["probes"][method], features, s, test))
            difference = np.subtract(per_seed["iv"], per_seed["feature"])
            cells["feature"][i, j], cells["iv"][i, j] = np.mean(per_seed["feature"]), np.mean(per_seed["iv"])
            cells["difference"][i, j] = difference.mean()
            cells["low"][i, j], cells["high"][i, j] = seed_interval(difference)
    return {"lambda": list(cfg.map_lambdas), "measurement_error": list(cfg.map_measurement_error),
            **{key: value.tolist() for key, value in cells.items()}}
