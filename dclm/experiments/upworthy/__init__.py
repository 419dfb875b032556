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

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dclm import env
from dclm.models.embed import MINILM_ID
from dclm.profiles import Profile, apply_settings
from dclm.stats import bootstrap_auc_se, pair_auc, paired_auc_difference, ridge_path
from dclm.train.options import DEFAULT_OPTIONS, JobOptions

SEED_DOC = (
    "seeds the 60/20/20 split by test-image, the draw of one package per test-image for the "
    "observational view, the residualisation folds and the bootstrap; split seed k of the split "
    "study is seed + k"
)
METHODS = ("logistic_exp", "ridge_exp", "ridge_obs", "resid_exp", "resid_obs")
METHOD_LABELS = {
    "logistic_exp": "logistic on experimental pairs",
    "ridge_exp": "CTR ridge on experimental rows",
    "ridge_obs": "CTR ridge on observational rows",
    "resid_exp": "residualised-CTR ridge, experimental rows",
    "resid_obs": "residualised-CTR ridge, observational rows",
}

# Numbers reported elsewhere, with their sources (notes/paper.md §3).
REPORTED = {
    "v1": {
        "source": "arXiv v1, as read through a secondary summary (not checked against the paper's text); "
                  "Pythia embeddings, model size not stated",
        "lambda_val_opt": 18_000, "lambda_test_opt": 50_000,
    },
    "rerun": {
        "source": "the author's later analysis (job-market paper, Table 2): lede + headline embeddings, "
                  "17,141 test-images of the full archive, test ROC-AUC on pairs significant at p < .05",
        "auc": {
            "pythia-70m": (0.688, 0.631, 0.632, 0.660, 0.650),
            "pythia-160m": (0.722, 0.659, 0.660, 0.682, 0.680),
            "pythia-410m": (0.764, 0.700, 0.691, 0.731, 0.719),
            "pythia-1b": (0.788, 0.721, 0.711, 0.746, 0.732),
            "pythia-2.8b": (0.791, 0.733, 0.726, 0.751, 0.748),
            "pythia-6.9b": (0.797, 0.729, 0.729, 0.759, 0.750),
            "pythia-12b": (0.808, 0.742, 0.727, 0.752, 0.739),
        },
    },
}


@dataclass(frozen=True)
class Config:
    seed: int = 0
    # "shipped" (the exploratory archive vendored with dclm) or a path to an archive CSV.
    data: str = "shipped"
    # "headline", or "lede+headline" as in the author's later analysis.
    text: str = "headline"
    model_ids: tuple[str, ...] = (MINILM_ID,)
    pooling: str = "mean"
    max_length: int = 64
    # Standardise embedding features (train mean and SD); off = L2-normalised raw embeddings.
    standardize: bool = True
    lambda_log10_min: float = 0.0
    lambda_log10_max: float = 6.0
    lambda_points: int = 25
    # Grid points added so the lambdas reported by arXiv v1 are evaluated exactly.
    lambda_extra: tuple[float, ...] = (10_000.0, 18_000.0, 50_000.0)
    alpha: float = 0.05
    split_seeds: int = 10
    bootstrap: int = 400
    residual_folds: int = 2
    # Ridge penalty of the nuisance model (CTR from lede TF-IDF and month).
    nuisance_alpha: float = 1.0
    device: str = "cpu"


def validate(cfg: Config) -> None:
    """Data source and text choice this module knows; folds enough to cross-fit."""
    from dclm.config import check_at_least, check_choice

    check_choice("data", cfg.data, ("shipped",), or_path="an Upworthy archive packages CSV")
    check_choice("text", cfg.text, ("headline", "lede+headline"))
    check_at_least(cfg, {"residual_folds": 2})  # cross-fitting needs a fold to predict each row from


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's embedding models and device."""
    cfg = Config(seed=seed, model_ids=profile.embed_model_ids, device=profile.device)
    return apply_settings(cfg, profile, "upworthy")


# ----------------------------------------------------------------------------- helpers

def lambda_grid(cfg: Config) -> np.ndarray:
    """A log-spaced grid from 10^min to 10^max, plus ``lambda_extra``, sorted and unique."""
    grid = np.logspace(cfg.lambda_log10_min, cfg.lambda_log10_max, cfg.lambda_points)
    return np.unique(np.round(np.concatenate([grid, cfg.lambda_extra]), 6))


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
    rows = np.unique(np.concatenate(_pair_rows(archive, views["test_pairs"])))
    return sweep["scores"][rows].std(0).tolist()


def ranking(metrics: dict) -> dict:
    """The five reward models ordered by test AUC, and whether the first is distinguishable from
    the second (paired bootstrap interval of their AUC difference). ``{"order", "holds", "text"}``."""
    from dclm.claims import Claim

    order = sorted(METHODS, key=lambda name: -metrics["auc"][name])
    gap = metrics["auc_vs_best"][order[1]]
    apart = gap["high"] < 0
    text = (", ".join(f"{METHOD_LABELS[name]} ({metrics['auc'][name]:.3f})" for name in order)
            + f"; the first is {'ahead of' if apart else 'not distinguishable from'} the second "
              f"(paired difference {-gap['diff']:+.3f}, 95% interval {-gap['high']:+.3f} to {-gap['low']:+.3f})")
    return {"order": order, "claim": Claim(apart, text)}


def _month_and_lede(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    return frame["created_at"].dt.strftime("%Y-%m"), frame["lede"].fillna("")


def nuisance_predictions(train: pd.DataFrame, targets: list[pd.DataFrame], folds: int, seed: int,
                         alpha: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """CTR predicted from the lede (TF-IDF) and the month: the part of CTR the headline did not cause.

    Training rows get cross-fitted predictions (``folds`` folds by test-image, each predicted by
    a model that never saw it); ``targets`` get predictions from a model fit on all training rows.
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import OneHotEncoder

    def fit(rows: pd.DataFrame):
        month, lede = _month_and_lede(rows)
        words = TfidfVectorizer(min_df=2, max_features=20_000, sublinear_tf=True).fit(lede)
        months = OneHotEncoder(handle_unknown="ignore").fit(month.to_frame())
        model = Ridge(alpha=alpha).fit(sparse.hstack([words.transform(lede), months.transform(month.to_frame())]).tocsr(),
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


# ----------------------------------------------------------------------------- one split

@dataclass
class Archive:
    """Packages, pairs and one embedding row per package, shared by every split."""

    packages: pd.DataFrame
    pairs: pd.DataFrame
    texts: pd.Series  # the text embedded for each package
    features: np.ndarray  # (packages, d), aligned with packages' positions
    image: np.ndarray  # test-image key per package


def _pair_rows(archive: Archive, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    index = archive.packages.index
    return index.get_indexer(pairs["package_a"]), index.get_indexer(pairs["package_b"])


def split_views(archive: Archive, split_seed: int, alpha: float) -> dict:
    """Row positions of the observational train/validation rows, experimental training rows,
    and the significant validation/test pairs after the leakage filter, for one split."""
    from dclm.data import upworthy

    packages = archive.packages
    split = upworthy.split_test_images(packages, split_seed).to_numpy()
    observational = upworthy.observational_view(packages, split_seed)
    obs_positions = packages.index.get_indexer(observational.index)
    train_headlines = packages["headline"].to_numpy()[split == "train"]
    pair_split = pd.Series(split, index=archive.image).groupby(level=0).first()
    pairs = archive.pairs
    pairs_image = (pairs["test_id"] + "|" + pairs["eyecatcher_id"]).to_numpy()
    pairs = pairs.assign(split=pair_split.reindex(pairs_image).to_numpy(), image=pairs_image)

    def evaluation(name: str) -> pd.DataFrame:
        chosen = pairs[(pairs["split"] == name) & (pairs["p_value"] < alpha)]
        return upworthy.drop_leaked_pairs(chosen, train_headlines)

    return {
        "split": split,
        "obs_train": obs_positions[split[obs_positions] == "train"],
        "obs_val": obs_positions[split[obs_positions] == "validation"],
        "exp_train": np.flatnonzero(split == "train"),
        "train_pairs": pairs[pairs["split"] == "train"].reset_index(drop=True),
        "val_pairs": evaluation("validation"),
        "test_pairs": evaluation("test"),
    }


def _scaled(features: np.ndarray, rows: np.ndarray, standardize: bool) -> np.ndarray:
    """Features standardised with the mean and SD of ``rows``, or L2-normalised when not."""
    if not standardize:
        return features / np.linalg.norm(features, axis=1, keepdims=True)
    mean, sd = features[rows].mean(0), features[rows].std(0)
    sd[sd == 0] = 1.0
    return (features - mean) / sd


def pair_diffs(archive: Archive, pairs: pd.DataFrame, scores: np.ndarray) -> np.ndarray:
    """Score of headline a minus score of headline b for each pair (``scores``: one row per package)."""
    a, b = _pair_rows(archive, pairs)
    return scores[a] - scores[b]


def observational_sweep(archive: Archive, views: dict, lambdas: np.ndarray, standardize: bool) -> dict:
    """Validation MSE and test AUC of the observational ridge at every lambda."""
    x = _scaled(archive.features, views["obs_train"], standardize)
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
    x_exp = _scaled(archive.features, views["exp_train"], cfg.standardize)
    scores: dict[str, np.ndarray] = {}

    train_pairs = views["train_pairs"]
    a, b = _pair_rows(archive, train_pairs)
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

    crossfit, _ = nuisance_predictions(packages.iloc[rows], [], cfg.residual_folds, split_seed, cfg.nuisance_alpha)
    weights, intercepts = ridge_path(x_exp[rows], ctr[rows] - crossfit, lambdas)
    scores["resid_exp"] = _best_by_val_auc(archive, views, x_exp @ weights + intercepts)

    obs_train, obs_val = views["obs_train"], views["obs_val"]
    x_obs = _scaled(archive.features, obs_train, cfg.standardize)
    crossfit, (val_nuisance,) = nuisance_predictions(packages.iloc[obs_train], [packages.iloc[obs_val]],
                                                     cfg.residual_folds, split_seed, cfg.nuisance_alpha)
    weights, intercepts = ridge_path(x_obs[obs_train], ctr[obs_train] - crossfit, lambdas)
    val_mse = ((ctr[obs_val] - val_nuisance)[:, None] - (x_obs[obs_val] @ weights + intercepts)) ** 2
    scores["resid_obs"] = (x_obs @ weights + intercepts)[:, int(np.argmin(val_mse.mean(0)))]
    return scores


# ----------------------------------------------------------------------------- the run

def load_archive(cfg: Config, model_id: str) -> Archive:
    """The archive's packages and pairs, with each package's text embedded by ``model_id``."""
    from dclm.data import upworthy
    from dclm.models.embed import embed_texts

    if cfg.text not in ("headline", "lede+headline"):
        raise ValueError(f"text must be 'headline' or 'lede+headline', got {cfg.text!r}")
    packages = upworthy.read_packages(None if cfg.data == "shipped" else cfg.data)
    texts = packages["headline"] if cfg.text == "headline" else \
        packages["lede"].fillna("") + " " + packages["headline"]
    features = embed_texts(texts.tolist(), model_id=model_id, pooling=cfg.pooling, max_length=cfg.max_length,
                           device=cfg.device)
    image = (packages["test_id"] + "|" + packages["eyecatcher_id"].fillna("<none>")).to_numpy()
    return Archive(packages, upworthy.headline_pairs(packages), texts, features, image)


def _study(archive: Archive, cfg: Config, lambdas: np.ndarray) -> dict:
    seeds = [cfg.seed + k for k in range(cfg.split_seeds)]
    rows = []
    for split_seed in env.progress(seeds, desc="split seeds"):
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


def run_model(cfg: Config, model_id: str) -> dict:
    """Every metric of one embedding model (see the module docstring)."""
    archive = load_archive(cfg, model_id)
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
            "split_study": _study(archive, cfg, lambdas),
        },
    }


def run(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """The sweep, baselines and split study for the first model; the scale study for all."""
    per_model = {model_id: run_model(cfg, model_id)["metrics"] for model_id in cfg.model_ids}
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


# ----------------------------------------------------------------------------- figures

def figures(result) -> dict:
    """``lesson`` (validation MSE and test AUC against lambda), ``splits``, ``methods``, and
    ``scale`` when several embedding models ran."""
    from dclm import viz

    m = result.metrics
    out = {
        "lesson": viz.lambda_curves(
            m["lambda_grid"], m["val_mse"], m["test_auc"], m["lambda_val_opt"], m["lambda_test_opt"],
            reported=(REPORTED["v1"]["lambda_val_opt"], REPORTED["v1"]["lambda_test_opt"]),
            title=f"Validation picks lambda = {m['lambda_val_opt']:,.0f}; the experiment prefers "
                  f"{m['lambda_test_opt']:,.0f}",
        ),
        "splits": viz.lambda_choices(
            m["split_study"]["lambda_val_opt"], m["split_study"]["lambda_test_opt"],
            title=f"Over {len(m['split_study']['seeds'])} splits: the lambda each criterion picks",
        ),
        "methods": viz.dot_whisker(
            [METHOD_LABELS[name] for name in METHODS],
            [m["auc"][name] for name in METHODS],
            [[m["auc"][name] - 1.96 * m["auc_se"][name], m["auc"][name] + 1.96 * m["auc_se"][name]]
             for name in METHODS],
            truth=0.5, color_name=["adjusted", "adjusted", "naive", "iv", "iv"],
            xlabel="test ROC-AUC on significant within-test pairs (95% bootstrap interval)",
            title="Which headline wins: five reward models",
        ),
        "reward_scale": viz.reward_scale(m["lambda_grid"], m["reward_sd"], m["lambda_val_opt"],
                                         m["lambda_test_opt"]),
    }
    if "scale" in m:
        out["scale"] = viz.scale_curves(m["lambda_grid"], result.data["per_model_test_auc"])
    return out
