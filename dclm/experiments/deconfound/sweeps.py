"""Chapter 5's reward-model studies, no RL: the beta sweep, independent data draws, the ridge
penalty sweep and the map of when DeconfoundLM-IV beats the confounder as a feature."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dclm.experiments.deconfound.config import Config
from dclm.experiments.deconfound.rewards import fit_rewards, held_out_corr, outcomes_for, split_by_story

# The two probes the sweeps compare: the confounder as an input, and the IV-deconfounded outcome.
COMPARED = ("feature", "iv")
# The rewards with a penalty weight mu, which the penalty ablation sweeps.
PENALISED = ("invariant", "two_head", "mmd")


def penalty_sweep(features: np.ndarray, headlines: pd.DataFrame, train: np.ndarray, test: np.ndarray,
                  cfg: Config) -> dict:
    """Per setting and penalty weight of ``cfg.penalty_grid``: held-out corr(reward, s(T)) of the
    penalised rewards (:data:`PENALISED`, one weight for all three), on the run's own draw.

    Returns ``mu`` (the grid) and setting -> method -> list over the grid.
    """
    import dataclasses

    methods = [m for m in PENALISED if m in cfg.methods]
    s = headlines["sentiment"].to_numpy()
    out = {"mu": list(cfg.penalty_grid), **{setting: {m: [] for m in methods} for setting in cfg.settings}}
    for setting in cfg.settings:
        outcomes = outcomes_for(headlines, setting, cfg, np.random.default_rng(cfg.seed))
        for mu in cfg.penalty_grid:
            weighted = dataclasses.replace(cfg, invariance_mu=mu, two_head_mu=mu, mmd_mu=mu)
            fitted = fit_rewards(features, outcomes, train, weighted, methods=methods)
            for m in methods:
                out[setting][m].append(held_out_corr(fitted["probes"][m], features, s, test))
    return out


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


def map_rows(cfg: Config) -> list[dict]:
    """The advantage map's rows: each a world the two rewards are compared in.

    ``axis`` names what changes, ``value`` its size and ``changes`` the simulator's arguments:
    the logging error of p (the axis that hurts the confounder-as-feature reward), then, with p
    logged exactly, a weaker instrument, an exclusion violation of either sign (clicks from
    big-market fans beside exposure) and the reversed arrow p -> T (the axes that hurt the IV
    reward). The reversed row is not entangled: there p moves the text, not the text p.
    """
    rows = [{"axis": "logging error", "value": e, "changes": {"measurement_error": e}}
            for e in cfg.map_measurement_error]
    rows += [{"axis": "instrument strength", "value": a, "changes": {"measurement_error": 0.0, "instrument_strength": a}}
             for a in cfg.map_instrument_strengths]
    rows += [{"axis": "exclusion delta", "value": d, "changes": {"measurement_error": 0.0, "direct_effect": d}}
             for d in cfg.map_direct_effects]
    if cfg.map_reversed_arrow:
        rows.append({"axis": "reversed arrow p -> T", "value": cfg.entanglement,
                     "changes": {"measurement_error": 0.0, "arrow": "popularity_to_text"}})
    return rows


def row_label(row: dict) -> str:
    """A map row's label: ``"logging error 0.5"``, ``"reversed arrow p -> T"``, ..."""
    return row["axis"] if row["axis"].startswith("reversed") else f"{row['axis']} {row['value']:g}"


def advantage_map(features: np.ndarray, headlines: pd.DataFrame, cfg: Config) -> dict | None:
    """When is DeconfoundLM needed, and when does it hurt? IV minus feature held-out
    corr(reward, s) over the worlds of :func:`map_rows` (rows) and the ridge penalty (columns).

    Columns: ``map_lambdas`` (how little of p's effect a penalised p column can keep before the
    text's team names take it over). Per cell, ``map_seeds`` independent draws and story splits,
    the same draws in every cell; ``low``/``high`` is the 95% t interval of the paired
    difference across draws. ``failed`` marks cells where both rewards' mean correlation is
    below ``map_fail_below``; ``by_method`` holds every reward's mean correlation per row at the
    probes' own penalty ``probe_lambda``. A resampled world (the reversed arrow) keeps each draw's split:
    a headline is on the side of the story it copies. None when ``map_seeds`` is 0.
    """
    from dclm.stats import seed_interval

    if cfg.map_seeds == 0:
        return None
    rows = map_rows(cfg)
    shape = (len(rows), len(cfg.map_lambdas))
    cells = {key: np.zeros(shape) for key in ("feature", "iv", "difference", "low", "high")}
    draws, by_method = [], {}
    for m in range(cfg.map_seeds):
        rng_seed = (cfg.seed, 100 + m)
        draws.append((rng_seed, split_by_story(headlines["title"], headlines["team"],
                                               np.random.default_rng(rng_seed), cfg.test_share)))
    for i, row in enumerate(rows):
        worlds = []
        for rng_seed, (train, test) in draws:
            outcomes = outcomes_for(headlines, "proxy", cfg, np.random.default_rng(rng_seed), **row["changes"])
            source = outcomes["row"].to_numpy()
            worlds.append((outcomes, features[source], np.flatnonzero(np.isin(source, train)),
                           np.flatnonzero(np.isin(source, test))))
        for j, lam in enumerate(cfg.map_lambdas):
            # At the probes' own penalty every reward is scored, for the map's all-rewards panel.
            methods = tuple(dict.fromkeys(COMPARED + tuple(cfg.methods))) if lam == cfg.probe_lambda else COMPARED
            per_seed = {method: [] for method in methods}
            for outcomes, world_features, train, test in worlds:
                fitted = fit_rewards(world_features, outcomes, train, cfg, lam=lam, methods=methods)
                for method in per_seed:
                    per_seed[method].append(held_out_corr(fitted["probes"][method], world_features,
                                                          outcomes["sentiment"].to_numpy(), test))
            if lam == cfg.probe_lambda:
                for method in methods:
                    by_method.setdefault(method, []).append(float(np.mean(per_seed[method])))
            difference = np.subtract(per_seed["iv"], per_seed["feature"])
            cells["feature"][i, j], cells["iv"][i, j] = np.mean(per_seed["feature"]), np.mean(per_seed["iv"])
            cells["difference"][i, j] = difference.mean()
            cells["low"][i, j], cells["high"][i, j] = seed_interval(difference)
    failed = np.maximum(cells["feature"], cells["iv"]) < cfg.map_fail_below
    return {"lambda": list(cfg.map_lambdas), "rows": [row_label(r) for r in rows],
            "axis": [r["axis"] for r in rows], "value": [r["value"] for r in rows],
            "fail_below": cfg.map_fail_below, "failed": failed.tolist(), "draws": cfg.map_seeds,
            # Mean held-out corr of every reward per row at lambda = probe_lambda (None off the grid).
            "by_method": {"lambda": cfg.probe_lambda, **by_method} if by_method else None,
            **{key: value.tolist() for key, value in cells.items()}}
