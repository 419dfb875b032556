"""The "results you can trust" table: ours (this build), the paper's and the re-run's, with sources.

Each row names one quantity, how to read it from an experiment's tiny-profile metrics, and the
numbers reported elsewhere (``None`` where a source reports nothing comparable). The book's
results page renders :func:`results_table` from the runs the site build just produced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

V1 = "arXiv v1, via a secondary summary (notes/paper.md)"
RERUN = "the author's later re-run / analysis (job-market paper)"


@dataclass(frozen=True)
class Headline:
    experiment: str
    quantity: str  # may quote the run's metrics: "(truth {true_effect:g})"
    ours: Callable[[Mapping[str, Any]], float]
    paper: str | None
    rerun: str | None
    unit: str = ""
    # What a number means in each source: values on different scales are compared by direction only.
    scale: str = ""


HEADLINES: tuple[Headline, ...] = (
    Headline("confounding", "naive estimate of the marker's effect (truth {true_effect:g})",
             lambda m: m["naive_estimate"], None, None,
             scale="bookings a month; ours only (simulated)"),
    Headline("confounding", "adjusted estimate (truth {true_effect:g})", lambda m: m["adjusted_estimate"], None, None,
             scale="bookings a month; ours only (simulated)"),
    Headline("iv", "2SLS estimate of beta, entangled setting (truth {entangled[true_beta]:g})",
             lambda m: m["entangled"]["iv_beta"], None, None,
             scale="clicks per SD of popularity; ours only (simulated)"),
    Headline("iv", "OLS estimate of beta, entangled setting (truth {entangled[true_beta]:g})",
             lambda m: m["entangled"]["ols_beta"], None, None,
             scale="clicks per SD of popularity; ours only (simulated)"),
    Headline("monday", "'Monday' in SFT generations", lambda m: 100 * m["rates"]["sft"]["monday"],
             "13.7 ('Happy Monday')", "11.45", "%",
             scale="share of generations with the word; ours: the tiny run's held-out answers; v1 counts "
                   "'Happy Monday'; the re-run 'Monday', 3,000 answers a run"),
    Headline("monday", "'Monday' in DPO generations", lambda m: 100 * m["rates"]["dpo"]["monday"],
             "21.2 ('Happy Monday')", "14.84", "%",
             scale="share of generations with the word; ours: the tiny run's held-out answers; v1 counts "
                   "'Happy Monday'; the re-run 'Monday', 3,000 answers a run"),
    Headline("monday", "'Monday' after deconfounded DPO", lambda m: 100 * m["rates"]["dpo_deconfounded"]["monday"],
             None, None, "%",
             scale="share of generations with the word; ours only"),
    Headline("upworthy", "lambda picked by observational validation MSE", lambda m: m["lambda_val_opt"],
             "18,000", None,
             scale="ridge penalty; ours on standardised MiniLM features, v1 on Pythia embeddings whose scaling is not reported: compare which of the two lambdas is larger, not their values"),
    Headline("upworthy", "lambda best on the experimental test", lambda m: m["lambda_test_opt"], "50,000", None,
             scale="ridge penalty; ours on standardised MiniLM features, v1 on Pythia embeddings whose scaling is not reported: compare which of the two lambdas is larger, not their values"),
    Headline("upworthy", "test AUC, logistic on experimental pairs", lambda m: m["auc"]["logistic_exp"],
             None, "0.688 (Pythia-70m) to 0.808 (Pythia-12b), lede + headline",
             scale="ROC-AUC, 0.5 = chance; ours: MiniLM on headlines; re-run: Pythia on lede + headline, another split"),
    Headline("deconfound", "generation sentiment, DeconfoundLM-IV, entangled",
             lambda m: m["results"]["entangled"]["iv"]["sentiment"], "0.850", None,
             scale="ours: VADER compound score, -1 to 1; v1: scorer not reported, scale unknown: compare directions"),
    Headline("deconfound", "generation sentiment, naive reward, entangled",
             lambda m: m["results"]["entangled"]["naive"]["sentiment"], "0.493", None,
             scale="ours: VADER compound score, -1 to 1; v1: scorer not reported, scale unknown: compare directions"),
    Headline("deconfound", "generation sentiment, DeconfoundLM-IV, orthogonal",
             lambda m: m["results"]["orthogonal"]["iv"]["sentiment"], "0.842", None,
             scale="ours: VADER compound score, -1 to 1; v1: scorer not reported, scale unknown: compare directions"),
    Headline("deconfound", "generation sentiment, naive reward, orthogonal",
             lambda m: m["results"]["orthogonal"]["naive"]["sentiment"], "0.727", None,
             scale="ours: VADER compound score, -1 to 1; v1: scorer not reported, scale unknown: compare directions"),
    Headline("diagnose", "canary uplift beyond random markers, naive reward, entangled",
             lambda m: m["canary"]["deconfound_entangled"]["naive"]["uplift"], None, None, "reward SDs",
             scale="the reward's SDs; ours only"),
    Headline("diagnose", "canary uplift beyond random markers, raw Monday scores",
             lambda m: m["canary"]["monday"]["raw"]["uplift"], None, None, "reward SDs",
             scale="the reward's SDs; ours only"),
    Headline("diagnose", "canary uplift beyond random markers, weekday-adjusted Monday scores",
             lambda m: m["canary"]["monday"]["deconfounded"]["uplift"], None, None, "reward SDs",
             scale="the reward's SDs; ours only"),
    Headline("diagnose", "Upworthy test AUC lost by choosing lambda with validation MSE",
             lambda m: m["lambda_rule"]["validation_mse"]["auc_cost"], None, None,
             scale="test ROC-AUC below that of the test-best lambda (0 = nothing lost); ours only"),
    Headline("diagnose", "Upworthy test AUC lost by choosing lambda on the latest quarter",
             lambda m: m["lambda_rule"]["time_split"]["auc_cost"], None, None,
             scale="test ROC-AUC below that of the test-best lambda (0 = nothing lost); ours only"),
)


def _format(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"


def results_table(metrics: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per headline quantity; ``metrics`` maps experiment name to its tiny-profile metrics.

    A headline whose experiment is missing from ``metrics`` is a ``KeyError`` naming it.
    """
    rows = []
    for h in HEADLINES:
        if h.experiment not in metrics:
            raise KeyError(f"no metrics for experiment {h.experiment!r}; got {sorted(metrics)}")
        rows.append({
            # Quantities may quote the run's own truth, e.g. "{true_effect:g}".
            "experiment": h.experiment,
            "quantity": h.quantity.format(**metrics[h.experiment]) + (f" ({h.unit})" if h.unit else ""),
            "ours (tiny profile, this build)": _format(h.ours(metrics[h.experiment])),
            "paper (v1)": h.paper or "—", "re-run": h.rerun or "—", "scale (ours; paper / re-run)": h.scale,
        })
    return pd.DataFrame(rows)
