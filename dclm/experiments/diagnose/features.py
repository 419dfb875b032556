"""What every canary pipeline of chapter 6 shares: embeddings by text held in memory, the draw of
canary candidates and evaluation rows, and the JSON row of one canary result."""

from __future__ import annotations

import numpy as np

from dclm.experiments.diagnose.config import Config


class TextFeatures:
    """Embeddings by text, held in memory: every refit of a pipeline looks its texts up here.

    ``show_progress`` reaches the embedder's progress bar (:class:`dclm.train.options.JobOptions`).
    """

    def __init__(self, cfg: Config, max_length: int = 64, show_progress: bool = True):
        self.cfg, self.max_length, self.show_progress, self.vectors = cfg, max_length, show_progress, {}
        # Texts sent to the embedder (the shared cache answers those it already holds), and the
        # seconds spent there: a cold cache costs minutes that a warm one does not.
        self.embedded, self.embed_seconds = 0, 0.0

    def add(self, texts, vectors: np.ndarray | None = None) -> None:
        """Embed the texts not held yet (through the shared cache), or hold the given ``vectors``."""
        import time

        from dclm.models.embed import embed_texts

        texts = list(texts)
        if vectors is None:
            texts = [t for t in dict.fromkeys(texts) if t not in self.vectors]
            if not texts:
                return
            start = time.perf_counter()
            vectors = embed_texts(texts, model_id=self.cfg.embed_model_id, max_length=self.max_length,
                                  device=self.cfg.device, show_progress=self.show_progress)
            self.embed_seconds += time.perf_counter() - start
            self.embedded += len(texts)
        self.vectors.update(zip(texts, vectors, strict=True))

    def __call__(self, texts) -> np.ndarray:
        """One embedding row per text, embedding the ones not held yet."""
        texts = list(texts)
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.add(missing)
        return np.stack([self.vectors[t] for t in texts])


def canary_summary(result, truth: bool | None = None, **extra) -> dict:
    """The JSON-ready row of one :class:`dclm.eval.canary.CanaryResult` (uplift in reward SDs),
    with the reward's ``truth`` (confounded or not) and any ``extra`` fields."""
    row = {"uplift": float(result.uplift), "low": float(result.low), "high": float(result.high),
           "p": float(result.p), "flagged": bool(result.flagged), "tied_mean": float(result.tied_mean),
           "null_mean": float(result.null_mean), "per_seed": result.per_seed.tolist(),
           "null": result.null.tolist(), "n_canaries": result.n_canaries}
    if truth is not None:
        row["truth"] = bool(truth)
    return row | extra


def draw_pool(n: int, cfg: Config, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Candidate rows for canaries, and evaluation rows, drawn once per data set."""
    pool = np.sort(rng.choice(n, size=min(cfg.pool_size, n // 2), replace=False))
    rest = np.setdiff1d(np.arange(n), pool)
    return pool, np.sort(rng.choice(rest, size=min(cfg.n_eval, len(rest)), replace=False))
