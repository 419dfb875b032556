"""Chapter 4's reward models: the observational ridge sweep over λ, the experimental and
residualised baselines, what choosing λ by validation MSE costs, and the reward's scale."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dclm.experiments.upworthy.archive import Archive, pair_diffs, pair_rows, scaled
from dclm.experiments.upworthy.config import Config
from dclm.stats import pair_auc, paired_auc_difference, ridge_path


def observational_sweep(archive: Archive, views: dict, lambdas: np.ndarray, standardize: bool) -> dict:
    """Validation MSE (CTR units squared) and test AUC of the observational ridge at every lambda,
    the scores of every package per lambda, and the lambdas each criterion picks. Introduced
    in chapter 4."""
    x = scaled(archive.features, views["obs_train"], standardize)
    ctr = archive.packages["ctr"].to_numpy()
    weights, intercepts = ridge_path(x[views["obs_train"]], ctr[views["obs_train"]], lambdas)
    val_pred = x[views["obs_val"]] @ weights + intercepts
    val_mse = ((ctr[views["obs_val"], None] - val_pred) ** 2).mean(0)
    scores = x @ weights + intercepts
    test = views["test_pairs"]
    test_auc = pair_auc(pair_diffs(archive, test, scores), test["a_wins"].to_numpy())
    best_val, best_test = int(np.argmin(val_mse)), int(np.argmax(test_auc))
    return {
        "val_mse": val_mse, "test_auc": test_auc, "scores": scores,
        "lambda_val_opt": float(lambdas[best_val]), "lambda_test_opt": float(lambdas[best_test]),
        "auc_at_val_opt": float(test_auc[best_val]), "auc_at_test_opt": float(test_auc[best_test]),
    }


def selection_cost(archive: Archive, views: dict, sweep: dict, draws: int, seed: int) -> dict:
    """What choosing λ by observational validation MSE costs, measured honestly.

    Both λ are chosen without the test pairs: one by validation MSE (no experiment), one by AUC
    on the validation pairs (a small experiment); both are scored on the test pairs. Returns the
    two λ, their test AUCs and the paired bootstrap difference (pairs-choice minus MSE-choice).
    The test-optimal λ would be an optimistic reference, since it looks at the test.
    """
    val, test = views["val_pairs"], views["test_pairs"]
    val_auc = pair_auc(pair_diffs(archive, val, sweep["scores"]), val["a_wins"].to_numpy())
    by_pairs, by_mse = int(np.argmax(val_auc)), int(np.argmin(sweep["val_mse"]))
    diffs = pair_diffs(archive, test, sweep["scores"][:, [by_pairs, by_mse]])
    out = paired_auc_difference(diffs[:, 0], diffs[:, 1], test["a_wins"].to_numpy(), test["image"].to_numpy(),
                                draws, seed)
    return {"index_by_val_pairs": by_pairs, "index_by_val_mse": by_mse,
            "auc_by_val_pairs": float(sweep["test_auc"][by_pairs]), "auc_by_val_mse": float(sweep["test_auc"][by_mse]),
            **out}


def reward_scale(archive: Archive, views: dict, sweep: dict) -> list[float]:
    """Standard deviation of the observational ridge's reward over test packages, per λ (CTR
    units). AUC ignores it; a policy optimised against the reward does not."""
    rows = np.unique(np.concatenate(pair_rows(archive, views["test_pairs"])))
    return sweep["scores"][rows].std(0).tolist()


def _month_and_lede(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    return frame["created_at"].dt.strftime("%Y-%m"), frame["lede"].fillna("")


def nuisance_predictions(train: pd.DataFrame, targets: list[pd.DataFrame], folds: int, seed: int,
                         lam: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """CTR predicted from the lede (TF-IDF) and the month: the part of CTR the headline did not cause.

    A ridge with penalty ``lam``. Training rows get cross-fitted predictions (``folds`` folds by
    test-image, each predicted by a model that never saw it); ``targets`` get predictions from a
    model fit on all training rows. CTR units. Introduced in chapter 4.
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import OneHotEncoder

    def fit(rows: pd.DataFrame):
        month, lede = _month_and_lede(rows)
        words = TfidfVectorizer(min_df=2, max_features=20_000, sublinear_tf=True).fit(lede)
        months = OneHotEncoder(handle_unknown="ignore").fit(month.to_frame())
        model = Ridge(alpha=lam).fit(sparse.hstack([words.transform(lede), months.transform(month.to_frame())]).tocsr(),
                                     rows["ctr"].to_numpy())

        def predict(other: pd.DataFrame) -> np.ndarray:
            m, text = _month_and_lede(other)
            return model.predict(sparse.hstack([words.transform(text), months.transform(m.to_frame())]).tocsr())

        return predict

    images = (train["test_id"] + "|" + train["eyecatcher_id"].fillna("<none>")).to_numpy()
    unique = np.unique(images)
    fold_of_image = dict(zip(unique, np.random.default_rng(seed).permutation(len(unique)) % folds, strict=True))
    fold = np.array([fold_of_image[i] for i in images])
    crossfit = np.empty(len(train))
    for k in range(folds):
        crossfit[fold == k] = fit(train[fold != k])(train[fold == k])
    full = fit(train)
    return crossfit, [full(t) for t in targets]


def _best_by_val_auc(archive: Archive, views: dict, scores_per_lambda: np.ndarray) -> np.ndarray:
    val = views["val_pairs"]
    aucs = pair_auc(pair_diffs(archive, val, scores_per_lambda), val["a_wins"].to_numpy())
    return scores_per_lambda[:, int(np.argmax(aucs))]


def baselines(archive: Archive, views: dict, sweep: dict, lambdas: np.ndarray, cfg: Config,
              split_seed: int) -> dict[str, np.ndarray]:
    """One score per package for each method of :data:`METHODS`.

    Experimental methods pick their penalty by AUC on the validation pairs (they have
    experiments to validate on); observational ones by validation MSE (they do not).
    """
    from sklearn.linear_model import LogisticRegression

    packages = archive.packages
    ctr = packages["ctr"].to_numpy()
    x_exp = scaled(archive.features, views["exp_train"], cfg.standardize)
    scores: dict[str, np.ndarray] = {}

    train_pairs = views["train_pairs"]
    a, b = pair_rows(archive, train_pairs)
    candidates = []
    for c in np.logspace(-4, 0, 5):
        model = LogisticRegression(C=c, fit_intercept=False, max_iter=2_000)
        model.fit(x_exp[a] - x_exp[b], train_pairs["a_wins"].to_numpy())
        candidates.append(x_exp @ model.coef_[0])
    scores["logistic_exp"] = _best_by_val_auc(archive, views, np.column_stack(candidates))

    rows = views["exp_train"]
    weights, intercepts = ridge_path(x_exp[rows], ctr[rows], lambdas)
    scores["ridge_exp"] = _best_by_val_auc(archive, views, x_exp @ weights + intercepts)
    scores["ridge_obs"] = sweep["scores"][:, int(np.argmin(sweep["val_mse"]))]

    crossfit, _ = nuisance_predictions(packages.iloc[rows], [], cfg.residual_folds, split_seed, cfg.nuisance_lam)
    weights, intercepts = ridge_path(x_exp[rows], ctr[rows] - crossfit, lambdas)
    scores["resid_exp"] = _best_by_val_auc(archive, views, x_exp @ weights + intercepts)

    obs_train, obs_val = views["obs_train"], views["obs_val"]
    x_obs = scaled(archive.features, obs_train, cfg.standardize)
    crossfit, (val_nuisance,) = nuisance_predictions(packages.iloc[obs_train], [packages.iloc[obs_val]],
                                                     cfg.residual_folds, split_seed, cfg.nuisance_lam)
    weights, intercepts = ridge_path(x_obs[obs_train], ctr[obs_train] - crossfit, lambdas)
    val_mse = ((ctr[obs_val] - val_nuisance)[:, None] - (x_obs[obs_val] @ weights + intercepts)) ** 2
    scores["resid_obs"] = (x_obs @ weights + intercepts)[:, int(np.argmin(val_mse.mean(0)))]
    return scores
