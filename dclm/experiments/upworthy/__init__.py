"""Chapter 4: Upworthy. Observational vs experimental rewards, and how much to regularise.

Upworthy randomised readers among the headlines of each test, so within a test (and an image)
which headline wins is an experimental fact. Across tests, click-through rates are confounded
by the story, the image and the week. A reward model trained on one headline per test-image
(the observational view: what a log without experiments holds) learns both; validation on more
observational rows rewards learning both, so it picks a weaker regularisation than the
experimental test would.

Pipeline, on frozen-LM embeddings of the headline (``dclm.models.embed``):

- observational ridge sweep: CTR regressed on embeddings of one package per training
  test-image, for every lambda of a log grid; validation MSE on held-out observational rows;
  experimental test ROC-AUC on held-out within-test pairs whose CTRs differ at p < alpha;
- baselines of the author's later analysis: logistic regression on experimental training pairs,
  ridge CTR on all experimental rows, and residualised-CTR variants (CTR minus a cross-fitted
  prediction from the lede and the month);
- a split study: the sweep repeated over ``split_seeds`` splits;
- a scale study when the profile lists several embedding models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dclm import env
from dclm.experiments.upworthy.archive import (
    Archive,
    load_archive,
    pair_diffs,
    pair_rows,
    scaled,
    split_views,
)
from dclm.experiments.upworthy.claims import LESSON, claims, ranking
from dclm.experiments.upworthy.config import (
    METHOD_LABELS,
    METHODS,
    REPORTED,
    SEED_DOC,
    TEXTS,
    Config,
    config_for,
    lambda_grid,
)
from dclm.experiments.upworthy.figures import explore_lambda, figures
from dclm.experiments.upworthy.rewards import (
    baselines,
    nuisance_predictions,
    observational_sweep,
    reward_scale,
    selection_cost,
)
from dclm.stats import bootstrap_auc_se, pair_auc, paired_auc_difference
from dclm.train.options import DEFAULT_OPTIONS, JobOptions

__all__ = [
    "LESSON", "METHODS", "METHOD_LABELS", "REPORTED", "SEED_DOC", "TEXTS", "Archive", "Config", "baselines",
    "claims", "config_for", "explore_lambda", "figures", "lambda_grid", "load_archive", "nuisance_predictions",
    "observational_sweep", "pair_diffs", "pair_rows", "ranking", "reward_scale", "run", "run_model", "scaled",
    "selection_cost", "split_study", "split_views",
]


def split_study(archive: Archive, cfg: Config, lambdas: np.ndarray, show_progress: bool = True) -> dict:
    """The observational sweep repeated over ``split_seeds`` splits (seeds seed, seed + 1, ...):
    each split's λ choices and AUCs, and how often the test pairs prefer a larger λ."""
    seeds = [cfg.seed + k for k in range(cfg.split_seeds)]
    rows = []
    for split_seed in env.progress(seeds, show=show_progress, desc="split seeds"):
        sweep = observational_sweep(archive, split_views(archive, split_seed, cfg.alpha), lambdas, cfg.standardize)
        rows.append({key: sweep[key] for key in
                     ("lambda_val_opt", "lambda_test_opt", "auc_at_val_opt", "auc_at_test_opt")})
    frame = pd.DataFrame(rows)
    return {
        "seeds": seeds,
        **{key: frame[key].tolist() for key in frame.columns},
        "n_test_above_val": int((frame["lambda_test_opt"] > frame["lambda_val_opt"]).sum()),
        "n_test_equal_val": int((frame["lambda_test_opt"] == frame["lambda_val_opt"]).sum()),
        "median_lambda_val_opt": float(frame["lambda_val_opt"].median()),
        "median_lambda_test_opt": float(frame["lambda_test_opt"].median()),
        "median_auc_cost": float((frame["auc_at_test_opt"] - frame["auc_at_val_opt"]).median()),
    }


def run_model(cfg: Config, model_id: str, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """Every metric of one embedding model (see the module docstring)."""
    archive = load_archive(cfg, model_id, show_progress=options.show_progress)
    lambdas = lambda_grid(cfg)
    views = split_views(archive, cfg.seed, cfg.alpha)
    sweep = observational_sweep(archive, views, lambdas, cfg.standardize)
    scores = baselines(archive, views, sweep, lambdas, cfg, cfg.seed)
    test = views["test_pairs"]
    a_wins = test["a_wins"].to_numpy()
    diffs = {name: pair_diffs(archive, test, scores[name]) for name in METHODS}
    auc = {name: pair_auc(d, a_wins) for name, d in diffs.items()}
    auc_se = bootstrap_auc_se(diffs, a_wins, test["image"].to_numpy(), cfg.bootstrap, cfg.seed)
    # The ranking's one comparative statement: the runner-up against the best, paired.
    best, second = sorted(METHODS, key=lambda name: -auc[name])[:2]
    auc_vs_best = {second: paired_auc_difference(diffs[second], diffs[best], a_wins, test["image"].to_numpy(),
                                                 cfg.bootstrap, cfg.seed)}
    residualising = {kind: paired_auc_difference(diffs[f"resid_{kind}"], diffs[f"ridge_{kind}"], a_wins,
                                                 test["image"].to_numpy(), cfg.bootstrap, cfg.seed)
                     for kind in ("exp", "obs")}
    cost = selection_cost(archive, views, sweep, cfg.bootstrap, cfg.seed)
    cost["lambda_by_val_pairs"] = float(lambdas[cost["index_by_val_pairs"]])
    pairs = archive.pairs
    comparable = pairs["test_id"] + "|" + pairs["eyecatcher_id"]
    return {
        "metrics": {
            "model_id": model_id,
            "lambda_grid": lambdas.tolist(),
            "val_mse": sweep["val_mse"].tolist(),
            "test_auc": sweep["test_auc"].tolist(),
            "lambda_val_opt": sweep["lambda_val_opt"],
            "lambda_test_opt": sweep["lambda_test_opt"],
            "auc_at_val_opt": sweep["auc_at_val_opt"],
            "auc_at_test_opt": sweep["auc_at_test_opt"],
            "auc": auc,
            "auc_se": auc_se,
            "auc_vs_best": auc_vs_best,
            "residualising_gain": residualising,
            "selection_cost": cost,
            "reward_sd": reward_scale(archive, views, sweep),
            "n_packages": len(archive.packages),
            "n_unique_texts": int(archive.texts.nunique()),
            "embedding_dim": int(archive.features.shape[1]),
            "n_comparable_test_images": int(comparable.nunique()),
            "n_pairs": len(pairs),
            "share_significant": float((pairs["p_value"] < cfg.alpha).mean()),
            "n_train_rows": len(views["obs_train"]),
            "n_val_rows": len(views["obs_val"]),
            "n_train_pairs": len(views["train_pairs"]),
            "n_val_pairs": len(views["val_pairs"]),
            "n_test_pairs": len(test),
            "split_study": split_study(archive, cfg, lambdas, options.show_progress),
        },
    }


def run(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """The sweep, baselines and split study for the first model; the scale study for all."""
    per_model = {model_id: run_model(cfg, model_id, options)["metrics"] for model_id in cfg.model_ids}
    metrics = dict(per_model[cfg.model_ids[0]])
    if len(cfg.model_ids) > 1:
        metrics["scale"] = {
            model_id: {key: m[key] for key in ("lambda_val_opt", "lambda_test_opt", "auc_at_val_opt",
                                               "auc_at_test_opt", "auc", "auc_se", "embedding_dim")}
            | {"median_lambda_val_opt": m["split_study"]["median_lambda_val_opt"],
               "median_lambda_test_opt": m["split_study"]["median_lambda_test_opt"]}
            for model_id, m in per_model.items()
        }
    return {"metrics": metrics, "data": {"per_model_test_auc": {k: m["test_auc"] for k, m in per_model.items()}}}
