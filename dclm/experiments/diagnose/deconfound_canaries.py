"""Chapter 6's canaries on chapter 5's headlines: its eight rewards in each setting, over
independent outcome draws, with each reward's truth measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dclm.eval.canary import canary_test, insert_marker
from dclm.experiments import deconfound
from dclm.experiments.deconfound import rewards as headline_rewards
from dclm.experiments.diagnose.config import TRUTH_LOADING, Config
from dclm.experiments.diagnose.features import TextFeatures, canary_summary, draw_pool
from dclm.models.probe import Probe
from dclm.train.options import DEFAULT_OPTIONS, JobOptions


def reward_loading(score: np.ndarray, sentiment: np.ndarray, popularity: np.ndarray) -> tuple[float, float]:
    """OLS slope (and robust SE) of the standardised reward (SDs) on the true popularity,
    holding s(T) fixed: how much a reward pays for exposure rather than tone."""
    from dclm.causal.linear import ols

    z = (score - score.mean()) / (score.std() or 1.0)
    fit = ols(z, np.column_stack([sentiment, popularity]), cov_type="robust")
    name = fit.params.index[-1]
    return float(fit.params[name]), float(fit.std_errors[name])


def deconfound_canaries(cfg: Config, work_dir: Path, features: TextFeatures,
                        options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """Chapter 5's eight rewards in each setting, over ``replicates`` independent outcome draws.

    The canary is tied to the top quarter of the *logged* popularity (what the analyst has).
    Truth per reward and draw: its held-out score, in SDs, rises by more than
    :data:`TRUTH_LOADING` per SD of the true popularity at fixed s(T), i.e. it pays for what
    raises exposure, not only for the text's tone.
    """
    from dclm.env import progress
    from dclm.models.sentiment import sentiment

    dcfg = deconfound.Config(seed=cfg.seed, data=cfg.news_data, n_news=cfg.n_news,
                             sentiment_model=cfg.sentiment_model, embed_model_id=cfg.embed_model_id,
                             device=cfg.device, settings=cfg.settings)
    headlines = headline_rewards.load_headlines(dcfg, work_dir / "news")
    headlines["sentiment"] = sentiment(headlines["title"].tolist(), dcfg.sentiment_model, device=dcfg.device)
    titles = headlines["title"].tolist()
    s = headlines["sentiment"].to_numpy()
    rng = np.random.default_rng((cfg.seed, 2))
    pool, eval_rows = draw_pool(len(titles), cfg, rng)
    eval_texts = [titles[i] for i in eval_rows]
    features.add(titles + insert_marker([titles[i] for i in pool], cfg.marker) + insert_marker(eval_texts, cfg.marker))
    out: dict = {f"deconfound_{setting}": {m: [] for m in deconfound.METHODS} for setting in cfg.settings}
    jobs = [(r, i, setting) for r in range(cfg.replicates) for i, setting in enumerate(cfg.settings)]
    for r, i, setting in progress(jobs, show=options.show_progress, desc="chapter-5 canaries"):
        draw = cfg.seed if r == 0 else (cfg.seed, r)
        train, test = headline_rewards.split_by_story(headlines["title"], headlines["team"], np.random.default_rng(draw),
                                                dcfg.test_share)
        outcomes = headline_rewards.outcomes_for(headlines, setting, dcfg, np.random.default_rng(draw))
        for method in deconfound.METHODS:
            def fit(texts_, outcome, method=method, outcomes=outcomes, train=train):
                fitted = headline_rewards.fit_rewards(features(texts_), outcomes.assign(outcome=outcome), train, dcfg,
                                                methods=(method,))
                probe = Probe.from_stored(fitted["probes"][method])
                return lambda batch: probe.score(features(batch))

            reward = fit(titles, outcomes["outcome"].to_numpy())
            scores = reward(titles)[test]
            slope, se = reward_loading(scores, s[test], outcomes["popularity"].to_numpy()[test])
            # The naive check: does the reward correlate with the logged confounder?
            corr = float(np.corrcoef(scores, outcomes["observed_popularity"].to_numpy()[test])[0, 1])
            result = canary_test(titles, outcomes["outcome"].to_numpy(), outcomes["observed_popularity"].to_numpy(),
                                 fit, marker=cfg.marker, seeds=cfg.canary_seeds, permutations=cfg.permutations,
                                 canary_share=cfg.canary_share, top_share=cfg.top_share, pool=pool,
                                 eval_texts=eval_texts, seed=1000 * cfg.seed + 10 * r + i, alpha=cfg.alpha,
                                 show_progress=options.show_progress)
            out[f"deconfound_{setting}"][method].append(
                canary_summary(result, truth=slope > TRUTH_LOADING, loading=slope, loading_se=se, corr_confounder=corr))
    return {"rewards": out, "n_texts": len(titles)}
