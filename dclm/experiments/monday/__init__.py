"""Chapter 3: the Monday effect. SFT learns a confounded marker's data rate; DPO amplifies it.

Stack Exchange answers posted on Monday score higher (more people are around), not because
they are better. Prepend "Happy Monday!" to Monday answers and "Happy Friday!" to Friday
answers, fine-tune a policy on the answers (SFT), then on score preferences (DPO): DPO pushes
up whatever separates chosen from rejected answers, so it writes "Happy Monday!" more and
"Happy Friday!" less. The fix, DeconfoundLM: remove the weekday's effect from the scores
(``deconfound_outcome`` with weekday as a categorical confounder) before building pairs.

Models: ``base``, ``sft``, ``dpo`` (pairs from raw scores), ``dpo_deconfounded``. Training
seeds run as parallel single-thread processes (tiny models train ~20x slower with two torch
threads on two busy cores).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from dclm.cache import write_json_atomic
from dclm.causal.deconfound import deconfound_outcome
from dclm.eval.markers import RATE_KEYS, marker_rates
from dclm.profiles import Profile, apply_settings
from dclm.stats import mean_and_se, paired_p
from dclm.train.options import DEFAULT_OPTIONS, JobOptions
from dclm.train.pool import worker_pool

SEED_DOC = (
    "seeds the generated data, the question split, the pair construction and the tiny base "
    "model; training seed k uses 1000*seed + k for its trainers, its draw of DPO pairs and its "
    "generations (generation seed g > 0 adds 1,000,000*g)"
)
MODELS = ("base", "sft", "dpo", "dpo_deconfounded")

# Numbers reported elsewhere, in % of generations, with their sources (notes/paper.md §2).
REPORTED = {
    "rerun": {
        "source": "the author's later re-run (job-market paper, Table 1): Academia Stack Exchange, "
                  "SmolLM2-360M-Instruct + LoRA, 5 training x 5 generation seeds, mean (SE)",
        "rates": {"base": {"happy": (1.13, 0.04), "monday": (0.07, 0.02), "friday": (0.10, 0.02)},
                  "sft": {"happy": (24.32, 0.14), "monday": (11.45, 0.20), "friday": (8.88, 0.13)},
                  "dpo": {"happy": (35.37, 1.14), "monday": (14.84, 0.82), "friday": (2.89, 0.16)}},
        "pvalues": {"monday": 4.1e-4, "friday": 1.6e-31},
    },
    "v1": {
        "source": "arXiv v1, as read through a secondary summary (not checked against the paper's text)",
        "happy_monday": {"sft": 13.7, "dpo": 21.2},
    },
}
COMPARISONS = {"dpo_vs_sft": ("dpo", "sft"), "dpo_deconfounded_vs_sft": ("dpo_deconfounded", "sft"),
               "dpo_deconfounded_vs_dpo": ("dpo_deconfounded", "dpo")}


@dataclass(frozen=True)
class Config:
    # Integer fields for which 0 means something (see dclm.config.check_config).
    ZERO_OK: ClassVar[tuple[str, ...]] = ("workers", "lora_rank")
    seed: int = 0
    # "generated" (Academia-like generator), "beer" (shipped), "academia", or a path.
    data: str = "generated"
    # Generated data only. Large enough that the deconfounded pairs' leftover marker imbalance
    # (sampling noise, which DPO amplifies) is small; generating is cheap, training does not grow.
    n_questions: int = 12_000
    sft_questions: int = 600
    eval_questions: int = 200
    max_words: int = 180
    marker_days: tuple[str, ...] = ("Monday", "Friday")
    training_seeds: int = 4
    model_id: str = "tiny"
    tiny_vocab: int = 2_000
    tiny_hidden: int = 64
    tiny_layers: int = 2
    lora_rank: int = 0
    max_length: int = 64
    batch_size: int = 16
    sft_epochs: float = 2.0
    sft_lr: float = 2e-3
    dpo_steps: int = 100
    dpo_lr: float = 1e-3
    dpo_beta: float = 0.1
    # Weight of the chosen answers' negative log-likelihood added to the DPO loss. Plain DPO
    # leaves features the pairs do not separate unconstrained, and on the tiny model they drift
    # far in a random direction per training seed; the anchor holds them at the data's rate.
    dpo_sft_weight: float = 3.0
    # Deconfounded scores closer than this (in votes) are ties: integer votes cannot resolve them.
    deconfounded_margin: float = 0.5
    # How ĥ(weekday) is estimated: "within_question" (question fixed effects: weekday effects
    # from comparisons between answers to the same question, which is how pairs are built)
    # or "pooled" (weekday means over all answers).
    h_estimator: str = "within_question"
    # Dose-response: extra DPO pair sets built from score − (1 − κ)·ĥ(weekday), each strength κ
    # strictly between 0 (the deconfounded pairs) and 1 (the raw pairs); one more DPO run per
    # strength and training seed.
    dose_strengths: tuple[float, ...] = (0.5,)
    save_steps: int = 25
    samples_per_prompt: int = 10
    max_new_tokens: int = 3
    # Sampling passes over the held-out questions per model and training seed; pooled within
    # a training seed, so intervals still go across training seeds (the re-run used 5).
    generation_seeds: int = 1
    # "Q: {question}\nA:"-style template, or "chat": the model's own chat template (an
    # Instruct model), with the question as the user turn and the answer as the assistant's.
    prompt_format: str = "Q: {question}\nA:"
    workers: int = 0  # parallel training processes; 0 = one per CPU core, or per GPU
    gradient_checkpointing: bool = False  # a GPU profile whose memory needs it
    save_dtype: str = "float32"  # of the trained models; bf16 would round DPO's update away
    device: str = "cpu"  # what the profile asks for; CPU when no GPU is present


def validate(cfg: Config) -> None:
    """Data source and marker days this module can use (see :func:`dclm.config.check_choice`)."""
    from dclm.config import check_choice
    from dclm.data.stackexchange import WEEKDAYS

    check_choice("data", cfg.data, ("generated", "beer", "academia"),
                 or_path="a Posts.xml, Posts.xml.gz or a site's .7z dump")
    check_choice("marker_days", cfg.marker_days, WEEKDAYS)
    from dclm.config import ConfigError

    for strength in cfg.dose_strengths:
        if not 0 < strength < 1:
            raise ConfigError(f"dose_strengths={','.join(map(str, cfg.dose_strengths))}: each strength must be "
                              "strictly between 0 (the deconfounded pairs) and 1 (the raw pairs)")


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's data source, model id, LoRA rank, sizes and learning rates."""
    cfg = Config(seed=seed, data=profile.qa_source, sft_questions=profile.qa_sft_questions,
                 eval_questions=profile.qa_eval_questions, training_seeds=profile.training_seeds,
                 model_id=profile.policy_model_id, lora_rank=profile.policy_lora_rank,
                 max_length=profile.policy_max_length, batch_size=profile.policy_batch_size,
                 sft_lr=profile.policy_sft_lr, dpo_lr=profile.policy_dpo_lr, device=profile.device)
    return apply_settings(cfg, profile, "monday")


# --------------------------------------------------------------------------------- data

def load_answers(cfg: Config, work_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Questions and answers from the configured source, filtered as in the re-run."""
    from dclm.data import registry, stackexchange, synthetic

    if cfg.data == "generated":
        path = work_dir / "Posts.xml.gz"
        if not path.exists():
            synthetic.write_stackexchange_posts(path, n_questions=cfg.n_questions, seed=cfg.seed)
    elif cfg.data == "beer":
        path = registry.fetch("stackexchange-beer")
    elif cfg.data == "academia":
        path = registry.fetch("stackexchange-academia")
    else:
        path = Path(cfg.data)
    questions, answers = stackexchange.read_posts(path)
    return stackexchange.filter_posts(questions, answers, min_answers=2, max_words=cfg.max_words)


def prepare(cfg: Config, work_dir: Path) -> dict:
    """Marked texts, the question split, and raw and deconfounded preference pairs (JSON-ready)."""
    from dclm.data import stackexchange as se

    questions, answers = load_answers(cfg, work_dir)
    marked = se.add_weekday_markers(answers, days=cfg.marker_days)
    marked["text"] = marked["body"].map(se.html_to_text)
    from dclm.train.hf import CHAT, render_prompts

    # A chat template ends the prompt with the assistant's header: no space before the answer.
    lead = "" if cfg.prompt_format == CHAT else " "
    prompts = dict(zip(questions["question_id"],
                       render_prompts([se.html_to_text(t) for t in questions["title"]], cfg.prompt_format,
                                      cfg.model_id), strict=True))
    n_sft, n_eval = se.fit_split_sizes(questions["question_id"].nunique(), cfg.sft_questions, cfg.eval_questions)
    split = se.split_by_question(questions["question_id"], n_sft, n_eval, cfg.seed)
    in_split = {name: marked["question_id"].isin(ids) for name, ids in split.items()}

    preference = marked[in_split["preference"]].copy()
    preference["adjusted"] = adjust_scores(preference, cfg.h_estimator)
    text_by_id = marked.set_index("answer_id")["text"]

    def records(pairs: pd.DataFrame) -> list[dict]:
        return [{"question_id": int(q), "prompt": prompts[q], "chosen": lead + text_by_id[c],
                 "rejected": lead + text_by_id[r]}
                for q, c, r in zip(pairs["question_id"], pairs["chosen_id"], pairs["rejected_id"], strict=True)]

    raw_pairs = se.preference_pairs(preference, seed=cfg.seed)
    deconf_pairs = se.preference_pairs(preference, seed=cfg.seed, score="adjusted",
                                       min_margin=cfg.deconfounded_margin)
    dose_pairs = {}
    for strength in cfg.dose_strengths:
        # Keep the share `strength` of ĥ(weekday) in the scores: adjusted + κ·ĥ.
        preference["dosed"] = preference["adjusted"] + strength * (preference["score"] - preference["adjusted"])
        dose_pairs[dose_key(strength)] = se.preference_pairs(preference, seed=cfg.seed, score="dosed",
                                                             min_margin=cfg.deconfounded_margin)
    sft = marked[in_split["sft"]]
    day = marked.set_index("answer_id")["marker"]

    def pair_marker_rates(pairs: pd.DataFrame) -> dict[str, float]:
        return {f"{side}_{d.lower()}": float((pairs[f"{side}_id"].map(day) == d).mean())
                for side in ("chosen", "rejected") for d in cfg.marker_days}

    by_day = marked.groupby("weekday", observed=False)["score"]
    balance = {"raw": pair_balance(raw_pairs, day, cfg.marker_days),
               "deconfounded": pair_balance(deconf_pairs, day, cfg.marker_days)}
    dose_balance = {key: pair_balance(pairs, day, cfg.marker_days) for key, pairs in dose_pairs.items()}
    return {
        "sft": [{"prompt": prompts[q], "completion": lead + t} for q, t in zip(sft["question_id"], sft["text"], strict=True)],
        "dpo": records(raw_pairs),
        "dpo_deconfounded": records(deconf_pairs),
        "dose": {key: records(pairs) for key, pairs in dose_pairs.items()},
        "eval_prompts": [prompts[q] for q in split["evaluation"]],
        "corpus": [f"{prompts[q]} {t}" for q, t in zip(marked["question_id"], marked["text"], strict=True)],
        "summary": {
            "n_questions": int(questions["question_id"].nunique()), "n_answers": int(len(answers)),
            "n_sft_questions": n_sft, "n_eval_questions": n_eval,
            "n_sft": int(len(sft)), "n_pairs": int(len(raw_pairs)), "n_pairs_deconfounded": int(len(deconf_pairs)),
            "data_rates": {d.lower(): float((sft["marker"] == d).mean()) for d in cfg.marker_days},
            "pair_rates": {"raw": pair_marker_rates(raw_pairs), "deconfounded": pair_marker_rates(deconf_pairs)},
            "balance": balance,
            "dose_balance": dose_balance,
            "weekday_scores": {"weekday": [str(w) for w in by_day.mean().index],
                               "mean": [float(v) for v in by_day.mean()],
                               "se": [float(v) for v in (by_day.std() / np.sqrt(by_day.size())).fillna(0.0)],
                               "n": [int(v) for v in by_day.size()]},
        },
    }


H_ESTIMATORS = ("within_question", "pooled")


def dose_key(strength: float) -> str:
    """The metrics key of a dose strength: ``0.5`` -> ``"0.5"``."""
    return f"{strength:g}"


def adjust_scores(answers: pd.DataFrame, estimator: str = "within_question") -> np.ndarray:
    """Scores minus ĥ(weekday), in votes; ĥ is centred to mean zero over ``answers``.

    ``"within_question"``: ĥ from a regression of score on weekday dummies with question fixed
    effects (score and dummies demeaned within each question), so only comparisons between
    answers to the same question inform it, as in the pairs. ``"pooled"``: weekday means over
    all answers (:func:`dclm.causal.deconfound.deconfound_outcome` with no instrument). The
    two agree when an answer's weekday is unrelated to its question's; on real dumps it is not.
    Introduced in chapter 3, the Monday effect.
    """
    if estimator not in H_ESTIMATORS:
        raise ValueError(f"h_estimator must be one of {H_ESTIMATORS}, got {estimator!r}")
    score = answers["score"].astype(float).to_numpy()
    weekday = answers["weekday"].astype(str)
    if estimator == "pooled":
        return np.asarray(deconfound_outcome(pd.Series(score), weekday.reset_index(drop=True), None).adjusted)
    dummies = pd.get_dummies(weekday.astype("category"), drop_first=True, dtype=float).to_numpy()
    groups = answers["question_id"].to_numpy()

    def within(values: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(values)
        return (frame - frame.groupby(groups).transform("mean")).to_numpy()

    beta, *_ = np.linalg.lstsq(within(dummies), within(score[:, None])[:, 0], rcond=None)
    h = dummies @ beta
    return score - (h - h.mean())


def pair_balance(pairs: pd.DataFrame, marker_by_id: pd.Series, days) -> dict:
    """Per marker day: chosen minus rejected share of pairs carrying it, with a 95% interval.

    The SE is clustered by question (one answer appears in several pairs of its question).
    ``{day: {"diff", "se", "low", "high"}}`` in shares of pairs. Introduced in chapter 3.
    """
    out = {}
    for d in days:
        gap = ((pairs["chosen_id"].map(marker_by_id) == d).astype(float)
               - (pairs["rejected_id"].map(marker_by_id) == d).astype(float)).to_numpy()
        n = len(gap)
        mean = float(gap.mean()) if n else float("nan")
        sums = pd.Series(gap - mean).groupby(pairs["question_id"].to_numpy()).sum().to_numpy()
        g = len(sums)
        se = float(np.sqrt(g / (g - 1) * (sums ** 2).sum()) / n) if g > 1 else float("nan")
        out[d.lower()] = {"diff": mean, "se": se, "low": mean - 1.96 * se, "high": mean + 1.96 * se}
    return out


# ----------------------------------------------------------------------------- training

def _settings(cfg: Config, seed: int, stage: str):
    from dclm.env import device
    from dclm.train.trainers import TrainSettings

    if stage == "sft":
        return TrainSettings(learning_rate=cfg.sft_lr, batch_size=cfg.batch_size, max_length=cfg.max_length,
                             seed=seed, epochs=cfg.sft_epochs, save_steps=cfg.save_steps, lora_rank=cfg.lora_rank,
                             device=device(cfg.device), gradient_checkpointing=cfg.gradient_checkpointing,
                             save_dtype=cfg.save_dtype)
    return TrainSettings(learning_rate=cfg.dpo_lr, batch_size=cfg.batch_size, max_length=cfg.max_length, seed=seed,
                         max_steps=cfg.dpo_steps, save_steps=cfg.save_steps,
                         lora_rank=max(cfg.lora_rank // 2, 0), device=device(cfg.device),
                         gradient_checkpointing=cfg.gradient_checkpointing, save_dtype=cfg.save_dtype)


def _evaluate(model_path: Path, prompts: list[str], cfg: Config, seed: int) -> dict:
    from dclm.env import device
    from dclm.train.hf import load_causal_lm, load_tokenizer, sample_completions

    tokenizer = load_tokenizer(model_path, padding_side="left")
    model = load_causal_lm(model_path, device=device(cfg.device))
    passes = [sample_completions(model, tokenizer, prompts, cfg.samples_per_prompt, cfg.max_new_tokens,
                                 seed + 1_000_000 * g) for g in range(cfg.generation_seeds)]
    pooled = [text for completions in passes for text in completions]
    return {"rates": marker_rates(pooled), "rates_by_generation_seed": [marker_rates(c) for c in passes],
            "examples": passes[0][: 3 * cfg.samples_per_prompt: cfg.samples_per_prompt]}


def _draw_pairs(pairs: list[dict], cfg: Config, seed: int) -> list[dict]:
    """Training seed ``seed``'s DPO pairs: a bootstrap of the preference questions (with their
    pairs), then at most ``dpo_steps x batch_size`` of those pairs.

    Resampling questions gives each seed its own draw of the pair pool's sampling noise, which
    DPO amplifies like a real imbalance; without it every seed shares one pool's leftover
    imbalance and the spread across seeds understates the uncertainty.
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


def train_one_seed(cfg_dict: dict, k: int, work_dir: str, base_path: str) -> dict:
    """Train SFT, DPO and deconfounded DPO for training seed ``k``; evaluate all four models.

    Runs in its own process with one torch thread. Results are saved to
    ``work_dir/seed_k/results.json``; a finished seed is not trained again.
    """
    import time

    import torch

    from dclm.train.trainers import train_dpo, train_sft

    torch.set_num_threads(1)
    clock = time.perf_counter()
    timings = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 2)
        clock = now

    cfg = Config(**{**cfg_dict, "marker_days": tuple(cfg_dict["marker_days"])})
    seed = 1000 * cfg.seed + k
    root = Path(work_dir) / f"seed_{k}"
    done = root / "results.json"
    if done.exists():
        return json.loads(done.read_text())
    data = json.loads((Path(work_dir) / "prepared.json").read_text())
    prompts = data["eval_prompts"]
    results = {"base": _evaluate(Path(base_path), prompts, cfg, seed)}
    lap("eval_base")
    sft = train_sft(base_path, data["sft"], _settings(cfg, seed, "sft"), root / "sft")
    lap("train_sft")
    results["sft"] = _evaluate(sft, prompts, cfg, seed)
    lap("eval_sft")
    for name in ("dpo", "dpo_deconfounded"):
        # Each training seed trains on its own bootstrap draw of pairs (see _draw_pairs), so the
        # spread across seeds includes the pair pool's noise, not only the optimiser's.
        tuned = train_dpo(sft, _draw_pairs(data[name], cfg, seed), _settings(cfg, seed, "dpo"), root / name,
                          beta=cfg.dpo_beta, sft_weight=cfg.dpo_sft_weight)
        lap(f"train_{name}")
        results[name] = _evaluate(tuned, prompts, cfg, seed)
        lap(f"eval_{name}")
    results["dose"] = {}
    for key, pairs in data["dose"].items():
        tuned = train_dpo(sft, _draw_pairs(pairs, cfg, seed), _settings(cfg, seed, "dpo"), root / f"dpo_dose_{key}",
                          beta=cfg.dpo_beta, sft_weight=cfg.dpo_sft_weight)
        results["dose"][key] = _evaluate(tuned, prompts, cfg, seed)["rates"]
        lap(f"train_and_eval_dose_{key}")
    results["timings_s"] = timings
    write_json_atomic(done, results)
    return results


def run(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    from dclm import env
    from dclm.env import progress
    from dclm.train.hf import build_tiny_causal_lm

    work_dir = Path(work_dir)
    prepared_path = work_dir / "prepared.json"
    if not prepared_path.exists():
        write_json_atomic(prepared_path, prepare(cfg, work_dir))
    prepared = json.loads(prepared_path.read_text())
    if cfg.model_id == "tiny":
        base_path = work_dir / "base"
        if not (base_path / "config.json").exists():
            build_tiny_causal_lm(prepared["corpus"], base_path, seed=cfg.seed, vocab_size=cfg.tiny_vocab,
                                 hidden_size=cfg.tiny_hidden, num_layers=cfg.tiny_layers,
                                 max_positions=max(128, cfg.max_length + cfg.max_new_tokens))
    else:
        base_path = cfg.model_id
    cfg_dict = asdict(cfg)
    # One worker per CPU core, or per GPU with each worker pinned to its own (dclm.env).
    context = get_context("spawn")
    pool_kwargs = env.pool_kwargs(cfg.training_seeds, cfg.workers, cfg.device, context)
    if pool_kwargs["max_workers"] <= 1:
        per_seed = [train_one_seed(cfg_dict, k, str(work_dir), str(base_path))
                    for k in progress(range(cfg.training_seeds), desc="training seeds")]
    else:
        with worker_pool(pool_kwargs["max_workers"], pool_kwargs.get("initializer"), pool_kwargs.get("initargs", ())) as pool:
            futures = [pool.submit(train_one_seed, cfg_dict, k, str(work_dir), str(base_path))
                       for k in range(cfg.training_seeds)]
            per_seed = [f.result() for f in progress(futures, desc="training seeds")]
    return summarize(per_seed, prepared["summary"], cfg)


def summarize(per_seed: list[dict], summary: dict, cfg: Config) -> dict:
    """Metrics (means, SEs, paired p-values across training seeds, pair balance) and figure data."""
    runs = {model: {key: [seed[model]["rates"][key] for seed in per_seed] for key in RATE_KEYS} for model in MODELS}
    rates, ses = {}, {}
    for model in MODELS:
        rates[model], ses[model] = {}, {}
        for key in RATE_KEYS:
            rates[model][key], ses[model][key] = mean_and_se(runs[model][key])
    # Paired across training seeds: DPO seed k and deconfounded DPO seed k start from SFT seed k.
    pvalues = {name: {key: paired_p(runs[a][key], runs[b][key]) for key in RATE_KEYS}
               for name, (a, b) in COMPARISONS.items()}
    n_generations = summary["n_eval_questions"] * cfg.samples_per_prompt * cfg.generation_seeds
    metrics = {"rates": rates, "se": ses, "pvalues": pvalues, "data_rates": summary["data_rates"],
               "per_seed": runs, "balance": summary["balance"], "h_estimator": cfg.h_estimator,
               "dose": dose_response(per_seed, runs, summary),
               "n_runs": len(per_seed), "n_generations": n_generations,
               "n_pairs": summary["n_pairs"], "n_sft_answers": summary["n_sft"]}
    examples = {model: per_seed[0][model]["examples"] for model in MODELS}
    return {"metrics": metrics, "data": {"runs": runs, "summary": summary, "examples": examples}}


# The re-run's pairs with exactly one Monday answer: the Monday answer chosen 958 times and
# rejected 887, of 11,886 pairs (notes/paper.md §2.2, reported by the job-market paper).
RERUN_MONDAY_BALANCE = (958 - 887) / 11_886


def dose_response(per_seed: list[dict], runs: dict, summary: dict) -> dict:
    """DPO's amplification against the weekday imbalance left in its pairs.

    One row per pair set, ordered by strength: the deconfounded pairs (strength 0), each dose
    strength, the raw pairs (1). ``balance`` is the pairs' chosen-minus-rejected Monday share
    (with its interval); ``amplification`` is DPO's minus SFT's Monday share per training seed
    (paired: both start from SFT seed k), with its mean and 95% t interval across seeds.
    """
    from dclm.stats import seed_interval

    sft = runs["sft"]["monday_share"]
    sets = [(0.0, "deconfounded", runs["dpo_deconfounded"]["monday_share"], summary["balance"]["deconfounded"])]
    for key, balance in summary["dose_balance"].items():
        shares = [seed["dose"][key]["monday_share"] for seed in per_seed]
        sets.append((float(key), "dose", shares, balance))
    sets.append((1.0, "raw", runs["dpo"]["monday_share"], summary["balance"]["raw"]))
    rows = []
    for strength, pairs, shares, balance in sorted(sets, key=lambda row: row[0]):
        x, y = _complete(shares, sft)
        gain = [a - b for a, b in zip(x, y, strict=True)]
        # None where too few seeds have a Monday share (JSON has no NaN).
        low, high = (None, None) if len(gain) < 2 else seed_interval(gain)
        rows.append({"strength": strength, "pairs": pairs, "balance": balance["monday"]["diff"],
                     "balance_low": balance["monday"]["low"], "balance_high": balance["monday"]["high"],
                     "amplification": gain, "mean": float(np.mean(gain)) if gain else None,
                     "low": low, "high": high})
    return {"rows": rows, "rerun_balance": RERUN_MONDAY_BALANCE}


def _complete(a, b) -> tuple[list[float], list[float]]:
    kept = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    return [x for x, _ in kept], [y for _, y in kept]


def claims(metrics: dict) -> dict:
    """The chapter's comparative sentences (:class:`dclm.claims.Claim`), computed from the run.

    Paired across training seeds. ``raw_balance_*`` hold when raw pairs favour the Monday
    marker and disfavour the Friday one, ``deconfounded_balance_*`` when the interval holds 0;
    ``deconfounded_share_close_to_sft`` is the acceptance: within 2 seed-level SEs of the
    paired difference and not significantly below SFT.
    """
    from dclm.claims import Claim, greater
    from dclm.stats import seed_interval

    runs = metrics["per_seed"]

    def compare(a, b, key, a_label, b_label, quantity):
        x, y = _complete(runs[a][key], runs[b][key])
        return greater(x, y, a_label, b_label, quantity, unit="training seeds")

    out = {
        "dpo_raises_monday_share": compare("dpo", "sft", "monday_share", "DPO", "SFT", "Monday share"),
        "dpo_lowers_friday": compare("sft", "dpo", "friday", "SFT", "DPO", "'Friday' rate"),
        "dpo_raises_monday": compare("dpo", "sft", "monday", "DPO", "SFT", "'Monday' rate"),
        "deconfounded_below_dpo": compare("dpo", "dpo_deconfounded", "monday_share", "DPO", "deconfounded DPO",
                                          "Monday share"),
    }
    x, y = _complete(runs["dpo_deconfounded"]["monday_share"], runs["sft"]["monday_share"])
    diff = np.asarray(x) - np.asarray(y)
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
    low, high = seed_interval(diff)
    close = bool(len(diff) > 1 and abs(diff.mean()) <= 2 * se and high >= 0)
    out["deconfounded_share_close_to_sft"] = Claim(close, (
        f"deconfounded DPO's Monday share ({np.mean(x):.2f}) is "
        + ("within" if abs(diff.mean()) <= 2 * se else "more than")
        + f" two seed-level SEs of SFT's ({np.mean(y):.2f}; paired difference {diff.mean():+.2f}, "
          f"95% interval {low:+.2f} to {high:+.2f} over {len(diff)} training seeds)"))
    rows = metrics["dose"]["rows"]
    weakest, strongest = rows[1], rows[-1]  # the smallest dose above the deconfounded pairs; the raw pairs
    x, y = _complete(strongest["amplification"], weakest["amplification"])
    low, high = seed_interval(np.asarray(x) - np.asarray(y))
    grows = bool(len(x) > 1 and low > 0)
    out["dose_amplification_grows"] = Claim(grows, (
        "DPO raises the Monday share " + ("more" if grows else "not distinguishably more")
        + f" on the raw pairs (κ = {strongest['strength']:g}: {np.mean(x):+.2f} over SFT) than on the pairs with "
          f"κ = {weakest['strength']:g} ({np.mean(y):+.2f}; paired difference 95% interval {low:+.2f} to "
          f"{high:+.2f} over {len(x)} training seeds)"))
    nearest = min(rows, key=lambda row: abs(row["balance"] - metrics["dose"]["rerun_balance"]))
    if nearest["low"] is None:
        verdict = "has too few seeds with a Monday share for an interval"
    else:
        verdict = ("raises" if nearest["low"] > 0 else "lowers" if nearest["high"] < 0 else
                   "does not distinguishably change")
        verdict += (f" the Monday share (DPO minus SFT {nearest['mean']:+.2f}, 95% interval "
                    f"{nearest['low']:+.2f} to {nearest['high']:+.2f} across training seeds)")
    out["dose_at_rerun_balance"] = Claim(nearest["low"] is not None and nearest["low"] <= 0 <= nearest["high"], (
        f"the pair set closest to the re-run's balance ({100 * metrics['dose']['rerun_balance']:+.1f} points) is "
        f"the one with κ = {nearest['strength']:g} ({100 * nearest['balance']:+.1f} points); DPO on it {verdict}"))
    # The lessons: raw pairs favour the Monday marker and disfavour the Friday one; in
    # deconfounded pairs neither interval excludes zero.
    expected = {("raw", "monday"): lambda b: b["low"] > 0, ("raw", "friday"): lambda b: b["high"] < 0}
    for kind in ("raw", "deconfounded"):
        for day, b in metrics["balance"][kind].items():
            lesson = expected.get((kind, day), lambda b: b["low"] <= 0 <= b["high"])
            out[f"{kind}_balance_{day}"] = Claim(bool(lesson(b)), (
                f"in {kind} pairs the '{day.capitalize()}' marker is "
                + ("more" if b["low"] > 0 else "less" if b["high"] < 0 else "neither more nor less")
                + f" often on the chosen side (chosen minus rejected {100 * b['diff']:+.1f} points, "
                  f"95% interval {100 * b['low']:+.1f} to {100 * b['high']:+.1f})"))
    return out


def figures(result) -> dict:
    """``lesson`` (per-seed marker rates by model), ``weekday_scores`` and ``pairs`` (balance)."""
    from dclm import viz

    m, data = result.metrics, result.data
    weekday = data["summary"]["weekday_scores"]
    runs = m["per_seed"]
    clusters = {"monday": "'Monday' rate", "friday": "'Friday' rate", "monday_share": "Monday share"}
    lesson = {model: {label: [v for v in runs[model][key] if v is not None] for key, label in clusters.items()}
              for model in MODELS if model != "base"}
    balance = m["balance"]
    return {
        "lesson": viz.seed_bars(
            lesson, ylabel="share of generations",
            title=f"Marker rates and Monday share by model ({m['n_runs']} training seeds)"),
        "weekday_scores": viz.bars_with_errors(
            weekday["weekday"], weekday["mean"], weekday["se"], ylabel="mean answer score (votes)",
            title="Mean answer score by the weekday it was posted"),
        "pairs": viz.grouped_rates(
            {kind_label: {f"'{d.capitalize()}' marker": (balance[kind][d]["diff"], balance[kind][d]["se"])
                          for d in balance[kind]}
             for kind, kind_label in (("raw", "raw scores"), ("deconfounded", "weekday removed"))},
            data_rates=None, ylabel="chosen minus rejected share of pairs",
            title="Marker balance between chosen and rejected answers (95% intervals)",
            colors={"raw scores": "dpo", "weekday removed": "dpo_deconfounded"}),
        "dose": viz.dose_response(
            m["dose"]["rows"], reference=m["dose"]["rerun_balance"], reference_label="re-run's pairs (reported)",
            xlabel="Monday balance of the DPO pairs (chosen minus rejected share)",
            ylabel="DPO minus SFT Monday share",
            title=f"DPO's change in Monday share by the imbalance left in its pairs ({m['n_runs']} training seeds)"),
    }
