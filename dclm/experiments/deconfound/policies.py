"""Chapter 5's policies: one SFT model, then an RLOO run per distinct reward model and RL seed,
in parallel worker processes or under ``accelerate launch``; samples from each policy."""

from __future__ import annotations

import json
import os
from multiprocessing import get_context
from pathlib import Path

from dclm.cache import write_json_atomic
from dclm.config import job_seed
from dclm.experiments.deconfound.config import METHODS, PROMPT, SETTINGS, STORY_PROMPT, Config
from dclm.models.probe import Probe
from dclm.train.options import DEFAULT_OPTIONS, JobOptions
from dclm.train.pool import dies_with_parent, torch_threads, worker_pool


def train_settings(cfg: Config, seed: int, stage: str, options: JobOptions = DEFAULT_OPTIONS):
    """The :class:`dclm.train.trainers.TrainSettings` of the ``"sft"`` or the ``"rl"`` stage."""
    from dclm.env import device
    from dclm.train.trainers import TrainSettings

    shared = {"max_length": cfg.max_length, "seed": seed, "lora_rank": cfg.lora_rank, "device": device(cfg.device),
              "show_progress": options.show_progress}
    if stage == "sft":
        return TrainSettings(learning_rate=cfg.sft_lr, batch_size=cfg.batch_size, epochs=cfg.sft_epochs,
                             save_steps=10**6, **shared)
    return TrainSettings(learning_rate=cfg.rl_lr, batch_size=cfg.rl_batch_size, max_steps=cfg.rl_steps,
                         save_steps=cfg.save_steps, **shared)


def story_prompt(team: str) -> str:
    """The prompt that fixes a story: the team the headline is about."""
    return STORY_PROMPT.format(team=team)


def sft_records(cfg: Config, prepared: dict) -> list[dict]:
    """One record per training headline: a share ``story_share`` of the team headlines (drawn
    with the seed) under their story prompt, the rest under the bare prompt."""
    import numpy as np

    titles, teams = prepared["titles"], prepared["headline_teams"]
    fixes_story = np.random.default_rng([cfg.seed, 1]).random(len(prepared["train"])) < cfg.story_share
    return [{"prompt": story_prompt(teams[i]) if teams[i] and fixed else PROMPT, "completion": " " + titles[i]}
            for i, fixed in zip(prepared["train"], fixes_story, strict=True)]


def rl_prompts(cfg: Config, prepared: dict, seed: int) -> list[str]:
    """The RL run's prompts: a share ``story_share`` fix a team drawn uniformly, the rest are bare."""
    import numpy as np

    rng = np.random.default_rng([seed, 2])
    n = cfg.rl_steps * cfg.rl_batch_size
    fixes_story, team_index = rng.random(n) < cfg.story_share, rng.integers(len(prepared["teams"]), size=n)
    return [story_prompt(prepared["teams"][t]) if fixed else PROMPT
            for fixed, t in zip(fixes_story, team_index, strict=True)]


def train_policy_sft(cfg: Config, work_dir: Path, prepared: dict, options: JobOptions = DEFAULT_OPTIONS) -> Path:
    """The SFT policy on the training headlines (built from scratch for ``"tiny"``); its folder."""
    import torch

    from dclm.train.hf import build_tiny_causal_lm
    from dclm.train.trainers import train_sft

    records = sft_records(cfg, prepared)
    if cfg.policy_model_id == "tiny":
        base = work_dir / "base"
        if not (base / "config.json").exists():
            corpus = [f"{PROMPT} {t}" for t in prepared["titles"]] + [story_prompt(t) for t in prepared["teams"]]
            build_tiny_causal_lm(corpus, base, seed=cfg.seed, vocab_size=cfg.tiny_vocab,
                                 hidden_size=cfg.tiny_hidden, num_layers=cfg.tiny_layers,
                                 max_positions=max(64, cfg.max_length + cfg.max_completion_length))
    else:
        base = cfg.policy_model_id
    # A tiny model trains many times faster on one thread than on two busy ones.
    with torch_threads(1 if cfg.policy_model_id == "tiny" else torch.get_num_threads()):
        return train_sft(base, records, train_settings(cfg, cfg.seed, "sft", options), work_dir / "sft")


def sample(model_path: str | Path, cfg: Config, seed: int, teams: list[str]) -> dict:
    """The policy's evaluation headlines, sampled at temperature 1: ``generations`` (``eval_samples``
    from the bare prompt: story choice) and ``story_generations`` ([team, headline] pairs, about
    ``eval_samples`` spread evenly over the story prompts of ``teams``: framing)."""
    from dclm.env import device
    from dclm.train.hf import load_causal_lm, load_tokenizer, sample_completions

    tokenizer = load_tokenizer(model_path, padding_side="left")
    model = load_causal_lm(model_path, device=device(cfg.device))
    bare = sample_completions(model, tokenizer, [PROMPT], cfg.eval_samples, cfg.max_completion_length, seed)
    per_team = -(-cfg.eval_samples // len(teams))
    stories = sample_completions(model, tokenizer, [story_prompt(t) for t in teams], per_team,
                                 cfg.max_completion_length, seed + 1)
    story_teams = [t for t in teams for _ in range(per_team)]
    return {"generations": [t.strip() for t in bare],
            "story_generations": [[team, text.strip()] for team, text in zip(story_teams, stories, strict=True)]}


def _rl_root(work_dir, stored: dict, k: int) -> Path:
    """One folder per distinct reward model and RL seed: identical rewards share their run."""
    return Path(work_dir) / "rl" / stored["id"] / f"seed_{k}"


def rl_job(cfg: Config, setting: str, method: str, k: int, work_dir: str, sft_path: str,
           options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """RLOO against one reward model for RL seed ``k``; returns the evaluation generations.

    Runs with one torch thread (given back afterwards, for the in-process path); saved to
    ``.../generations.json`` and not trained again once that exists. Under accelerate, ranks
    other than 0 return ``{}``.
    """
    from dclm.models.embed import embed_texts
    from dclm.train.trainers import train_rloo

    prepared = json.loads((Path(work_dir) / "prepared.json").read_text())
    stored = prepared["settings"][setting]["probes"][method]
    done = _rl_root(work_dir, stored, k) / "generations.json"
    if done.exists():
        return json.loads(done.read_text())
    probe = Probe.from_stored(stored)
    seen: dict[str, float] = {}

    def reward(texts: list[str]) -> list[float]:
        new = [t for t in dict.fromkeys(texts) if t not in seen]
        if new:
            # Within one RL step: no bar (a step embeds a handful of new texts).
            scores = probe.score(embed_texts(new, model_id=cfg.embed_model_id, use_cache=False,
                                             show_progress=False, device=cfg.device))
            # Standardised on the training headlines: every reward meets the KL penalty on one scale.
            scores = (scores - stored["score_mean"]) / stored["score_sd"]
            seen.update(zip(new, scores.tolist(), strict=True))
        return [seen[t] for t in texts]

    seed = job_seed(cfg.seed, k)
    with torch_threads(1):
        tuned = train_rloo(sft_path, rl_prompts(cfg, prepared, seed), reward,
                           train_settings(cfg, seed, "rl", options), done.parent, beta=cfg.rl_beta,
                           num_generations=cfg.num_generations, max_completion_length=cfg.max_completion_length)
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if int(os.environ.get("RANK", "0")) != 0:
            return {}
        result = {**sample(tuned, cfg, seed, prepared["teams"]), "world_size": world_size}
    write_json_atomic(done, result)
    return result


def launch_rl_job(cfg: Config, setting: str, method: str, k: int, work_dir: str, sft_path: str,
                  options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """:func:`rl_job` under ``accelerate launch`` with ``num_processes`` processes; its generations."""
    import subprocess
    import sys

    from dclm.config import to_dict
    from dclm.env import launch_processes

    prepared = json.loads((Path(work_dir) / "prepared.json").read_text())
    done = _rl_root(work_dir, prepared["settings"][setting]["probes"][method], k) / "generations.json"
    # At most one process per GPU: two on one GPU would ask rank 1 for cuda:1.
    processes = launch_processes(cfg.num_processes, cfg.device)
    if not done.exists():
        cfg_path = Path(work_dir) / "config.json"
        write_json_atomic(cfg_path, to_dict(cfg))
        # accelerate 1.15's `--cpu` flag picks its single-process launcher whatever
        # --num_processes says; `--multi_gpu` starts torchrun, and the trainer's use_cpu (CPU
        # profiles) makes each process join a gloo group on the CPU instead.
        command = [*dies_with_parent([sys.executable]), "-m", "accelerate.commands.launch", "--num_processes",
                   str(processes), "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                   *(["--multi_gpu"] if processes > 1 else []),
                   "-m", "dclm.experiments.deconfound", "--config", str(cfg_path), "--setting", setting,
                   "--method", method, "--k", str(k), "--work-dir", work_dir, "--sft", sft_path,
                   *([] if options.show_progress else ["--no-progress"])]
        env = {**os.environ, **({"CUDA_VISIBLE_DEVICES": ""} if cfg.device == "cpu" else {})}
        finished = subprocess.run(command, capture_output=True, text=True, env=env)
        if finished.returncode != 0:
            raise RuntimeError(f"accelerate launch failed for {setting}/{method}/seed {k} "
                               f"(exit {finished.returncode}):\n{finished.stderr[-3000:]}")
    return json.loads(done.read_text())


def rl_jobs(cfg: Config, prepared: dict) -> list[tuple[str, str, int]]:
    """One (setting, method, RL seed) per distinct reward model and seed, its first pair's."""
    owners: dict[tuple[str, int], tuple[str, str, int]] = {}
    for k in range(cfg.rl_seeds):
        for setting in cfg.settings:
            for method in cfg.methods:
                owners.setdefault((prepared["settings"][setting]["probes"][method]["id"], k), (setting, method, k))
    return list(owners.values())


def run_rl_jobs(cfg: Config, jobs: list[tuple[str, str, int]], work_dir: Path, sft_path: Path,
                options: JobOptions = DEFAULT_OPTIONS) -> list[dict]:
    """Every job's :func:`rl_job` output, in order: under accelerate, in this process, or in a pool."""
    from dclm import env
    from dclm.env import progress

    args = (str(work_dir), str(sft_path), options)
    pool_kwargs = env.pool_kwargs(len(jobs), cfg.workers, cfg.device, get_context("spawn"))  # per core or GPU
    if cfg.launcher == "accelerate":
        return [launch_rl_job(cfg, *job, *args)
                for job in progress(jobs, show=options.show_progress, desc="RL runs (accelerate)")]
    if pool_kwargs["max_workers"] <= 1:
        return [rl_job(cfg, *job, *args) for job in progress(jobs, show=options.show_progress, desc="RL runs")]
    with worker_pool(pool_kwargs["max_workers"], pool_kwargs.get("initializer"), pool_kwargs.get("initargs", ())) as pool:
        futures = [pool.submit(rl_job, cfg, *job, *args) for job in jobs]
        return [f.result() for f in progress(futures, show=options.show_progress, desc="RL runs")]


def main(argv: list[str] | None = None) -> None:
    """One RL run, the entry point ``accelerate launch -m dclm.experiments.deconfound`` starts."""
    import argparse

    parser = argparse.ArgumentParser(description="one DeconfoundLM RL run (used by accelerate launch)")
    parser.add_argument("--config", required=True)
    parser.add_argument("--setting", required=True, choices=SETTINGS)  # with --method: which reward
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--sft", required=True)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (the book build)")
    args = parser.parse_args(argv)
    cfg = Config.from_dict(json.loads(Path(args.config).read_text()))
    rl_job(cfg, args.setting, args.method, args.k, args.work_dir, args.sft,
           JobOptions(show_progress=not args.no_progress))
