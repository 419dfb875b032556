"""Chapter 3's summaries: marker rates across training seeds, paired tests and the dose-response."""

from __future__ import annotations

import numpy as np

from dclm.eval.markers import RATE_KEYS
from dclm.experiments.monday.arms import headline_arms, trained_arms
from dclm.experiments.monday.config import MODELS, Config
from dclm.stats import mean_and_se, paired_p, seed_interval, tost_paired

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


def summarize(per_seed: list[dict], summary: dict, cfg: Config) -> dict:
    """``{"metrics", "data"}`` of a run from its training seeds' results (:func:`train_one_seed`).

    Metrics: mean marker rates (shares of generations) and their SEs across training seeds for
    the four models and each trained arm, paired p-values of :data:`COMPARISONS` and of each arm
    against SFT, ``equivalence`` (a paired TOST of each model's Monday share against SFT's at
    ``equivalence_margin``), ``arms`` (which were trained, which are ``dpo`` and
    ``dpo_deconfounded``), the data's and the pairs' marker balance, the dose-response and sizes.
    Data: per-seed rates, the prepared summary and example answers.
    """
    arms = trained_arms(cfg)
    models = (*MODELS, *arms)
    runs = {model: {key: [seed[model]["rates"][key] for seed in per_seed] for key in RATE_KEYS} for model in models}
    rates, ses = {}, {}
    for model in models:
        rates[model], ses[model] = {}, {}
        for key in RATE_KEYS:
            rates[model][key], ses[model][key] = mean_and_se(runs[model][key])
    # Paired across training seeds: DPO seed k and deconfounded DPO seed k start from SFT seed k.
    comparisons = {**COMPARISONS, **{f"{name}_vs_sft": (name, "sft") for name in arms}}
    pvalues = {name: {key: paired_p(runs[a][key], runs[b][key]) for key in RATE_KEYS}
               for name, (a, b) in comparisons.items()}
    # Equivalence, not a failure to reject: does a model leave the Monday share where SFT had it?
    equivalence = {model: tost_paired(*paired_values(runs[model]["monday_share"], runs["sft"]["monday_share"]),
                                      margin=cfg.equivalence_margin)
                   for model in models if model not in ("base", "sft")}
    n_generations = summary["n_eval_questions"] * cfg.samples_per_prompt * cfg.generation_seeds
    metrics = {"rates": rates, "se": ses, "pvalues": pvalues, "data_rates": summary["data_rates"],
               "per_seed": runs, "balance": summary["balance"], "h_estimator": cfg.h_estimator,
               "dose": dose_response(per_seed, runs, summary), "equivalence": equivalence,
               "arms": {"trained": list(arms), **headline_arms(cfg)},
               "n_runs": len(per_seed), "n_generations": n_generations,
               "n_pairs": summary["n_pairs"], "n_sft_answers": summary["n_sft"],
               # What one DPO run sees: at most dpo_steps x batch_size pairs of its draw (draw_pairs).
               "dpo_pairs_per_run": min(cfg.dpo_steps * cfg.batch_size, summary["n_pairs"])}
    examples = {model: per_seed[0][model]["examples"] for model in MODELS}
    return {"metrics": metrics, "data": {"runs": runs, "summary": summary, "examples": examples}}


# The re-run's pairs with exactly one Monday answer: the Monday answer chosen 958 times and
# rejected 887, of 11,886 pairs (notes/paper.md §2.2, reported by the job-market paper).
RERUN_MONDAY_BALANCE = (958 - 887) / 11_886
# Its 95% half-width from those counts (our arithmetic; per-pair gaps of +1, -1 or 0, not
# clustered by question, so a lower bound on the real uncertainty).
RERUN_MONDAY_BALANCE_HALF_WIDTH = 1.96 * ((958 + 887) / 11_886 - RERUN_MONDAY_BALANCE**2) ** 0.5 / 11_886**0.5


def dose_response(per_seed: list[dict], runs: dict, summary: dict) -> dict:
    """DPO's amplification against the weekday imbalance left in its pairs.

    One row per pair set, ordered by strength: the deconfounded pairs (strength 0), each dose
    strength, the raw pairs (1). ``balance`` is the pairs' chosen-minus-rejected Monday share
    (with its interval); ``amplification`` is DPO's minus SFT's Monday share per training seed
    (paired: both start from SFT seed k), with its mean and 95% t interval across seeds.
    """
    sft = runs["sft"]["monday_share"]
    sets = [(0.0, "deconfounded", runs["dpo_deconfounded"]["monday_share"], summary["balance"]["deconfounded"])]
    for key, balance in summary["dose_balance"].items():
        shares = [seed["dose"][key]["monday_share"] for seed in per_seed]
        sets.append((float(key), "dose", shares, balance))
    sets.append((1.0, "raw", runs["dpo"]["monday_share"], summary["balance"]["raw"]))
    rows = []
    for strength, pairs, shares, balance in sorted(sets, key=lambda row: row[0]):
        x, y = paired_values(shares, sft)
        gain = [a - b for a, b in zip(x, y, strict=True)]
        # None where too few seeds have a Monday share (JSON has no NaN).
        low, high = (None, None) if len(gain) < 2 else seed_interval(gain)
        rows.append({"strength": strength, "pairs": pairs, "balance": balance["monday"]["diff"],
                     "balance_low": balance["monday"]["low"], "balance_high": balance["monday"]["high"],
                     "amplification": gain, "mean": float(np.mean(gain)) if gain else None,
                     "low": low, "high": high})
    return {"rows": rows, "rerun_balance": RERUN_MONDAY_BALANCE,
            "rerun_balance_half_width": RERUN_MONDAY_BALANCE_HALF_WIDTH}


def paired_values(a, b) -> tuple[list[float], list[float]]:
    """``a`` and ``b`` without the training seeds where either is None (no Monday share to compute)."""
    kept = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    return [x for x, _ in kept], [y for _, y in kept]

