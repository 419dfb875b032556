"""Chapter 6: is my reward confounded? The canary test where the truth is known, λ without an
experiment, and the method's limits measured.

- **Canaries** (:func:`dclm.eval.canary.canary_test`) on three data sets whose truth is known:
  the Monday answers of chapter 3 (a pairwise reward from raw scores, and from scores with
  the weekday removed), the headlines of chapter 5 (its eight reward models in each of its
  settings; the truth of each is measured: does its held-out score load on the true popularity
  beyond the sentiment?) and the Upworthy archive of chapter 4 (the observational ridge, and a
  reward fitted only on within-test-image differences, which randomisation makes experimental).
  Hit and false-alarm rates count, over data draws, how often the test flags confounded and
  clean rewards.
- **λ without an experiment**: on Upworthy, over split seeds, rules that use observational
  data only (validation MSE, the smallest λ whose canary is not paid, validation on the latest
  quarter of the training period) are scored on the experimental test pairs.
- **Limits**: the exclusion restriction broken (Z moves y directly by δ), additivity broken
  (h depends on the text through an interaction), and a weak instrument, each a simulation
  from :func:`dclm.causal.simulate.simulate_popularity`.
- **Without a valid instrument** (:mod:`.no_instrument`): a sensitivity analysis for a
  confounder never logged, and plausibly exogenous bounds for an instrument that reaches y.

Embeddings of the historical texts come from the shared cache; only the marked copies of a
pool of rows and of the evaluation texts are new.
"""

from __future__ import annotations

from pathlib import Path

from dclm.experiments.diagnose.claims import LESSON, claims, metrics_alpha
from dclm.experiments.diagnose.config import (
    DATASETS,
    LAMBDA_RULES,
    REWARD_COLORS,
    REWARD_LABELS,
    REWARDS,
    RULE_LABELS,
    SEED_DOC,
    TRUTH_LOADING,
    Config,
    config_for,
)
from dclm.experiments.diagnose.deconfound_canaries import deconfound_canaries, reward_loading
from dclm.experiments.diagnose.detection import detection
from dclm.experiments.diagnose.features import TextFeatures, canary_summary, draw_pool
from dclm.experiments.diagnose.figures import explore_exclusion, figures
from dclm.experiments.diagnose.limits import limits
from dclm.experiments.diagnose.monday_canaries import monday_canaries
from dclm.experiments.diagnose.no_instrument import no_instrument
from dclm.experiments.diagnose.upworthy_canaries import lambda_rules, rule_metrics, upworthy_canaries
from dclm.train.options import DEFAULT_OPTIONS, JobOptions

__all__ = [
    "DATASETS", "LAMBDA_RULES", "LESSON", "REWARDS", "REWARD_COLORS", "REWARD_LABELS", "RULE_LABELS", "SEED_DOC",
    "TRUTH_LOADING", "Config", "TextFeatures", "canary_summary", "claims", "config_for", "deconfound_canaries",
    "detection", "draw_pool", "explore_exclusion", "figures", "lambda_rules", "limits", "metrics_alpha", "monday_canaries",
    "no_instrument",
    "reward_loading", "rule_metrics", "run", "upworthy_canaries",
]


def run(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """Every part of chapter 6 (canaries on three data sets, the λ rules, the limits) and the
    detection rates: ``{"metrics", "data"}``, with a ledger of seconds and embeddings per part."""
    import time

    work_dir = Path(work_dir)
    features = TextFeatures(cfg, show_progress=options.show_progress)
    # The ledger: seconds per part and texts sent to the embedder (cached ones cost nothing).
    ledger: dict[str, dict] = {}

    def timed(name: str, part, *args):
        start, embedded, embed_seconds = time.perf_counter(), features.embedded, features.embed_seconds
        out = part(*args)
        ledger[name] = {"seconds": round(time.perf_counter() - start, 1),
                        "texts_embedded": out.get("new_embeddings", features.embedded - embedded),
                        "embedding_seconds": round(out.get("embed_seconds",
                                                           features.embed_seconds - embed_seconds), 1)}
        return out

    mon = timed("monday", monday_canaries, cfg, work_dir, options)
    dec = timed("deconfound", deconfound_canaries, cfg, work_dir, features, options)
    upw = timed("upworthy", upworthy_canaries, cfg, features, options)
    lim = timed("limits", lambda: {"limits": limits(cfg)})["limits"]
    without = timed("no_instrument", no_instrument, cfg)
    keys = ("uplift", "low", "high", "p", "flagged", "truth")
    canary = {"monday": {r: {k: v for k, v in row.items() if k in keys} for r, row in mon["rewards"].items()},
              "upworthy": {r: {k: v for k, v in row.items() if k in keys} for r, row in upw["rewards"].items()}}
    for dataset, rewards in dec["rewards"].items():
        # The headline numbers are the run's own draw (replicate 0); the others count in the rates.
        canary[dataset] = {m: {k: v for k, v in draws[0].items() if k in keys}
                           | {key: draws[0][key] for key in ("loading", "loading_se", "corr_confounder")}
                           for m, draws in rewards.items()}
    rules = upw["lambda_rules"]
    metrics = {
        "canary": canary,
        "detection": detection(canary, dec["rewards"]),
        "lambda_rule": rules,
        "limits": lim,
        "sensitivity": without["sensitivity"],
        "conley": without["conley"],
        "negative_control": without["negative_control"],
        "replicates": cfg.replicates,
        "alpha": cfg.alpha,
        "canary_seeds": cfg.canary_seeds,
        "permutations": cfg.permutations,
        "marker": cfg.marker,
        "monday_levels": mon["rewards"]["raw"]["levels"],
        "upworthy_levels": upw["rewards"]["observational"]["levels"],
        "upworthy_lambda": {"observational": upw["rewards"]["observational"]["lambda"],
                            "experimental": upw["rewards"]["experimental"]["lambda"]},
        "upworthy_by_lambda": upw["by_lambda"],
        "n_texts": {"monday": mon["n_texts"], "deconfound": dec["n_texts"], "upworthy": upw["n_texts"]},
        # Texts beyond the archive's headlines: the Monday answers, the chapter-5 headlines and
        # every marked copy (an upper bound on what was embedded anew; the rest is cached).
        "new_embeddings": mon["new_embeddings"] + features.embedded,
        "ledger": ledger,
    }
    data = {"monday": mon["rewards"], "deconfound": dec["rewards"], "upworthy": upw["rewards"]}
    return {"metrics": metrics, "data": data}
