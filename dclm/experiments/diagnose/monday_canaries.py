"""Chapter 6's canaries on chapter 3's answers: a pairwise reward from raw scores, and from
scores with the weekday removed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dclm.eval.canary import canary_test, insert_marker
from dclm.experiments import monday
from dclm.experiments.diagnose.config import Config
from dclm.experiments.diagnose.features import TextFeatures, canary_summary, draw_pool
from dclm.train.options import DEFAULT_OPTIONS, JobOptions


def monday_canaries(cfg: Config, work_dir: Path, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """Chapter 3's answers: a pairwise reward from raw scores, and from weekday-adjusted scores.

    Pairs are chapter 3's (within question, at most 10 per question; adjusted pairs drop
    differences under its margin); the reward is a ridge on embedding differences. The texts
    carry no "Happy" markers: the canary plays their part. Truth by design: raw scores hold the
    weekday's effect, adjusted ones do not.
    """
    from dclm.data import stackexchange as se
    from dclm.models.probe import fit_probe

    mcfg = monday.Config(seed=cfg.seed, data=cfg.monday_data, n_questions=cfg.monday_questions)
    features = TextFeatures(cfg, cfg.monday_max_length, show_progress=options.show_progress)
    _, answers = monday.load_answers(mcfg, work_dir / "monday")
    answers = answers.reset_index(drop=True)
    texts = answers["body"].map(se.html_to_text).tolist()
    score = answers["score"].to_numpy(dtype=float)
    weekday = answers["weekday"].astype(str).to_numpy()
    rng = np.random.default_rng((cfg.seed, 1))
    pool, eval_rows = draw_pool(len(texts), cfg, rng)
    eval_texts = [texts[i] for i in eval_rows]
    features.add(texts + insert_marker([texts[i] for i in pool], cfg.marker) + insert_marker(eval_texts, cfg.marker))
    frame = answers[["answer_id", "question_id", "weekday"]].copy()
    position = pd.Series(np.arange(len(frame)), index=frame["answer_id"])

    def pipeline(adjusted: bool):
        def fit(texts_, outcome):
            scored = frame.assign(score=outcome)
            if adjusted:
                scored["adjusted"] = monday.adjust_scores(scored, mcfg.h_estimator)
            pairs = se.preference_pairs(scored, seed=mcfg.seed, score="adjusted" if adjusted else "score",
                                        min_margin=mcfg.deconfounded_margin if adjusted else 0.0)
            x = features(texts_)
            gap = x[position[pairs["chosen_id"]].to_numpy()] - x[position[pairs["rejected_id"]].to_numpy()]
            # Both orders of every pair: a symmetric design, so the probe has no intercept to learn.
            probe = fit_probe(np.vstack([gap, -gap]), np.r_[np.ones(len(gap)), -np.ones(len(gap))],
                              cfg.monday_lambda)
            return lambda batch: probe.score(features(batch))
        return fit

    out = {}
    for name, adjusted in (("raw", False), ("deconfounded", True)):
        result = canary_test(texts, score, weekday, pipeline(adjusted), marker=cfg.marker, seeds=cfg.canary_seeds,
                             permutations=cfg.permutations, canary_share=cfg.canary_share, pool=pool,
                             eval_texts=eval_texts, seed=cfg.seed, alpha=cfg.alpha,
                             show_progress=options.show_progress)
        out[name] = canary_summary(result, truth=not adjusted, levels=list(result.levels))
    return {"rewards": out, "n_texts": len(texts), "new_embeddings": features.embedded,
            "embed_seconds": features.embed_seconds}
