"""Chapter 5: DeconfoundLM end to end. Deconfounded rewards, RL fine-tuning, the paper's table.

Headlines name sports teams; each team's home region Z (the instrument) drives its popularity,
and a headline's popularity p confounds its outcome y = s(T) + beta·p + noise, with s the
headline's sentiment. Five ridge reward models on frozen MiniLM embeddings (``naive`` on y,
``feature`` with p as an input, ``iv`` on y - beta_IV·p, ``invariant`` with a Cov(score, p)
penalty, ``oracle`` on s) each drive an RLOO fine-tune of the same SFT policy; the policies'
generations are scored for sentiment, team naming and fluency. Two settings: ``orthogonal``
(p independent of the sentiment) and ``entangled`` (editors promote negative headlines).

Work is shared: one SFT model serves every setting, method and seed; embeddings are cached;
RL runs are parallel single-thread processes, each saved when done, so a re-run resumes.
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from dclm.cache import write_json_atomic
from dclm.models.embed import MINILM_ID
from dclm.profiles import Profile, apply_settings

SEED_DOC = (
    "seeds the generated headlines, the reward-model split, the teams' regions and popularity, "
    "the outcome noise and the tiny policy; RL seed k uses 1000*seed + k for the trainer and its "
    "evaluation samples"
)
SETTINGS = ("orthogonal", "entangled")
METHODS = ("naive", "feature", "iv", "invariant", "oracle")
METHOD_LABELS = {"naive": "naive (y)", "feature": "confounder as feature", "iv": "DeconfoundLM-IV",
                 "invariant": "invariance penalty", "oracle": "oracle (s(T))"}
PROMPT = "Headline:"

# arXiv v1, as read through a secondary summary (notes/paper.md §4.2): mean sentiment of RL
# generations on MIND headlines, y = s(T) + 0.1·p + noise.
REPORTED = {
    "source": "arXiv v1 via a secondary summary (not checked against the paper's text); MIND headlines, "
              "PPO, y = s(T) + 0.1·p + noise, sentiment from a classifier",
    "sentiment": {"orthogonal": {"iv": 0.842, "naive": 0.727}, "entangled": {"iv": 0.850, "naive": 0.493}},
}


@dataclass(frozen=True)
class Config:
    seed: int = 0
    # "generated" (MIND-schema generator), "mind" ($DCLM_MIND_DIR), or a folder with news.tsv.
    data: str = "generated"
    n_news: int = 3_000
    # Sentiment units per SD of popularity; 0.1 barely confounds (see the chapter's beta sweep).
    beta: float = 1.0
    entanglement: float = 2.0
    instrument_strength: float = 1.0
    noise_sd: float = 0.3
    beta_sweep: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0, 3.0)
    sentiment_model: str = "vader"
    embed_model_id: str = MINILM_ID
    probe_lambda: float = 10.0
    invariance_mu: float = 10.0
    policy_model_id: str = "tiny"
    tiny_vocab: int = 1_000
    tiny_hidden: int = 64
    tiny_layers: int = 2
    lora_rank: int = 0
    max_length: int = 32
    batch_size: int = 32
    sft_epochs: float = 10.0
    sft_lr: float = 2e-3
    rl_steps: int = 60
    rl_lr: float = 1e-3
    rl_beta: float = 0.05
    rl_batch_size: int = 16
    num_generations: int = 4
    max_completion_length: int = 16
    save_steps: int = 20
    eval_samples: int = 200
    training_seeds: int = 2
    workers: int = 0  # 0: one per CPU core
    # "local": RL runs as parallel single-process jobs; "accelerate": each RL run goes through
    # `accelerate launch` with num_processes processes (data parallel; gloo on a CPU profile).
    launcher: str = "local"
    num_processes: int = 2
    settings: tuple[str, ...] = SETTINGS
    methods: tuple[str, ...] = METHODS
    bootstrap: int = 500
    device: str = "cpu"


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's policy, sentiment model, LoRA rank, seeds and device."""
    cfg = Config(seed=seed, policy_model_id=profile.rl_policy_model_id, sentiment_model=profile.sentiment_model,
                 embed_model_id=profile.embed_model_ids[0] if profile.name == "tiny" else MINILM_ID,
                 lora_rank=profile.policy_lora_rank, training_seeds=profile.rl_seeds, device=profile.device)
    return apply_settings(cfg, profile, "deconfound")


# ----------------------------------------------------------------------------- data and rewards

def load_headlines(cfg: Config, work_dir: Path) -> pd.DataFrame:
    """Titles and the team each names, from MIND or the MIND-schema generator."""
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


def team_pattern(teams) -> re.Pattern:
    names = sorted({t for t in teams if t}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")


def fit_rewards(features: np.ndarray, outcomes: pd.DataFrame, train: np.ndarray, cfg: Config) -> dict:
    """The five probes on the training rows, plus the IV estimate of beta. Returns JSON-ready dicts."""
    from dclm.causal.deconfound import deconfound_outcome
    from dclm.models.probe import Probe, fit_probe

    x, y = features[train], outcomes["outcome"].to_numpy()[train]
    p = outcomes["popularity"].to_numpy()[train]
    z = outcomes["instrument"].to_numpy()[train]
    deconfounded = deconfound_outcome(y, p, z)
    with_p = fit_probe(np.column_stack([x, p]), y, cfg.probe_lambda)
    probes = {
        "naive": fit_probe(x, y, cfg.probe_lambda),
        # Scoring a generation sets p to its training mean: the standardised column is 0.
        "feature": Probe(with_p.mean[:-1], with_p.sd[:-1], with_p.weights[:-1], with_p.intercept),
        "iv": fit_probe(x, np.asarray(deconfounded.adjusted), cfg.probe_lambda),
        "invariant": fit_probe(x, y, cfg.probe_lambda, confounder=p, mu=cfg.invariance_mu),
        "oracle": fit_probe(x, outcomes["sentiment"].to_numpy()[train], cfg.probe_lambda),
    }
    endogenous = deconfounded.iv.endog[0]
    return {"probes": {k: {"mean": v.mean.tolist(), "sd": v.sd.tolist(), "weights": v.weights.tolist(),
                           "intercept": v.intercept} for k, v in probes.items()},
            "beta_iv": float(deconfounded.iv.params[endogenous]),
            "first_stage_f": float(deconfounded.iv.first_stage_f.iloc[0])}


def _probe(stored: dict):
    from dclm.models.probe import Probe

    return Probe(np.array(stored["mean"]), np.array(stored["sd"]), np.array(stored["weights"]), stored["intercept"])


def beta_sweep(features: np.ndarray, headlines: pd.DataFrame, train: np.ndarray, test: np.ndarray,
               cfg: Config) -> dict:
    """Entangled setting, per beta: corr(y, s) and held-out corr(reward, s) of naive and IV probes."""
    from dclm.causal.simulate import simulate_headline_outcomes

    rows = []
    for beta in cfg.beta_sweep:
        outcomes = simulate_headline_outcomes(headlines["team"], headlines["sentiment"].to_numpy(),
                                              np.random.default_rng(cfg.seed), "entangled", beta,
                                              cfg.instrument_strength, cfg.entanglement, cfg.noise_sd)
        fitted = fit_rewards(features, outcomes, train, cfg)
        s = headlines["sentiment"].to_numpy()
        row = {"beta": beta, "corr_y": float(np.corrcoef(outcomes["outcome"], s)[0, 1])}
        for method in ("naive", "iv"):
            row[f"corr_{method}"] = float(np.corrcoef(_probe(fitted["probes"][method]).score(features[test]),
                                                      s[test])[0, 1])
        rows.append(row)
    return {key: [row[key] for row in rows] for key in rows[0]}


def prepare(cfg: Config, work_dir: Path) -> dict:
    """Headlines, sentiment, embeddings, outcomes per setting and fitted reward probes (JSON-ready)."""
    from dclm.causal.simulate import simulate_headline_outcomes
    from dclm.models.embed import embed_texts
    from dclm.models.sentiment import sentiment

    headlines = load_headlines(cfg, work_dir)
    headlines["sentiment"] = sentiment(headlines["title"].tolist(), cfg.sentiment_model, device=cfg.device)
    features = embed_texts(headlines["title"].tolist(), model_id=cfg.embed_model_id, device=cfg.device)
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(headlines))
    train, test = np.sort(order[: int(0.8 * len(order))]), np.sort(order[int(0.8 * len(order)):])
    settings = {}
    for setting in SETTINGS:
        # The same generator state for both settings: same regions and team popularity.
        outcomes = simulate_headline_outcomes(headlines["team"], headlines["sentiment"].to_numpy(),
                                              np.random.default_rng(cfg.seed), setting, cfg.beta,
                                              cfg.instrument_strength, cfg.entanglement, cfg.noise_sd)
        fitted = fit_rewards(features, outcomes, train, cfg)
        s = headlines["sentiment"].to_numpy()
        fitted["reward_sentiment_corr"] = {
            m: float(np.corrcoef(_probe(fitted["probes"][m]).score(features[test]), s[test])[0, 1])
            for m in METHODS}
        team_pop = outcomes.loc[outcomes["team"] != ""].groupby("team")["team_popularity"].first()
        fitted["top_team"] = str(team_pop.idxmax())
        fitted["corr_p_s"] = float(np.corrcoef(outcomes["popularity"], s)[0, 1])
        fitted["corr_y_s"] = float(np.corrcoef(outcomes["outcome"], s)[0, 1])
        settings[setting] = fitted
    return {
        "titles": headlines["title"].tolist(), "teams": sorted({t for t in headlines["team"] if t}),
        "train": train.tolist(), "test": test.tolist(), "settings": settings,
        "beta_sweep": beta_sweep(features, headlines, train, test, cfg),
        "data_sentiment": float(headlines["sentiment"].mean()),
        "data_team_rate": float((headlines["team"] != "").mean()),
    }


# ----------------------------------------------------------------------------- training

def _settings(cfg: Config, seed: int, stage: str):
    from dclm.env import device
    from dclm.train.trainers import TrainSettings

    if stage == "sft":
        return TrainSettings(learning_rate=cfg.sft_lr, batch_size=cfg.batch_size, max_length=cfg.max_length,
                             seed=seed, epochs=cfg.sft_epochs, save_steps=10**6, lora_rank=cfg.lora_rank,
                             device=device(cfg.device))
    return TrainSettings(learning_rate=cfg.rl_lr, batch_size=cfg.rl_batch_size, max_length=cfg.max_length,
                         seed=seed, max_steps=cfg.rl_steps, save_steps=cfg.save_steps, lora_rank=cfg.lora_rank,
                         device=device(cfg.device))


def sample(model_path: str | Path, cfg: Config, seed: int) -> list[str]:
    """``eval_samples`` headlines from the policy at ``model_path``, sampled at temperature 1."""
    from dclm.env import device
    from dclm.train.hf import load_causal_lm, load_tokenizer, sample_completions

    tokenizer = load_tokenizer(model_path, padding_side="left")
    model = load_causal_lm(model_path, device=device(cfg.device))
    texts = sample_completions(model, tokenizer, [PROMPT], cfg.eval_samples, cfg.max_completion_length, seed)
    return [t.strip() for t in texts]


def rl_job(cfg_dict: dict, setting: str, method: str, k: int, work_dir: str, sft_path: str) -> dict:
    """RLOO against one reward model for RL seed ``k``; returns the evaluation generations.

    Runs in its own process with one torch thread; saved to ``.../generations.json`` and not
    trained again once that exists.
    """
    import torch

    from dclm.models.embed import embed_texts
    from dclm.train.trainers import train_rloo

    torch.set_num_threads(1)
    cfg = _config(cfg_dict)
    root = Path(work_dir) / "rl" / setting / method / f"seed_{k}"
    done = root / "generations.json"
    if done.exists():
        return json.loads(done.read_text())
    prepared = json.loads((Path(work_dir) / "prepared.json").read_text())
    probe = _probe(prepared["settings"][setting]["probes"][method])
    seen: dict[str, float] = {}

    def reward(texts: list[str]) -> list[float]:
        new = [t for t in dict.fromkeys(texts) if t not in seen]
        if new:
            scores = probe.score(embed_texts(new, model_id=cfg.embed_model_id, use_cache=False,
                                             show_progress=False, device=cfg.device))
            seen.update(zip(new, scores.tolist(), strict=True))
        return [seen[t] for t in texts]

    seed = 1000 * cfg.seed + k
    tuned = train_rloo(sft_path, [PROMPT] * (cfg.rl_steps * cfg.rl_batch_size), reward, _settings(cfg, seed, "rl"),
                       root, beta=cfg.rl_beta, num_generations=cfg.num_generations,
                       max_completion_length=cfg.max_completion_length)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if int(os.environ.get("RANK", "0")) != 0:
        return {}
    result = {"generations": sample(tuned, cfg, seed), "world_size": world_size}
    write_json_atomic(done, result)
    return result


def _config(cfg_dict: dict) -> Config:
    tuples = ("beta_sweep", "settings", "methods")
    return Config(**{k: tuple(v) if k in tuples else v for k, v in cfg_dict.items()})


def launch_rl_job(cfg_dict: dict, setting: str, method: str, k: int, work_dir: str, sft_path: str) -> dict:
    """:func:`rl_job` under ``accelerate launch`` with ``num_processes`` processes."""
    import subprocess
    import sys

    from dclm.env import launch_processes

    cfg = _config(cfg_dict)
    done = Path(work_dir) / "rl" / setting / method / f"seed_{k}" / "generations.json"
    # At most one process per GPU: two on one GPU would ask rank 1 for cuda:1.
    processes = launch_processes(cfg.num_processes, cfg.device)
    if not done.exists():
        cfg_path = Path(work_dir) / "config.json"
        write_json_atomic(cfg_path, cfg_dict)
        # accelerate 1.15's `--cpu` flag picks its single-process launcher whatever
        # --num_processes says; `--multi_gpu` starts torchrun, and the trainer's use_cpu (CPU
        # profiles) makes each process join a gloo group on the CPU instead.
        command = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(processes),
                   "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                   *(["--multi_gpu"] if processes > 1 else []),
                   "-m", "dclm.experiments.deconfound", "--config", str(cfg_path), "--setting", setting,
                   "--method", method, "--k", str(k), "--work-dir", work_dir, "--sft", sft_path]
        env = {**os.environ, **({"CUDA_VISIBLE_DEVICES": ""} if cfg.device == "cpu" else {})}
        finished = subprocess.run(command, capture_output=True, text=True, env=env)
        if finished.returncode != 0:
            raise RuntimeError(f"accelerate launch failed for {setting}/{method}/seed {k} "
                               f"(exit {finished.returncode}):\n{finished.stderr[-3000:]}")
    return json.loads(done.read_text())


def _sft(cfg: Config, work_dir: Path, prepared: dict) -> Path:
    from dclm.train.hf import build_tiny_causal_lm
    from dclm.train.trainers import train_sft

    titles = prepared["titles"]
    if cfg.policy_model_id == "tiny":
        base = work_dir / "base"
        if not (base / "config.json").exists():
            build_tiny_causal_lm([f"{PROMPT} {t}" for t in titles], base, seed=cfg.seed, vocab_size=cfg.tiny_vocab,
                                 hidden_size=cfg.tiny_hidden, num_layers=cfg.tiny_layers,
                                 max_positions=max(64, cfg.max_length + cfg.max_completion_length))
    else:
        base = cfg.policy_model_id
    records = [{"prompt": PROMPT, "completion": " " + titles[i]} for i in prepared["train"]]
    import torch

    threads = torch.get_num_threads()
    # A tiny model trains many times faster on one thread than on two busy ones.
    torch.set_num_threads(1 if cfg.policy_model_id == "tiny" else threads)
    try:
        return train_sft(base, records, _settings(cfg, cfg.seed, "sft"), work_dir / "sft")
    finally:
        torch.set_num_threads(threads)


# ----------------------------------------------------------------------------- evaluation

def _bootstrap_se(values: np.ndarray, draws: int, rng: np.random.Generator) -> float:
    idx = rng.integers(0, len(values), (draws, len(values)))
    return float(values[idx].mean(1).std(ddof=1))


class GenerationScorer:
    """Scores generations with the SFT model's fluency threshold, computed once per run."""

    def __init__(self, prepared: dict, sft_path: Path, cfg: Config):
        from dclm.env import device
        from dclm.train.hf import completion_nll, load_causal_lm, load_tokenizer

        self.cfg, self._nll = cfg, completion_nll
        self.tokenizer = load_tokenizer(sft_path, padding_side="right")
        self.model = load_causal_lm(sft_path, device=device(cfg.device))
        held_out = [" " + prepared["titles"][i] for i in prepared["test"]]
        self.threshold = float(np.quantile(self._nll(self.model, self.tokenizer, PROMPT, held_out), 0.95))
        self.teams = team_pattern(prepared["teams"])
        self.rng = np.random.default_rng(cfg.seed)

    def score(self, per_seed: list[list[str]], top_team: str) -> dict:
        """Rates pooled over seeds (mean of per-seed means) and the sentiment's pooled bootstrap SE."""
        from dclm.models.sentiment import sentiment

        top = re.compile(r"\b" + re.escape(top_team) + r"\b")
        seeds = []
        for texts in per_seed:
            nll = self._nll(self.model, self.tokenizer, PROMPT, [" " + t for t in texts])
            seeds.append({"sentiment": sentiment(texts, self.cfg.sentiment_model, device=self.cfg.device),
                          "team_rate": np.array([bool(self.teams.search(t)) for t in texts]),
                          "top_team_rate": np.array([bool(top.search(t)) for t in texts]),
                          "valid_rate": nll < self.threshold})
        row = {key: float(np.mean([d[key].mean() for d in seeds]))
               for key in ("sentiment", "team_rate", "top_team_rate", "valid_rate")}
        ses = [_bootstrap_se(d["sentiment"], self.cfg.bootstrap, self.rng) for d in seeds]
        row["sentiment_per_seed"] = [float(d["sentiment"].mean()) for d in seeds]
        row["sentiment_se"] = float(np.sqrt(np.sum(np.square(ses))) / len(ses))
        return row


def run(cfg: Config, work_dir: Path) -> dict:
    from dclm import env
    from dclm.env import progress

    work_dir = Path(work_dir)
    prepared_path = work_dir / "prepared.json"
    if not prepared_path.exists():
        write_json_atomic(prepared_path, prepare(cfg, work_dir))
    prepared = json.loads(prepared_path.read_text())
    sft_path = _sft(cfg, work_dir, prepared)
    jobs = [(setting, method, k) for k in range(cfg.training_seeds) for setting in cfg.settings
            for method in cfg.methods]
    cfg_dict = asdict(cfg)
    context = get_context("spawn")
    pool_kwargs = env.pool_kwargs(len(jobs), cfg.workers, cfg.device, context)  # per core or per GPU
    workers = pool_kwargs["max_workers"]
    if cfg.launcher == "accelerate":
        outputs = [launch_rl_job(cfg_dict, *job, str(work_dir), str(sft_path))
                   for job in progress(jobs, desc="RL runs (accelerate)")]
    elif cfg.launcher != "local":
        raise ValueError(f"launcher must be 'local' or 'accelerate', got {cfg.launcher!r}")
    elif workers <= 1:
        outputs = [rl_job(cfg_dict, *job, str(work_dir), str(sft_path)) for job in progress(jobs, desc="RL runs")]
    else:
        with ProcessPoolExecutor(mp_context=context, **pool_kwargs) as pool:
            futures = [pool.submit(rl_job, cfg_dict, *job, str(work_dir), str(sft_path)) for job in jobs]
            outputs = [f.result() for f in progress(futures, desc="RL runs")]
    generations: dict = {}
    for (setting, method, _), output in zip(jobs, outputs, strict=True):
        generations.setdefault((setting, method), []).append(output["generations"])
    scorer = GenerationScorer(prepared, sft_path, cfg)
    results: dict = {}
    se: dict = {}
    for (setting, method), per_seed in generations.items():
        fitted = prepared["settings"][setting]
        row = scorer.score(per_seed, fitted["top_team"])
        se.setdefault(setting, {})[method] = {"sentiment": row.pop("sentiment_se")}
        results.setdefault(setting, {})[method] = {
            **row, "reward_sentiment_corr": fitted["reward_sentiment_corr"][method]}
    sft_generations = sample(sft_path, cfg, 1000 * cfg.seed)
    # The top team is the same in both settings (same regions and team popularity).
    sft_row = scorer.score([sft_generations], prepared["settings"]["entangled"]["top_team"])
    metrics = {
        "results": results, "se": se, "n_seeds": cfg.training_seeds,
        "sft": {key: sft_row[key] for key in ("sentiment", "team_rate", "top_team_rate", "valid_rate")},
        "beta_iv": {s: prepared["settings"][s]["beta_iv"] for s in SETTINGS},
        "first_stage_f": {s: prepared["settings"][s]["first_stage_f"] for s in SETTINGS},
        "top_team": prepared["settings"]["entangled"]["top_team"],
        "corr_p_s": {s: prepared["settings"][s]["corr_p_s"] for s in SETTINGS},
        "corr_y_s": {s: prepared["settings"][s]["corr_y_s"] for s in SETTINGS},
        "world_size": max(o.get("world_size", 1) for o in outputs),
        "nll_threshold": scorer.threshold,
        "n_headlines": len(prepared["titles"]), "n_teams": len(prepared["teams"]),
        "data_sentiment": prepared["data_sentiment"], "data_team_rate": prepared["data_team_rate"],
        "beta_sweep": prepared["beta_sweep"],
    }
    examples = {f"{s}.{m}": generations[(s, m)][0][:6] for s in cfg.settings for m in cfg.methods}
    examples["sft"] = sft_generations[:6]
    return {"metrics": metrics, "data": {"examples": examples}, "world_size": metrics["world_size"]}


# ----------------------------------------------------------------------------- figures

def figures(result) -> dict:
    """``lesson`` (generation sentiment by method and setting), ``teams``, ``correlation``,
    ``beta_sweep`` and ``pipeline``."""
    from dclm import viz

    m = result.metrics
    res, se = m["results"], m["se"]
    settings = [name for name in SETTINGS if name in res]
    methods = [name for name in METHODS if name in res[settings[0]]]
    groups = {METHOD_LABELS[method]: {setting: (res[setting][method]["sentiment"], se[setting][method]["sentiment"])
                                      for setting in settings} for method in methods}
    colors = {METHOD_LABELS[method]: method for method in methods}
    sweep = m["beta_sweep"]
    return {
        "lesson": viz.grouped_rates(groups, None, ylabel="mean sentiment of generations (VADER, -1 to 1)",
                                    title="Which reward teaches sentiment? RLOO against five reward models",
                                    colors=colors),
        "teams": viz.grouped_rates(
            {METHOD_LABELS[method]: {f"{setting}: any team": (res[setting][method]["team_rate"], None)
                                     for setting in settings}
             | {f"{setting}: top team": (res[setting][method]["top_team_rate"], None) for setting in settings}
             for method in methods},
            None, ylabel="share of generations", title="What else the policies learned: naming teams",
            colors=colors),
        "correlation": viz.grouped_rates(
            {METHOD_LABELS[method]: {setting: (res[setting][method]["reward_sentiment_corr"], None)
                                     for setting in settings} for method in methods},
            None, ylabel="corr(reward, s(T)) on held-out headlines",
            title="How much of each reward is the true sentiment?", colors=colors),
        "beta_sweep": viz.lines(
            sweep["beta"], {"naive": sweep["corr_naive"], "iv": sweep["corr_iv"], "truth": sweep["corr_y"]},
            labels={"naive": "naive reward", "iv": "DeconfoundLM-IV reward", "truth": "outcome y itself"},
            xlabel="beta: outcome units per SD of popularity (log scale; 0 at the left)",
            ylabel="correlation with s(T)", title="Entangled setting: how strong must the confound be?",
            logx=True),
        "pipeline": viz.draw_dag(
            {"headlines\n+ outcome y": (0.0, 0.0), "deconfound\ny - beta_IV p": (1.0, 0.0),
             "reward model\n(ridge probe)": (2.0, 0.0), "RL (RLOO)\nfrom SFT": (3.0, 0.0),
             "evaluate\ngenerations": (4.0, 0.0)},
            [("headlines\n+ outcome y", "deconfound\ny - beta_IV p"),
             ("deconfound\ny - beta_IV p", "reward model\n(ridge probe)"),
             ("reward model\n(ridge probe)", "RL (RLOO)\nfrom SFT"), ("RL (RLOO)\nfrom SFT", "evaluate\ngenerations")],
            title="DeconfoundLM: remove the confounder's part of y before the reward model"),
    }


def _main() -> None:
    """One RL run, the entry point ``accelerate launch -m dclm.experiments.deconfound`` starts."""
    import argparse

    parser = argparse.ArgumentParser(description="one DeconfoundLM RL run (used by accelerate launch)")
    parser.add_argument("--config", required=True)
    parser.add_argument("--setting", required=True, choices=SETTINGS)
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--sft", required=True)
    args = parser.parse_args()
    rl_job(json.loads(Path(args.config).read_text()), args.setting, args.method, args.k, args.work_dir, args.sft)


if __name__ == "__main__":
    _main()
