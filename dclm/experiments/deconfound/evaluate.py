"""Chapter 5's generation metrics: sentiment, fluency and team naming of each policy's headlines,
with intervals across RL seeds."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from dclm.experiments.deconfound.config import PROMPT, RL_METRICS, Config
from dclm.experiments.deconfound.rewards import team_pattern


class GenerationScorer:
    """Scores generations with the SFT model's fluency threshold, computed once per run.

    ``threshold`` is the 95% quantile of the SFT model's per-token NLL (nats) on the held-out
    headlines; a generation below it counts as fluent.
    """

    def __init__(self, prepared: dict, sft_path: Path, cfg: Config):
        from dclm.env import device
        from dclm.train.hf import completion_nll, load_causal_lm, load_tokenizer

        self.cfg, self._nll = cfg, completion_nll
        self.tokenizer = load_tokenizer(sft_path, padding_side="right")
        self.model = load_causal_lm(sft_path, device=device(cfg.device))
        held_out = [" " + prepared["titles"][i] for i in prepared["test"]]
        self.threshold = float(np.quantile(self._nll(self.model, self.tokenizer, PROMPT, held_out), 0.95))
        self.teams = team_pattern(prepared["teams"])

    def score(self, per_seed: list[list[str]], top_team: str) -> dict:
        """Each of :data:`RL_METRICS` per seed (``<metric>_per_seed``) and its mean over seeds.

        ``sentiment_fluent`` is the mean sentiment of a seed's fluent generations (NaN when it
        has none; the mean skips those seeds).
        """
        from dclm.models.sentiment import sentiment

        top = re.compile(r"\b" + re.escape(top_team) + r"\b")
        per_metric: dict[str, list[float]] = {key: [] for key in RL_METRICS}
        for texts in per_seed:
            nll = self._nll(self.model, self.tokenizer, PROMPT, [" " + t for t in texts])
            fluent = nll < self.threshold
            scores = np.asarray(sentiment(texts, self.cfg.sentiment_model, device=self.cfg.device))
            per_metric["sentiment"].append(float(scores.mean()))
            per_metric["sentiment_fluent"].append(float(scores[fluent].mean()) if fluent.any() else float("nan"))
            per_metric["team_rate"].append(float(np.mean([bool(self.teams.search(t)) for t in texts])))
            per_metric["top_team_rate"].append(float(np.mean([bool(top.search(t)) for t in texts])))
            per_metric["valid_rate"].append(float(fluent.mean()))
        row = {key: float(np.nanmean(values)) if not np.isnan(values).all() else float("nan")
               for key, values in per_metric.items()}
        row.update({f"{key}_per_seed": values for key, values in per_metric.items()})
        return row


def policy_results(cfg: Config, prepared: dict, scorer: GenerationScorer, by_reward: dict) -> dict:
    """Per setting and method: the generation metrics (``results``), the SE of mean sentiment
    across RL seeds (``se``), 95% intervals (``ci``: across RL seeds, and across data draws for
    the reward's correlation) and the first seed's first six generations (``examples``).

    ``by_reward`` maps (reward id, RL seed) to that run's :func:`rl_job` output.
    """
    from dclm.stats import seed_interval

    replicates = prepared["reward_replicates"]
    out: dict = {"results": {}, "se": {}, "ci": {}, "examples": {}}
    for setting in cfg.settings:
        fitted = prepared["settings"][setting]
        for method in cfg.methods:
            reward_id = fitted["probes"][method]["id"]
            per_seed = [by_reward[(reward_id, k)]["generations"] for k in range(cfg.rl_seeds)]
            row = scorer.score(per_seed, fitted["top_team"])
            row["reward_sentiment_corr"] = fitted["reward_sentiment_corr"][method]
            row["reward_sentiment_corr_per_replicate"] = replicates[setting][method]
            row["rl_run"] = reward_id
            out["results"].setdefault(setting, {})[method] = row
            out["se"].setdefault(setting, {})[method] = {
                "sentiment": float(np.std(row["sentiment_per_seed"], ddof=1) / np.sqrt(cfg.rl_seeds))
                if cfg.rl_seeds > 1 else float("nan")}
            out["ci"].setdefault(setting, {})[method] = {
                **{key: list(seed_interval(row[f"{key}_per_seed"])) for key in RL_METRICS},
                "reward_sentiment_corr": list(seed_interval(replicates[setting][method]))}
            out["examples"][f"{setting}.{method}"] = per_seed[0][:6]
    return out
