"""Chapter 3's training: SFT, then DPO on raw, deconfounded and dosed pairs, per training seed.

Training seeds run as parallel single-thread processes (tiny models train ~20x slower with two
torch threads on two busy cores); with one worker they run in this process, the reader's kernel
in a chapter, which gets its thread count back after each seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dclm.cache import write_json_atomic
from dclm.config import job_seed
from dclm.eval.markers import marker_rates
from dclm.experiments.monday.arms import arm, chosen_records, headline_arms, trained_arms
from dclm.experiments.monday.config import Config
from dclm.experiments.monday.data import prepare_once
from dclm.experiments.monday.summary import summarize
from dclm.train.options import DEFAULT_OPTIONS, JobOptions
from dclm.train.pool import torch_threads, worker_pool


def train_settings(cfg: Config, seed: int, stage: str, options: JobOptions = DEFAULT_OPTIONS):
    """The :class:`dclm.train.trainers.TrainSettings` of ``stage`` ("sft" or "dpo") for trainer seed ``seed``.

    DPO trains a LoRA adapter of half the SFT rank (the re-run's 16 and 8).
    """
    from dclm.env import device
    from dclm.train.trainers import TrainSettings

    shared = {"batch_size": cfg.batch_size, "max_length": cfg.max_length, "seed": seed, "save_steps": cfg.save_steps,
              "device": device(cfg.device), "gradient_checkpointing": cfg.gradient_checkpointing,
              "save_dtype": cfg.save_dtype, "show_progress": options.show_progress}
    if stage == "sft":
        return TrainSettings(learning_rate=cfg.sft_lr, epochs=cfg.sft_epochs, lora_rank=cfg.lora_rank, **shared)
    return TrainSettings(learning_rate=cfg.dpo_lr, max_steps=cfg.dpo_steps, lora_rank=max(cfg.lora_rank // 2, 0),
                         **shared)


def evaluate_model(model_path: Path, prompts: list[str], cfg: Config, seed: int) -> dict:
    """Marker rates of the answers the model at ``model_path`` samples for ``prompts``.

    ``rates`` pools ``cfg.generation_seeds`` sampling passes (pass g uses seed
    ``seed + 1,000,000*g``); ``rates_by_generation_seed`` has each pass's; ``examples`` the
    first answer to each of the first three prompts. Rates are shares of generations.
    """
    from dclm.env import device
    from dclm.train.hf import load_causal_lm, load_tokenizer, sample_completions

    tokenizer = load_tokenizer(model_path, padding_side="left")
    model = load_causal_lm(model_path, device=device(cfg.device))
    passes = [sample_completions(model, tokenizer, prompts, cfg.samples_per_prompt, cfg.max_new_tokens,
                                 seed + 1_000_000 * g) for g in range(cfg.generation_seeds)]
    pooled = [text for completions in passes for text in completions]
    return {"rates": marker_rates(pooled), "rates_by_generation_seed": [marker_rates(c) for c in passes],
            "examples": passes[0][: 3 * cfg.samples_per_prompt: cfg.samples_per_prompt]}


def draw_pairs(pairs: list[dict], cfg: Config, seed: int) -> list[dict]:
    """Training seed ``seed``'s DPO pairs: a bootstrap of the preference questions (with their
    pairs), then at most ``dpo_steps x batch_size`` of those pairs.

    Resampling questions gives each seed its own draw from the pool, whose imbalance DPO
    amplifies like a real one, so the spread across seeds includes that draw's noise. The pool's
    own leftover imbalance is shared by every seed and is not in the spread.
    """
    rng = np.random.default_rng(seed)
    by_question: dict[int, list[dict]] = {}
    for pair in pairs:
        record = {k: v for k, v in pair.items() if k != "question_id"}
        by_question.setdefault(pair["question_id"], []).append(record)
    questions = list(by_question)
    drawn = [pair for i in rng.integers(0, len(questions), size=len(questions)) for pair in by_question[questions[i]]]
    n = cfg.dpo_steps * cfg.batch_size
    if len(drawn) <= n:
        return drawn
    keep = np.sort(rng.choice(len(drawn), size=n, replace=False))
    return [drawn[i] for i in keep]


def train_one_seed(cfg: Config, k: int, work_dir: str, base_path: str,
                   options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """Train SFT, the DPO arms and the dosed DPO runs for training seed ``k``; evaluate each.

    ``{model: evaluate_model(...)}`` for the four models of :data:`MODELS` and each trained arm
    (:func:`dclm.experiments.monday.arms.trained_arms`), ``dose`` (rates per dose strength) and
    ``timings_s``. Runs with one torch thread (given back when it returns,
    as it may run in the reader's kernel). Results are saved to ``work_dir/seed_k/results.json``;
    a finished seed is not trained again.
    """
    seed = job_seed(cfg.seed, k)
    root = Path(work_dir) / f"seed_{k}"
    done = root / "results.json"
    if done.exists():
        return json.loads(done.read_text())
    with torch_threads(1):
        results = _train_and_evaluate(cfg, seed, Path(work_dir), root, base_path, options)
    write_json_atomic(done, results)
    return results


def _train_and_evaluate(cfg: Config, seed: int, work_dir: Path, root: Path, base_path: str,
                        options: JobOptions) -> dict:
    import time

    from dclm.train.trainers import train_dpo, train_sft

    clock = time.perf_counter()
    timings = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 2)
        clock = now

    data = json.loads((work_dir / "prepared.json").read_text())
    prompts = data["eval_prompts"]
    sft_settings, dpo_settings = (train_settings(cfg, seed, stage, options) for stage in ("sft", "dpo"))
    results = {"base": evaluate_model(Path(base_path), prompts, cfg, seed)}
    lap("eval_base")
    sft = train_sft(base_path, data["sft"], sft_settings, root / "sft")
    lap("train_sft")
    results["sft"] = evaluate_model(sft, prompts, cfg, seed)
    lap("eval_sft")
    for name in trained_arms(cfg):
        spec = arm(name, cfg)
        # Each training seed trains on its own bootstrap draw of pairs (see draw_pairs), so the
        # spread across seeds includes the pair pool's noise, not only the optimiser's. Arms on
        # the same pair set get the same draw: their differences are the losses' alone.
        pairs = draw_pairs(data[spec.pairs], cfg, seed)
        if spec.chosen_only:
            tuned = train_sft(sft, chosen_records(pairs), dpo_settings, root / name)
        else:
            tuned = train_dpo(sft, pairs, dpo_settings, root / name, beta=cfg.dpo_beta, sft_weight=spec.sft_weight)
        lap(f"train_{name}")
        results[name] = evaluate_model(tuned, prompts, cfg, seed)
        lap(f"eval_{name}")
    for model, name in headline_arms(cfg).items():
        results[model] = results[name]
    dose_weight = arm(headline_arms(cfg)["dpo"], cfg).sft_weight
    results["dose"] = {}
    for key, pairs in data["dose"].items():
        tuned = train_dpo(sft, draw_pairs(pairs, cfg, seed), dpo_settings, root / f"dpo_dose_{key}",
                          beta=cfg.dpo_beta, sft_weight=dose_weight)
        results["dose"][key] = evaluate_model(tuned, prompts, cfg, seed)["rates"]
        lap(f"train_and_eval_dose_{key}")
    results["timings_s"] = timings
    return results


def base_model(cfg: Config, work_dir: Path, prepared: dict) -> str:
    """Where the base policy loads from: ``cfg.policy_model_id``, or for ``"tiny"`` a tiny GPT-NeoX
    with a tokenizer trained on the prepared ``corpus``, built once in ``work_dir/base``."""
    from dclm.train.hf import build_tiny_causal_lm

    if cfg.policy_model_id != "tiny":
        return cfg.policy_model_id
    base_path = work_dir / "base"
    if not (base_path / "config.json").exists():
        build_tiny_causal_lm(prepared["corpus"], base_path, seed=cfg.seed, vocab_size=cfg.tiny_vocab,
                             hidden_size=cfg.tiny_hidden, num_layers=cfg.tiny_layers,
                             max_positions=max(128, cfg.max_length + cfg.max_new_tokens))
    return str(base_path)


def run(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """Chapter 3's run: prepare the pairs, train and evaluate every training seed, summarize.

    ``{"metrics": ..., "data": ...}`` (see :func:`summarize`). ``work_dir`` keeps the prepared
    data, the base model and each seed's checkpoints and results, so a killed run resumes.
    """
    from multiprocessing import get_context

    from dclm.env import pool_kwargs, progress

    work_dir = Path(work_dir)
    prepared = prepare_once(cfg, work_dir)
    base_path = base_model(cfg, work_dir, prepared)
    jobs = [(cfg, k, str(work_dir), base_path, options) for k in range(cfg.training_seeds)]
    # One worker per CPU core, or per GPU with each worker pinned to its own (dclm.env).
    pool = pool_kwargs(cfg.training_seeds, cfg.workers, cfg.device, get_context("spawn"))
    if pool["max_workers"] <= 1:
        per_seed = [train_one_seed(*job) for job in progress(jobs, show=options.show_progress, desc="training seeds")]
    else:
        with worker_pool(pool["max_workers"], pool.get("initializer"), pool.get("initargs", ())) as workers:
            futures = [workers.submit(train_one_seed, *job) for job in jobs]
            per_seed = [f.result() for f in progress(futures, show=options.show_progress, desc="training seeds")]
    return summarize(per_seed, prepared["summary"], cfg)
