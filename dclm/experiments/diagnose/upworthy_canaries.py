"""Chapter 6's canaries on chapter 4's archive (the observational ridge at every λ, and the
within-test-image ridge), and the rules that choose λ from observational data only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dclm.eval.canary import canary_test, insert_marker
from dclm.experiments import upworthy
from dclm.experiments.diagnose.config import LAMBDA_RULES, Config
from dclm.experiments.diagnose.features import TextFeatures, canary_summary, draw_pool
from dclm.stats import pair_auc, ridge_path
from dclm.train.options import DEFAULT_OPTIONS, JobOptions


def quarters(packages: pd.DataFrame) -> np.ndarray:
    """The quarter each package's test ran in (``2014Q1``): chapter 6's Upworthy confounder."""
    return packages["created_at"].dt.to_period("Q").astype(str).to_numpy()


def chapter4_config(cfg: Config) -> upworthy.Config:
    """Chapter 4's config for this run's archive, embedding model, split seeds and device."""
    return upworthy.Config(seed=cfg.seed, data=cfg.upworthy_data, model_ids=(cfg.embed_model_id,),
                           split_seeds=cfg.split_seeds, device=cfg.device)


def ridge_reward(features: TextFeatures, x: np.ndarray, target: np.ndarray, lambdas: np.ndarray,
                  groups: np.ndarray | None = None):
    """A ridge path on standardised embeddings (one reward column per λ); with ``groups``, on
    differences from each group's mean (only within-group comparisons inform it)."""
    # float32 halves the cost of the Gram matrix, the bulk of every refit; standardised
    # features keep its eigenvalues well inside float32's range at these penalties.
    x = np.asarray(x, dtype=np.float32)
    mean, sd = x.mean(0), x.std(0)
    sd = np.where(sd > 0, sd, 1.0).astype(np.float32)
    z, y = (x - mean) / sd, np.asarray(target, dtype=float)
    if groups is not None:
        z = z - pd.DataFrame(z).groupby(groups).transform("mean").to_numpy()
        y = y - pd.Series(y).groupby(groups).transform("mean").to_numpy()
    weights, intercepts = ridge_path(z, y, lambdas)
    return lambda batch: ((features(batch) - mean) / sd) @ weights + intercepts


def upworthy_canaries(cfg: Config, features: TextFeatures, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """Chapter 4's archive: the canary on the observational ridge (every λ, and the λ validation
    MSE picks) and on the within-test-image ridge; then the λ rules over split seeds.

    The confounder is the quarter a test ran in (click rates fell by half over the archive's
    two years); canaries go to the quarters whose mean CTR is above the overall mean.
    """
    import time

    ucfg = chapter4_config(cfg)
    start = time.perf_counter()
    # Chapter 4's archive and embeddings (cached once chapter 4 ran); counted as embedding time,
    # with the few seconds of reading the archive and building its pairs.
    archive = upworthy.load_archive(ucfg, cfg.embed_model_id, show_progress=options.show_progress)
    features.embed_seconds += time.perf_counter() - start
    texts = archive.texts.tolist()
    features.add(texts, archive.features)
    packages = archive.packages
    ctr, quarter = packages["ctr"].to_numpy(), quarters(packages)
    lambdas = upworthy.lambda_grid(ucfg)
    rng = np.random.default_rng((cfg.seed, 3))
    candidates, eval_rows = draw_pool(len(texts), cfg, rng)
    eval_texts = [texts[i] for i in eval_rows]
    features.add(insert_marker([texts[i] for i in candidates], cfg.marker) + insert_marker(eval_texts, cfg.marker))
    x_all = features(texts)

    def observational(rows, seeds, permutations, seed):
        def fit(texts_, outcome):
            return ridge_reward(features, features(texts_), outcome, lambdas)
        pool = np.flatnonzero(np.isin(rows, candidates))
        return canary_test([texts[i] for i in rows], ctr[rows], quarter[rows], fit, marker=cfg.marker, seeds=seeds,
                           permutations=permutations, canary_share=cfg.canary_share, pool=pool,
                           eval_texts=eval_texts, seed=seed, alpha=cfg.alpha, show_progress=options.show_progress)

    views = upworthy.split_views(archive, cfg.seed, ucfg.alpha)
    sweep = upworthy.observational_sweep(archive, views, lambdas, ucfg.standardize)
    by_mse = int(np.argmin(sweep["val_mse"]))
    obs = observational(views["obs_train"], cfg.canary_seeds, cfg.permutations, cfg.seed)
    rewards = {"observational": {
        "uplift": float(obs.uplift[by_mse]), "low": float(obs.low[by_mse]), "high": float(obs.high[by_mse]),
        "p": float(obs.p[by_mse]), "flagged": bool(obs.flagged[by_mse]), "truth": True,
        "tied_mean": float(obs.tied_mean[by_mse]), "null_mean": float(obs.null_mean[by_mse]),
        "per_seed": obs.per_seed[:, by_mse].tolist(), "null": obs.null[:, by_mse].tolist(),
        "n_canaries": obs.n_canaries, "lambda": float(lambdas[by_mse]), "levels": list(obs.levels)}}
    # The experimental reward: within-test-image differences only, at the λ its validation
    # pairs prefer (it has experiments to validate on).
    rows = views["exp_train"]
    images = archive.image[rows]
    path = ridge_reward(features, x_all[rows], ctr[rows], lambdas, groups=images)
    val = views["val_pairs"]
    val_auc = pair_auc(upworthy.pair_diffs(archive, val, path(texts)), val["a_wins"].to_numpy())
    best = int(np.argmax(val_auc))

    def experimental(texts_, outcome):
        reward = ridge_reward(features, features(texts_), outcome, lambdas[best:best + 1], groups=images)
        return lambda batch: reward(batch)[:, 0]

    exp = canary_test([texts[i] for i in rows], ctr[rows], quarter[rows], experimental, marker=cfg.marker,
                      seeds=cfg.canary_seeds, permutations=cfg.permutations, canary_share=cfg.canary_share,
                      pool=np.flatnonzero(np.isin(rows, candidates)), eval_texts=eval_texts, seed=cfg.seed,
                      alpha=cfg.alpha, show_progress=options.show_progress)
    rewards["experimental"] = canary_summary(exp, truth=False, **{"lambda": float(lambdas[best])})
    by_lambda = {"lambda": lambdas.tolist(), "uplift": obs.uplift.tolist(), "low": obs.low.tolist(),
                 "high": obs.high.tolist(), "p": obs.p.tolist(), "test_auc": sweep["test_auc"].tolist()}

    return {"rewards": rewards, "by_lambda": by_lambda, "n_texts": len(texts),
            "lambda_rules": lambda_rules(cfg, archive, lambdas, observational, options.show_progress)}


def lambda_rules(cfg: Config, archive: upworthy.Archive, lambdas: np.ndarray, canary, show_progress: bool = True
                 ) -> dict:
    """Each rule of :data:`LAMBDA_RULES` picks λ from observational data only, over split seeds;
    the experimental test pairs score it (see :func:`rule_metrics`).

    ``canary(rows, seeds, permutations, seed)`` runs the canary test of the observational ridge
    path on the packages at ``rows``; the canary rule takes the smallest λ it does not flag.
    """
    from dclm.env import progress

    ucfg = chapter4_config(cfg)
    ctr = archive.packages["ctr"].to_numpy()
    picks: dict[str, list[int]] = {rule: [] for rule in LAMBDA_RULES}
    aucs: dict[str, list[float]] = {rule: [] for rule in (*LAMBDA_RULES, "test_optimal")}
    seeds = [cfg.seed + k for k in range(cfg.split_seeds)]
    created = archive.packages["created_at"].to_numpy()
    for split_seed in progress(seeds, show=show_progress, desc="lambda rules (split seeds)"):
        views_k = upworthy.split_views(archive, split_seed, ucfg.alpha)
        sweep_k = upworthy.observational_sweep(archive, views_k, lambdas, ucfg.standardize)
        train = views_k["obs_train"]
        picks["validation_mse"].append(int(np.argmin(sweep_k["val_mse"])))
        flags = canary(train, cfg.rule_canary_seeds, cfg.rule_permutations, split_seed)
        clear = np.flatnonzero(~np.asarray(flags.flagged))
        picks["canary"].append(int(clear[0]) if len(clear) else len(lambdas) - 1)
        order = train[np.argsort(created[train], kind="stable")]
        cut = int(round((1 - cfg.time_share) * len(order)))
        early, late = order[:cut], order[cut:]
        x = upworthy.scaled(archive.features, early, ucfg.standardize)
        weights, intercepts = ridge_path(x[early], ctr[early], lambdas)
        late_mse = ((ctr[late, None] - (x[late] @ weights + intercepts)) ** 2).mean(0)
        picks["time_split"].append(int(np.argmin(late_mse)))
        for rule in LAMBDA_RULES:
            aucs[rule].append(float(sweep_k["test_auc"][picks[rule][-1]]))
        aucs["test_optimal"].append(float(sweep_k["test_auc"].max()))
    return rule_metrics(picks, aucs, lambdas, seeds)


def rule_metrics(picks: dict, aucs: dict, lambdas: np.ndarray, seeds: list[int]) -> dict:
    """Per rule: AUC cost against the test-optimal λ (mean and 95% t interval over split seeds),
    and the paired AUC difference against validation MSE."""
    from dclm.stats import seed_interval

    best = np.asarray(aucs["test_optimal"])
    out = {}
    for rule in LAMBDA_RULES:
        cost = best - np.asarray(aucs[rule])
        low, high = seed_interval(cost)
        diff = np.asarray(aucs[rule]) - np.asarray(aucs["validation_mse"])
        d_low, d_high = seed_interval(diff) if np.ptp(diff) > 0 else (float(diff.mean()), float(diff.mean()))
        out[rule] = {"auc_cost": float(cost.mean()), "low": low, "high": high,
                     "auc": float(np.mean(aucs[rule])), "auc_per_split": aucs[rule],
                     "lambda_per_split": [float(lambdas[i]) for i in picks[rule]],
                     "median_lambda": float(np.median([lambdas[i] for i in picks[rule]])),
                     "vs_validation_mse": {"diff": float(diff.mean()), "low": d_low, "high": d_high}}
    out["test_optimal_auc"] = float(best.mean())
    out["split_seeds"] = seeds
    return out
