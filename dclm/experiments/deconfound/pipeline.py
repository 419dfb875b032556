"""Chapter 5's run from end to end: the reward stage (:func:`prepare`), then SFT, the RL runs and
the generation metrics (:func:`run`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dclm.cache import write_json_atomic
from dclm.config import job_seed
from dclm.experiments.deconfound.config import FAILURE_SETTINGS, RL_METRICS, Config
from dclm.experiments.deconfound.evaluate import GenerationScorer, policy_results
from dclm.experiments.deconfound.policies import rl_jobs, run_rl_jobs, sample, train_policy_sft
from dclm.experiments.deconfound.rewards import headline_features, reward_models, split_by_story
from dclm.experiments.deconfound.sweeps import (
    advantage_map,
    beta_sweep,
    lambda_sweep,
    penalty_sweep,
    reward_replicates,
)
from dclm.train.options import DEFAULT_OPTIONS, JobOptions


def prepare(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS, sweeps: bool = True) -> dict:
    """Headlines, sentiment, the story split, outcomes per setting and fitted reward probes,
    and (with ``sweeps``) the reward studies of :mod:`.sweeps`: a JSON-ready dict.

    ``sweeps=False`` is a quick side run of the reward models alone; its sweep entries are None.
    """
    headlines, features = headline_features(cfg, Path(work_dir), options)
    train, test = split_by_story(headlines["title"], headlines["team"], np.random.default_rng(cfg.seed),
                                 cfg.test_share)
    titles = headlines["title"]
    return {
        "titles": titles.tolist(), "teams": sorted({t for t in headlines["team"] if t}),
        "headline_teams": headlines["team"].tolist(),
        "train": train.tolist(), "test": test.tolist(),
        "settings": reward_models(headlines, features, train, test, cfg),
        "split": {"train_rows": len(train), "test_rows": len(test),
                  "train_titles": int(titles.iloc[train].nunique()), "test_titles": int(titles.iloc[test].nunique()),
                  "shared_titles": len(set(titles.iloc[train]) & set(titles.iloc[test]))},
        "beta_sweep": beta_sweep(features, headlines, train, test, cfg) if sweeps else None,
        "reward_replicates": reward_replicates(features, headlines, cfg) if sweeps else None,
        "lambda_sweep": lambda_sweep(features, headlines, train, test, cfg) if sweeps else None,
        "penalty_sweep": penalty_sweep(features, headlines, train, test, cfg) if sweeps else None,
        "map": advantage_map(features, headlines, cfg) if sweeps else None,
        "data_sentiment": float(headlines["sentiment"].mean()),
        "data_team_rate": float((headlines["team"] != "").mean()),
    }


def run(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """Chapter 5's run: ``metrics`` (the CLI's metric keys), ``data`` (example generations) and
    ``world_size`` (processes per RL run). Each stage is saved in ``work_dir`` and resumed."""
    work_dir = Path(work_dir)
    prepared_path = work_dir / "prepared.json"
    if not prepared_path.exists():
        write_json_atomic(prepared_path, prepare(cfg, work_dir, options))
    prepared = json.loads(prepared_path.read_text())
    sft_path = train_policy_sft(cfg, work_dir, prepared, options)
    jobs = rl_jobs(cfg, prepared)
    outputs = run_rl_jobs(cfg, jobs, work_dir, sft_path, options)
    by_reward = {(prepared["settings"][j[0]]["probes"][j[1]]["id"], j[2]): out
                 for j, out in zip(jobs, outputs, strict=True)}
    scorer = GenerationScorer(prepared, cfg)
    scored = policy_results(cfg, prepared, scorer, by_reward)
    sft_generations = sample(sft_path, cfg, job_seed(cfg.seed), prepared["teams"])
    top_team = prepared["settings"][cfg.settings[0]]["top_team"]
    sft_row = scorer.score([sft_generations], top_team, prepared["settings"][cfg.settings[0]]["team_popularity"])
    fitted = prepared["settings"]

    def per_setting(key: str) -> dict:
        return {s: fitted[s][key] for s in cfg.settings}

    metrics = {
        "results": scored["results"], "se": scored["se"], "ci": scored["ci"], "n_seeds": cfg.rl_seeds,
        "n_rl_runs": len(jobs), "failure_settings": [s for s in FAILURE_SETTINGS if s in cfg.settings],
        "reward_replicates": cfg.reward_replicates,
        "sft": {key: sft_row[key] for key in RL_METRICS},
        "beta_iv": per_setting("beta_iv"), "beta_iv_se": per_setting("beta_iv_se"),
        "beta_iv_wild_set": per_setting("beta_iv_wild_set"),
        "first_stage_f": per_setting("first_stage_f"),
        "n_clusters": fitted[cfg.settings[0]]["n_clusters"],
        # Regions and team popularity are the same in every setting: one top team.
        "top_team": top_team,
        "corr_p_s": per_setting("corr_p_s"), "corr_z_s": per_setting("corr_z_s"), "corr_y_s": per_setting("corr_y_s"),
        "world_size": max(o.get("world_size", 1) for o in outputs),
        "fluency": {"threshold": scorer.guard.threshold, "false_alarm": cfg.fluency_false_alarm,
                    "false_pass": scorer.calibration, "new_story_pass": scorer.new_story_pass},
        "n_headlines": len(prepared["titles"]), "n_teams": len(prepared["teams"]),
        "split": prepared["split"],
        "data_sentiment": prepared["data_sentiment"], "data_team_rate": prepared["data_team_rate"],
        "beta_sweep": prepared["beta_sweep"], "lambda_sweep": prepared["lambda_sweep"], "map": prepared["map"],
        "penalty_sweep": prepared["penalty_sweep"],
    }
    examples = {**scored["examples"], "sft": scorer.marked(sft_generations["generations"][:6])}
    return {"metrics": metrics, "data": {"examples": examples}, "world_size": metrics["world_size"]}
