"""Chapter 5: DeconfoundLM end to end. Deconfounded rewards, RL fine-tuning, the paper's table.

Headlines name sports teams; each team's home region Z (the instrument) drives its popularity,
and a headline's popularity p confounds its outcome y = s(T) + beta·p + noise, with s the
headline's sentiment. Five ridge reward models on frozen MiniLM embeddings (``naive`` on y,
``feature`` with p as an input, ``iv`` on y - beta_IV·p, ``invariant`` with a Cov(score, p)
penalty, ``oracle`` on s) each drive an RLOO fine-tune of the same SFT policy; the policies'
generations are scored for sentiment, team naming and fluency. Settings (the book's graph,
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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from dclm.cache import write_json_atomic
from dclm.models.embed import MINILM_ID
from dclm.models.probe import Probe
from dclm.profiles import Profile, apply_settings
from dclm.train.options import DEFAULT_OPTIONS, JobOptions
from dclm.train.pool import dies_with_parent, worker_pool

SEED_DOC = (
    "seeds the generated headlines, the reward-model split, the teams' regions and popularity, "
    "the outcome noise and the tiny policy; RL seed k uses 1000*seed + k for the trainer and its "
    "evaluation samples; reward replicate r and map seed m use (seed, r) and (seed, 100 + m)"
)
SETTINGS = ("orthogonal", "entangled", "proxy")
# setting -> (the simulator's setting, whether popularity is logged with error)
SIMULATION = {"orthogonal": ("orthogonal", False), "entangled": ("entangled", False), "proxy": ("entangled", True)}
FAILURE_SETTINGS = ("proxy",)
METHODS = ("naive", "feature", "iv", "invariant", "oracle")
METHOD_LABELS = {"naive": "naive (y)", "feature": "confounder as feature", "iv": "DeconfoundLM-IV",
                 "invariant": "invariance penalty", "oracle": "reference: fit on s(T)"}
RL_METRICS = ("sentiment", "sentiment_fluent", "team_rate", "top_team_rate", "valid_rate")
PROMPT = "Headline:"

# arXiv v1, as read through a secondary summary (notes/paper.md §4.2): mean sentiment of RL
# generations on MIND headlines, y = s(T) + 0.1·p + noise.
REPORTED = {
    "source": "arXiv v1 via a secondary summary (not checked against the paper's text); MIND headlines, "
              "y = s(T) + 0.1·p + noise; the RL algorithm and the sentiment scorer are not known",
    "sentiment": {"orthogonal": {"iv": 0.842, "naive": 0.727}, "entangled": {"iv": 0.850, "naive": 0.493}},
}


@dataclass(frozen=True)
class Config:
    # Integer fields for which 0 means something (see dclm.config.check_config).
    ZERO_OK: ClassVar[tuple[str, ...]] = ("workers", "lora_rank", "map_seeds")
    seed: int = 0
    # "generated" (MIND-schema generator), "mind" ($DCLM_MIND_DIR), or a folder with news.tsv.
    data: str = "generated"
    n_news: int = 3_000
    # Sentiment units per SD of popularity; 0.1 barely confounds (see the chapter's beta sweep).
    beta: float = 1.0
    entanglement: float = 2.0
    instrument_strength: float = 1.0
    noise_sd: float = 0.3
    # SD of the logging error of popularity in the "proxy" setting (popularity has SD 1).
    measurement_error: float = 1.0
    beta_sweep: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0, 3.0)
    test_share: float = 0.2
    lambda_grid: tuple[float, ...] = (1.0, 10.0, 100.0, 1_000.0, 10_000.0)
    reward_replicates: int = 10
    map_lambdas: tuple[float, ...] = (10.0, 100.0, 1_000.0, 10_000.0)
    map_measurement_error: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
    map_seeds: int = 5
    sentiment_model: str = "vader"
    embed_model_id: str = MINILM_ID
    # Strong L2, as the paper's procedure advises; the chapter sweeps it (lambda_grid).
    probe_lambda: float = 1_000.0
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
    training_seeds: int = 5
    workers: int = 0  # 0: one per CPU core
    # "local": RL runs as parallel single-process jobs; "accelerate": each RL run goes through
    # `accelerate launch` with num_processes processes (data parallel; gloo on a CPU profile).
    launcher: str = "local"
    num_processes: int = 2
    settings: tuple[str, ...] = SETTINGS
    methods: tuple[str, ...] = METHODS
    device: str = "cpu"


def validate(cfg: Config) -> None:
    """Data source, launcher, settings and methods this module knows."""
    from dclm.config import ConfigError, check_at_least, check_choice

    check_choice("data", cfg.data, ("generated", "mind"), or_path="a folder holding MIND's news.tsv")
    check_choice("launcher", cfg.launcher, ("local", "accelerate"))
    check_choice("settings", cfg.settings, SETTINGS)
    check_choice("methods", cfg.methods, METHODS)
    check_at_least(cfg, {"measurement_error": 0.0, "probe_lambda": 0.0, "reward_replicates": 2})
    if not 0 < cfg.test_share < 1:
        raise ConfigError(f"test_share={cfg.test_share}: expected a number between 0 and 1")


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
    """The simulated outcome table of ``setting`` (see :data:`SIMULATION`)."""
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
    its reward before RL.
    """
    import warnings

    from dclm.causal.deconfound import deconfound_outcome
    from dclm.causal.linear import WeakInstrumentWarning
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


def _held_out_corr(stored: dict, features: np.ndarray, sentiment: np.ndarray, test: np.ndarray) -> float:
    return float(np.corrcoef(Probe.from_stored(stored).score(features[test]), sentiment[test])[0, 1])


def beta_sweep(features: np.ndarray, headlines: pd.DataFrame, train: np.ndarray, test: np.ndarray,
               cfg: Config) -> dict:
    """Entangled setting, per beta: corr(y, s) and held-out corr(reward, s) of naive and IV probes."""
    rows = []
    s = headlines["sentiment"].to_numpy()
    for beta in cfg.beta_sweep:
        outcomes = outcomes_for(headlines, "entangled", cfg, np.random.default_rng(cfg.seed), beta=beta)
        fitted = fit_rewards(features, outcomes, train, cfg, methods=("naive", "iv"))
        row = {"beta": beta, "corr_y": float(np.corrcoef(outcomes["outcome"], s)[0, 1])}
        for method in ("naive", "iv"):
            row[f"corr_{method}"] = _held_out_corr(fitted["probes"][method], features, s, test)
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
                out[setting][method].append(_held_out_corr(fitted["probes"][method], features, s, test))
    return out


def lambda_sweep(features: np.ndarray, headlines: pd.DataFrame, train: np.ndarray, test: np.ndarray,
                 cfg: Config) -> dict:
    """Per setting and ridge penalty: held-out corr(reward, s) and the score SD of feature and IV probes."""
    s = headlines["sentiment"].to_numpy()
    out: dict = {"lambda": list(cfg.lambda_grid)}
    for setting in cfg.settings:
        outcomes = outcomes_for(headlines, setting, cfg, np.random.default_rng(cfg.seed))
        rows = {f"{m}_{k}": [] for m in ("feature", "iv") for k in ("corr", "score_sd")}
        for lam in cfg.lambda_grid:
            fitted = fit_rewards(features, outcomes, train, cfg, lam=lam, methods=("feature", "iv"))
            for method in ("feature", "iv"):
                rows[f"{method}_corr"].append(_held_out_corr(fitted["probes"][method], features, s, test))
                rows[f"{method}_score_sd"].append(fitted["probes"][method]["score_sd"])
        out[setting] = rows
    return out


def advantage_map(features: np.ndarray, headlines: pd.DataFrame, cfg: Config) -> dict:
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
            per_seed = {"feature": [], "iv": []}
            for rng_seed, (train, test) in draws:
                outcomes = outcomes_for(headlines, "proxy", cfg, np.random.default_rng(rng_seed),
                                        measurement_error=error)
                fitted = fit_rewards(features, outcomes, train, cfg, lam=lam, methods=("feature", "iv"))
                for method in per_seed:
                    per_seed[method].append(_held_out_corr(fitted["probes"][method], features, s, test))
            difference = np.subtract(per_seed["iv"], per_seed["feature"])
            cells["feature"][i, j], cells["iv"][i, j] = np.mean(per_seed["feature"]), np.mean(per_seed["iv"])
            cells["difference"][i, j] = difference.mean()
            cells["low"][i, j], cells["high"][i, j] = seed_interval(difference)
    return {"lambda": list(cfg.map_lambdas), "measurement_error": list(cfg.map_measurement_error),
            **{key: value.tolist() for key, value in cells.items()}}


def prepare(cfg: Config, work_dir: Path) -> dict:
    """Headlines, sentiment, embeddings, outcomes per setting and fitted reward probes (JSON-ready)."""
    from dclm.models.embed import embed_texts
    from dclm.models.sentiment import sentiment

    unknown = sorted(set(cfg.settings) - set(SETTINGS))
    if unknown:
        raise ValueError(f"settings: unknown {unknown}; valid settings are {list(SETTINGS)}")
    headlines = load_headlines(cfg, work_dir)
    headlines["sentiment"] = sentiment(headlines["title"].tolist(), cfg.sentiment_model, device=cfg.device)
    features = embed_texts(headlines["title"].tolist(), model_id=cfg.embed_model_id, device=cfg.device)
    train, test = split_by_story(headlines["title"], headlines["team"], np.random.default_rng(cfg.seed),
                                 cfg.test_share)
    s = headlines["sentiment"].to_numpy()
    settings = {}
    for setting in cfg.settings:
        # The same generator state in every setting: same regions, team popularity and noise.
        outcomes = outcomes_for(headlines, setting, cfg, np.random.default_rng(cfg.seed))
        fitted = fit_rewards(features, outcomes, train, cfg, methods=cfg.methods)
        fitted["reward_sentiment_corr"] = {m: _held_out_corr(fitted["probes"][m], features, s, test)
                                           for m in cfg.methods}
        team_pop = outcomes.loc[outcomes["team"] != ""].groupby("team")["team_popularity"].first()
        fitted["top_team"] = str(team_pop.idxmax())
        fitted["corr_p_s"] = float(np.corrcoef(outcomes["popularity"], s)[0, 1])
        # Independence leaves a trace: Z should be uncorrelated with s(T) among team headlines.
        sports = (outcomes["team"] != "").to_numpy()
        fitted["corr_z_s"] = float(np.corrcoef(outcomes["instrument"].to_numpy()[sports], s[sports])[0, 1])
        fitted["corr_y_s"] = float(np.corrcoef(outcomes["outcome"], s)[0, 1])
        settings[setting] = fitted
    titles = headlines["title"]
    return {
        "titles": titles.tolist(), "teams": sorted({t for t in headlines["team"] if t}),
        "train": train.tolist(), "test": test.tolist(), "settings": settings,
        "split": {"train_rows": len(train), "test_rows": len(test),
                  "train_titles": int(titles.iloc[train].nunique()), "test_titles": int(titles.iloc[test].nunique()),
                  "shared_titles": len(set(titles.iloc[train]) & set(titles.iloc[test]))},
        "beta_sweep": beta_sweep(features, headlines, train, test, cfg),
        "reward_replicates": reward_replicates(features, headlines, cfg),
        "lambda_sweep": lambda_sweep(features, headlines, train, test, cfg),
        "map": advantage_map(features, headlines, cfg),
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
    prepared = json.loads((Path(work_dir) / "prepared.json").read_text())
    stored = prepared["settings"][setting]["probes"][method]
    done = _rl_root(work_dir, stored, k) / "generations.json"
    if done.exists():
        return json.loads(done.read_text())
    root = done.parent
    probe = Probe.from_stored(stored)
    seen: dict[str, float] = {}

    def reward(texts: list[str]) -> list[float]:
        new = [t for t in dict.fromkeys(texts) if t not in seen]
        if new:
            scores = probe.score(embed_texts(new, model_id=cfg.embed_model_id, use_cache=False,
                                             show_progress=False, device=cfg.device))
            # Standardised on the training headlines: every reward meets the KL penalty on one scale.
            scores = (scores - stored["score_mean"]) / stored["score_sd"]
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


def _rl_root(work_dir, stored: dict, k: int) -> Path:
    """One folder per distinct reward model and RL seed: identical rewards share their run."""
    return Path(work_dir) / "rl" / stored["id"] / f"seed_{k}"


def _config(cfg_dict: dict) -> Config:
    tuples = ("beta_sweep", "settings", "methods", "lambda_grid", "map_lambdas", "map_measurement_error")
    return Config(**{k: tuple(v) if k in tuples else v for k, v in cfg_dict.items()})


def launch_rl_job(cfg_dict: dict, setting: str, method: str, k: int, work_dir: str, sft_path: str) -> dict:
    """:func:`rl_job` under ``accelerate launch`` with ``num_processes`` processes."""
    import subprocess
    import sys

    from dclm.env import launch_processes

    cfg = _config(cfg_dict)
    prepared = json.loads((Path(work_dir) / "prepared.json").read_text())
    done = _rl_root(work_dir, prepared["settings"][setting]["probes"][method], k) / "generations.json"
    # At most one process per GPU: two on one GPU would ask rank 1 for cuda:1.
    processes = launch_processes(cfg.num_processes, cfg.device)
    if not done.exists():
        cfg_path = Path(work_dir) / "config.json"
        write_json_atomic(cfg_path, cfg_dict)
        # accelerate 1.15's `--cpu` flag picks its single-process launcher whatever
        # --num_processes says; `--multi_gpu` starts torchrun, and the trainer's use_cpu (CPU
        # profiles) makes each process join a gloo group on the CPU instead.
        command = [*dies_with_parent([sys.executable]), "-m", "accelerate.commands.launch", "--num_processes", str(processes),
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

    def score(self, per_seed: list[list[str]], top_team: str) -> dict:
        """Each of :data:`RL_METRICS` per seed (``<metric>_per_seed``) and its mean over seeds.

        ``sentiment_fluent`` is the mean sentiment of a seed's fluent generations (NaN when it
        has none; the mean skips those seeds).
        """
        from dclm.models.sentiment import sentiment

        top = re.compile(r"\b" + re.escape(top_team) + r"\b")
        per_metric: dict[str, list[float]] = {key: [] for key in RL_METRICS}
        for texts in per_seed:
            nll = self._nll(self.model, self.tokenizer, PROMPT, [" " + t for t in texts])
            fluent = nll < self.threshold
            scores = np.asarray(sentiment(texts, self.cfg.sentiment_model, device=self.cfg.device))
            per_metric["sentiment"].append(float(scores.mean()))
            per_metric["sentiment_fluent"].append(float(scores[fluent].mean()) if fluent.any() else float("nan"))
            per_metric["team_rate"].append(float(np.mean([bool(self.teams.search(t)) for t in texts])))
            per_metric["top_team_rate"].append(float(np.mean([bool(top.search(t)) for t in texts])))
            per_metric["valid_rate"].append(float(fluent.mean()))
        row = {key: float(np.nanmean(values)) if not np.isnan(values).all() else float("nan")
               for key, values in per_metric.items()}
        row.update({f"{key}_per_seed": values for key, values in per_metric.items()})
        return row


def run(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    from dclm import env
    from dclm.env import progress
    from dclm.stats import seed_interval

    work_dir = Path(work_dir)
    prepared_path = work_dir / "prepared.json"
    if not prepared_path.exists():
        write_json_atomic(prepared_path, prepare(cfg, work_dir))
    prepared = json.loads(prepared_path.read_text())
    sft_path = _sft(cfg, work_dir, prepared)
    # One RL run per distinct reward model and seed, started from its first (setting, method).
    owners: dict[tuple[str, int], tuple[str, str, int]] = {}
    for k in range(cfg.training_seeds):
        for setting in cfg.settings:
            for method in cfg.methods:
                owners.setdefault((prepared["settings"][setting]["probes"][method]["id"], k), (setting, method, k))
    jobs = list(owners.values())
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
        with worker_pool(pool_kwargs["max_workers"], pool_kwargs.get("initializer"), pool_kwargs.get("initargs", ())) as pool:
            futures = [pool.submit(rl_job, cfg_dict, *job, str(work_dir), str(sft_path)) for job in jobs]
            outputs = [f.result() for f in progress(futures, desc="RL runs")]
    by_reward = {(prepared["settings"][j[0]]["probes"][j[1]]["id"], j[2]): out
                 for j, out in zip(jobs, outputs, strict=True)}
    scorer = GenerationScorer(prepared, sft_path, cfg)
    replicates = prepared["reward_replicates"]
    results: dict = {}
    se: dict = {}
    ci: dict = {}
    examples: dict = {}
    for setting in cfg.settings:
        fitted = prepared["settings"][setting]
        for method in cfg.methods:
            reward_id = fitted["probes"][method]["id"]
            per_seed = [by_reward[(reward_id, k)]["generations"] for k in range(cfg.training_seeds)]
            row = scorer.score(per_seed, fitted["top_team"])
            row["reward_sentiment_corr"] = fitted["reward_sentiment_corr"][method]
            row["reward_sentiment_corr_per_replicate"] = replicates[setting][method]
            row["rl_run"] = reward_id
            results.setdefault(setting, {})[method] = row
            se.setdefault(setting, {})[method] = {
                "sentiment": float(np.std(row["sentiment_per_seed"], ddof=1) / np.sqrt(cfg.training_seeds))
                if cfg.training_seeds > 1 else float("nan")}
            ci.setdefault(setting, {})[method] = {
                **{key: list(seed_interval(row[f"{key}_per_seed"])) for key in RL_METRICS},
                "reward_sentiment_corr": list(seed_interval(replicates[setting][method]))}
            examples[f"{setting}.{method}"] = per_seed[0][:6]
    sft_generations = sample(sft_path, cfg, 1000 * cfg.seed)
    top_team = prepared["settings"][cfg.settings[0]]["top_team"]
    sft_row = scorer.score([sft_generations], top_team)
    settings_with = list(cfg.settings)
    metrics = {
        "results": results, "se": se, "ci": ci, "n_seeds": cfg.training_seeds,
        "n_rl_runs": len(jobs), "failure_settings": [s for s in FAILURE_SETTINGS if s in cfg.settings],
        "reward_replicates": cfg.reward_replicates,
        "sft": {key: sft_row[key] for key in RL_METRICS},
        "beta_iv": {s: prepared["settings"][s]["beta_iv"] for s in settings_with},
        "beta_iv_se": {s: prepared["settings"][s]["beta_iv_se"] for s in settings_with},
        "first_stage_f": {s: prepared["settings"][s]["first_stage_f"] for s in settings_with},
        "n_clusters": prepared["settings"][settings_with[0]]["n_clusters"],
        # Regions and team popularity are the same in every setting: one top team.
        "top_team": top_team,
        "corr_p_s": {s: prepared["settings"][s]["corr_p_s"] for s in settings_with},
        "corr_z_s": {s: prepared["settings"][s]["corr_z_s"] for s in settings_with},
        "corr_y_s": {s: prepared["settings"][s]["corr_y_s"] for s in settings_with},
        "world_size": max(o.get("world_size", 1) for o in outputs),
        "nll_threshold": scorer.threshold,
        "n_headlines": len(prepared["titles"]), "n_teams": len(prepared["teams"]),
        "split": prepared["split"],
        "data_sentiment": prepared["data_sentiment"], "data_team_rate": prepared["data_team_rate"],
        "beta_sweep": prepared["beta_sweep"], "lambda_sweep": prepared["lambda_sweep"], "map": prepared["map"],
    }
    examples["sft"] = sft_generations[:6]
    return {"metrics": metrics, "data": {"examples": examples}, "world_size": metrics["world_size"]}


def claims(metrics: dict) -> dict:
    """The chapter's comparative sentences (:class:`dclm.claims.Claim`), computed from the run."""
    from dclm.claims import Claim, greater
    from dclm.stats import seed_interval

    res = metrics["results"]

    def per_seed(setting, method, key="sentiment"):
        return res[setting][method][f"{key}_per_seed"]

    def per_replicate(setting, method):
        return res[setting][method]["reward_sentiment_corr_per_replicate"]

    out = {}
    for setting in metrics["failure_settings"]:
        out[f"corr_iv_over_feature_{setting}"] = greater(
            per_replicate(setting, "iv"), per_replicate(setting, "feature"), "the IV reward",
            "the confounder-as-feature reward", "held-out correlation with s(T)", unit="data draws")
        out[f"sentiment_iv_over_feature_{setting}"] = greater(
            per_seed(setting, "iv"), per_seed(setting, "feature"), "the IV policy", "the confounder-as-feature policy",
            "mean sentiment", paired=False, unit="RL seeds")
    for setting in ("orthogonal", "entangled"):
        out[f"corr_iv_vs_feature_{setting}"] = greater(
            per_replicate(setting, "iv"), per_replicate(setting, "feature"), "the IV reward",
            "the confounder-as-feature reward", "held-out correlation with s(T)", unit="data draws")
        out[f"sentiment_iv_over_naive_{setting}"] = greater(
            per_seed(setting, "iv"), per_seed(setting, "naive"), "the IV policy", "the naive policy", "mean sentiment",
            paired=False, unit="RL seeds")
    out["top_team_naive_over_iv_orthogonal"] = greater(
        per_seed("orthogonal", "naive", "top_team_rate"), per_seed("orthogonal", "iv", "top_team_rate"),
        "the naive policy", "the IV policy", "share of headlines naming the top team", paired=False,
        unit="RL seeds")
    amap = metrics.get("map")
    if amap:
        high, diff = np.asarray(amap["high"]), np.asarray(amap["difference"])
        favour = [f"lambda = {lam:g} with logging error {error:g}"
                  for i, error in enumerate(amap["measurement_error"]) for j, lam in enumerate(amap["lambda"])
                  if high[i, j] < 0]
        i, j = np.unravel_index(np.argmin(diff), diff.shape)
        smallest = (f"the gap is smallest ({diff[i, j]:+.2f}) at lambda = {amap['lambda'][j]:g} with logging "
                    f"error {amap['measurement_error'][i]:g}")
        out["map_reading"] = Claim(not favour, (
            f"no cell favours the confounder-as-feature reward; {smallest}" if not favour else
            f"the confounder-as-feature reward is significantly better at {'; '.join(favour)}; {smallest}"))
    naive = per_replicate("entangled", "naive")
    low, high = seed_interval(naive)
    verdict = "negative" if high < 0 else ("positive" if low > 0 else "not distinguishable from 0")
    out["naive_reward_negative_entangled"] = Claim(
        high < 0, f"the naive reward's held-out correlation with s(T) is {float(np.mean(naive)):.2f}, {verdict} "
                  f"(95% interval {low:+.2f} to {high:+.2f} over {len(naive)} data draws)")
    return out


# ----------------------------------------------------------------------------- figures

def figures(result) -> dict:
    """``lesson`` (generation sentiment by method and setting, seeds as dots), ``teams``,
    ``correlation``, ``lambda_sweep``, ``reward_scale``, ``map``, ``beta_sweep``, ``dag`` and
    ``pipeline``."""
    from dclm import viz

    m = result.metrics
    res = m["results"]
    settings = [name for name in SETTINGS if name in res]
    methods = [name for name in METHODS if name in res[settings[0]]]
    colors = {METHOD_LABELS[method]: method for method in methods}
    sweep, lam, amap = m["beta_sweep"], m["lambda_sweep"], m["map"]
    figs = {}
    if amap:
        significant = (np.asarray(amap["low"]) > 0) | (np.asarray(amap["high"]) < 0)
        figs["map"] = viz.advantage_map(
            amap["lambda"], amap["measurement_error"], np.asarray(amap["difference"]), significant,
            xlabel="ridge penalty lambda of both reward probes",
            ylabel="SD of the logging error of popularity",
            title="IV minus confounder-as-feature: held-out corr(reward, s(T))",
            colorbar_label="difference in correlation (* 95% interval excludes 0)")
    return figs | {
        "lesson": viz.seed_bars(
            {METHOD_LABELS[method]: {setting: res[setting][method]["sentiment_per_seed"] for setting in settings}
             for method in methods},
            ylabel="mean sentiment of generations (VADER, -1 to 1)",
            title=f"Sentiment of RL policies per reward model, {m['n_seeds']} RL seeds (dots)", colors=colors),
        "teams": viz.grouped_rates(
            {METHOD_LABELS[method]: {f"{setting}: any team": (res[setting][method]["team_rate"], None)
                                     for setting in settings}
             | {f"{setting}: top team": (res[setting][method]["top_team_rate"], None) for setting in settings}
             for method in methods},
            None, ylabel="share of generations", title="Team names in the policies' headlines",
            colors=colors),
        "correlation": viz.seed_bars(
            {METHOD_LABELS[method]: {setting: res[setting][method]["reward_sentiment_corr_per_replicate"]
                                     for setting in settings} for method in methods},
            ylabel="corr(reward, s(T)) on held-out stories",
            title=f"Reward models' correlation with s(T), {m['reward_replicates']} data draws (dots)",
            colors=colors),
        "lambda_sweep": viz.lines(
            lam["lambda"], {f"{method}": lam["proxy" if "proxy" in lam else settings[-1]][f"{method}_corr"]
                            for method in ("feature", "iv")},
            labels={"feature": "confounder as feature", "iv": "DeconfoundLM-IV"},
            xlabel="ridge penalty lambda (log scale)", ylabel="held-out corr(reward, s(T))",
            title=f"Held-out correlation by ridge penalty, {'proxy' if 'proxy' in lam else settings[-1]} setting",
            logx=True),
        "reward_scale": viz.lines(
            lam["lambda"], {method: lam["entangled" if "entangled" in lam else settings[0]][f"{method}_score_sd"]
                            for method in ("feature", "iv")},
            labels={"feature": "confounder as feature", "iv": "DeconfoundLM-IV"},
            xlabel="ridge penalty lambda (log scale)", ylabel="SD of the reward on training headlines",
            title="Reward scale by ridge penalty (before standardising)", logx=True),
        "beta_sweep": viz.lines(
            sweep["beta"], {"naive": sweep["corr_naive"], "iv": sweep["corr_iv"], "truth": sweep["corr_y"]},
            labels={"naive": "naive reward", "iv": "DeconfoundLM-IV reward", "truth": "outcome y itself"},
            xlabel="beta: outcome units per SD of popularity (log scale; 0 at the left)",
            ylabel="correlation with s(T)", title="Entangled setting: correlation with s(T) by beta",
            logx=True),
        "dag": viz.news_dag(proxy=True),
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
    parser.add_argument("--setting", required=True, choices=SETTINGS)  # with --method: which reward
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--sft", required=True)
    args = parser.parse_args()
    rl_job(json.loads(Path(args.config).read_text()), args.setting, args.method, args.k, args.work_dir, args.sft)


if __name__ == "__main__":
    _main()
