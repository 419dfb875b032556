"""Sentiment s(T) of short texts: VADER (tiny profile) or an SST-2 classifier by hub id.

VADER's compound score lies in [-1, 1]; a classifier's score is P(positive) - P(negative),
also in [-1, 1], so the two are on the same scale. Introduced in the DeconfoundLM chapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

VADER = "vader"


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment(texts: Sequence[str], model: str = VADER, device: str = "cpu") -> np.ndarray:
    """One score in [-1, 1] per text: VADER compound, or a classifier's P(pos) - P(neg)."""
    if model == VADER:
        analyzer = _vader()
        return np.array([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=float)
    from dclm.env import device as resolve_device
    from dclm.train.hf import classifier_positive_minus_negative

    # A profile's "cuda" becomes the CPU on a machine without a GPU (dclm.env.device).
    return classifier_positive_minus_negative(model, list(texts), device=resolve_device(device))
