"""Chapter 4's data side: the archive with one embedding per package, the views of one split
(observational rows, experimental rows, significant evaluation pairs) and pair differences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dclm.experiments.upworthy.config import Config


@dataclass
class Archive:
    """Packages, pairs and one embedding row per package, shared by every split."""

    packages: pd.DataFrame
    pairs: pd.DataFrame
    texts: pd.Series  # the text embedded for each package
    features: np.ndarray  # (packages, d), aligned with packages' positions
    image: np.ndarray  # test-image key per package


def load_archive(cfg: Config, model_id: str, show_progress: bool = True) -> Archive:
    """The archive's packages and pairs, with each package's text embedded by ``model_id``.
    Introduced in chapter 4."""
    from dclm.data import upworthy
    from dclm.models.embed import embed_texts

    packages = upworthy.read_packages(None if cfg.data == "shipped" else cfg.data)
    texts = packages["headline"] if cfg.text == "headline" else \
        packages["lede"].fillna("") + " " + packages["headline"]
    features = embed_texts(texts.tolist(), model_id=model_id, pooling=cfg.pooling, max_length=cfg.max_length,
                           device=cfg.device, show_progress=show_progress)
    image = (packages["test_id"] + "|" + packages["eyecatcher_id"].fillna("<none>")).to_numpy()
    return Archive(packages, upworthy.headline_pairs(packages), texts, features, image)


def pair_rows(archive: Archive, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Package positions of headline a and headline b of each pair."""
    index = archive.packages.index
    return index.get_indexer(pairs["package_a"]), index.get_indexer(pairs["package_b"])


def pair_diffs(archive: Archive, pairs: pd.DataFrame, scores: np.ndarray) -> np.ndarray:
    """Score of headline a minus score of headline b for each pair (``scores``: one row per package)."""
    a, b = pair_rows(archive, pairs)
    return scores[a] - scores[b]


def split_views(archive: Archive, split_seed: int, alpha: float) -> dict:
    """Row positions of the observational train/validation rows, experimental training rows,
    and the validation/test pairs significant at level ``alpha`` (two-proportion p < alpha)
    after the leakage filter, for one split. Introduced in chapter 4."""
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


def scaled(features: np.ndarray, rows: np.ndarray, standardize: bool) -> np.ndarray:
    """Features standardised with the mean and SD of ``rows``, or L2-normalised when not
    (``standardize=False``). Used by chapters 4 and 6."""
    if not standardize:
        return features / np.linalg.norm(features, axis=1, keepdims=True)
    mean, sd = features[rows].mean(0), features[rows].std(0)
    sd[sd == 0] = 1.0
    return (features - mean) / sd
