"""Chapter 3's data: marked Stack Exchange answers, ĥ(weekday) and the preference pairs built on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from dclm.cache import write_json_atomic
from dclm.causal.deconfound import deconfound_outcome
from dclm.experiments.monday.config import H_ESTIMATORS, Config


def load_answers(cfg: Config, work_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Questions and answers (two DataFrames) from ``cfg.data``, filtered as in the re-run.

    Generated data is written to ``work_dir/Posts.xml.gz`` once. Introduced in chapter 3.
    """
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


def prepare_once(cfg: Config, work_dir: Path) -> dict:
    """:func:`prepare`'s output, computed once per work folder and kept in ``work_dir/prepared.json``."""
    path = work_dir / "prepared.json"
    if not path.exists():
        write_json_atomic(path, prepare(cfg, work_dir))
    return json.loads(path.read_text())


def prepare(cfg: Config, work_dir: Path) -> dict:
    """Everything training needs, JSON-ready: the SFT records, the raw, deconfounded and dosed
    preference pairs, the held-out prompts, the tiny tokenizer's corpus and a ``summary`` (sizes,
    marker rates, pair balance, mean score by weekday). Introduced in chapter 3.
    """
    from dclm.data import stackexchange as se
    from dclm.train.hf import CHAT, render_prompts

    questions, answers = load_answers(cfg, work_dir)
    marked = se.add_weekday_markers(answers, days=cfg.marker_days)
    marked["text"] = marked["body"].map(se.html_to_text)

    # A chat template ends the prompt with the assistant's header: no space before the answer.
    lead = "" if cfg.prompt_format == CHAT else " "
    prompts = dict(zip(questions["question_id"],
                       render_prompts([se.html_to_text(t) for t in questions["title"]], cfg.prompt_format,
                                      cfg.policy_model_id), strict=True))
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
    dose_pairs = dosed_pairs(raw_pairs, deconf_pairs, cfg.dose_strengths, cfg.seed)
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


def dosed_pairs(raw: pd.DataFrame, deconfounded: pd.DataFrame, strengths, seed: int) -> dict[str, pd.DataFrame]:
    """Pair sets between the deconfounded (κ = 0) and the raw pairs (κ = 1), by dose key.

    In a share κ of the preference questions the pairs come from raw scores, in the rest from
    deconfounded scores, so the pairs' marker imbalance moves in proportion to κ, from the
    deconfounded set's to the raw set's. (Leaving κ·ĥ in the scores instead moves nothing below
    κ ≈ 0.25: whole votes and the half-vote tie margin absorb small shifts.) The questions are
    taken in one random order of ``seed``, so a larger κ keeps a smaller κ's raw questions.
    """
    questions = np.union1d(raw["question_id"].unique(), deconfounded["question_id"].unique())
    order = np.random.default_rng(seed).permutation(questions)
    out = {}
    for strength in strengths:
        raw_questions = order[: round(strength * len(order))]
        out[dose_key(strength)] = pd.concat([raw[raw["question_id"].isin(raw_questions)],
                                             deconfounded[~deconfounded["question_id"].isin(raw_questions)]],
                                            ignore_index=True)
    return out


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

