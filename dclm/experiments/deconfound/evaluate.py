"""Chapter 5's generation metrics: sentiment, fluency and team naming of each policy's headlines,
with intervals across RL seeds."""

from __future__ import annotations

import re

import numpy as np

from dclm.eval.fluency import FluencyGuard, calibration_table, is_broken
from dclm.experiments.deconfound.config import RL_METRICS, Config
from dclm.experiments.deconfound.rewards import story_keys, team_pattern


def fluency_split(titles: list[str], teams: list[str], rng: np.random.Generator
                  ) -> tuple[list[str], list[str], list[str]]:
    """Distinct training titles split three ways: the language model's, the threshold's, the check's.

    From each story with at least three distinct titles a fifth (at least one) goes to
    calibration and as many to the check; the rest fit the model. A calibration title is thus
    new as a title but its story is known, like a policy's recombination of a team and an event
    it has seen. (Calibrating on
    held-out stories would set the threshold at wholly unseen word sequences, where splices and
    truncations pass too.)
    """
    distinct = dict(zip(titles, teams, strict=True))
    by_story: dict[str, list[str]] = {}
    for title, key in zip(distinct, story_keys(list(distinct), list(distinct.values())), strict=True):
        by_story.setdefault(key, []).append(title)
    fit, calibrate, measure = [], [], []
    for key in sorted(by_story):
        group = sorted(by_story[key])
        if len(group) >= 3:
            order, k = rng.permutation(len(group)), max(1, len(group) // 5)
            calibrate.extend(group[i] for i in order[:k])
            measure.extend(group[i] for i in order[k:2 * k])
            group = [group[i] for i in order[2 * k:]]
        fit.extend(group)
    return fit, calibrate, measure


class GenerationScorer:
    """Scores generations: sentiment, team naming and fluency, from the bare and the story prompts.

    Fluency is :class:`dclm.eval.fluency.FluencyGuard`, a word-level language model of the
    training headlines whose threshold flags ``fluency_false_alarm`` of the calibration titles
    of :func:`fluency_split`; it does not depend on the policy, so every policy meets one guard.
    ``calibration`` (:func:`dclm.eval.fluency.calibration_table`) measures it on the check
    titles: its false-alarm rate there, and its false-pass rate on each kind of corruption.
    """

    def __init__(self, prepared: dict, cfg: Config):
        titles = prepared["titles"]
        train_titles = [titles[i] for i in prepared["train"]]
        fit, calibrate, measure = fluency_split(train_titles, [prepared["headline_teams"][i] for i in prepared["train"]],
                                                np.random.default_rng([cfg.seed, 3]))
        # The model sees every training row of its titles, so a title the site ran 200 times
        # weighs 200 times: frequent real headlines are the likeliest text, as they should be.
        fit_titles = set(fit)
        self.cfg = cfg
        self.guard = FluencyGuard.calibrate([t for t in train_titles if t in fit_titles], calibrate,
                                            false_alarm=cfg.fluency_false_alarm)
        self.calibration = calibration_table(self.guard, measure, np.random.default_rng([cfg.seed, 4]))
        # The guard knows the training stories: a real headline telling a story it never saw
        # reads as new word sequences. The share of held-out-story titles it passes says how much.
        self.new_story_pass = float(self.guard.is_fluent(sorted({titles[i] for i in prepared["test"]})).mean())
        self.teams = team_pattern(prepared["teams"])
        self.training_titles = set(train_titles)

    def marked(self, texts: list[str]) -> list[str]:
        """``texts`` with " (flagged)" after each one the guard calls disfluent (for example tables)."""
        return [t if ok else f"{t} (flagged)" for t, ok in zip(texts, self.guard.is_fluent(texts), strict=True)]

    def _texts_metrics(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        from dclm.models.sentiment import sentiment

        scores = np.asarray(sentiment(texts, self.cfg.sentiment_model, device=self.cfg.device), dtype=float)
        return scores, self.guard.is_fluent(texts)

    def score(self, outputs: list[dict], top_team: str, team_popularity: dict[str, float]) -> dict:
        """Each of :data:`RL_METRICS` per seed (``<metric>_per_seed``) and its mean over seeds.

        ``outputs`` holds one :func:`..policies.sample` result per RL seed. Story choice (bare
        prompt): ``sentiment``, ``team_rate``, ``top_team_rate``, ``named_team_popularity`` (the
        mean standardised popularity, from ``team_popularity``, of the teams the headlines name:
        a policy can learn "name a popular team" without settling on the top one),
        ``fluent_rate`` and ``perplexity`` (per word, under the guard's language model of the
        training headlines: a continuous reading beside the guard's verdict) and ``copy_rate``
        (the share that are training titles word for word: a check on the guard, which cannot
        tell copying from writing). A given team (story prompt): ``story_sentiment``,
        ``on_story_sentiment`` (only the headlines that name the given team and no other) and
        ``off_story_team_rate``, the share naming a team other than the story's. ``*_fluent`` is the mean sentiment of a seed's fluent generations (NaN
        when it has none; the mean skips those seeds).
        """
        top = re.compile(r"\b" + re.escape(top_team) + r"\b")
        per_metric: dict[str, list[float]] = {key: [] for key in RL_METRICS}

        def fluent_mean(scores, fluent):
            return float(scores[fluent].mean()) if fluent.any() else float("nan")

        for out in outputs:
            texts = out["generations"]
            scores, fluent = self._texts_metrics(texts)
            per_metric["sentiment"].append(float(scores.mean()))
            per_metric["sentiment_fluent"].append(fluent_mean(scores, fluent))
            per_metric["team_rate"].append(float(np.mean([bool(self.teams.search(t)) for t in texts])))
            per_metric["top_team_rate"].append(float(np.mean([bool(top.search(t)) for t in texts])))
            named = [team_popularity[name] for t in texts for name in self.teams.findall(t)]
            per_metric["named_team_popularity"].append(float(np.mean(named)) if named else float("nan"))
            per_metric["fluent_rate"].append(float(fluent.mean()))
            per_metric["copy_rate"].append(float(np.mean([t in self.training_titles for t in texts])))
            # Empty texts and texts with control characters have no perplexity (the guard rejects
            # them outright); the perplexity is that of the rest.
            readable = [t for t in texts if t.strip() and not is_broken(t)]
            per_metric["perplexity"].append(self.guard.lm.perplexity(readable) if readable else float("nan"))
            story_teams, stories = zip(*out["story_generations"], strict=True)
            scores, fluent = self._texts_metrics(list(stories))
            per_metric["story_sentiment"].append(float(scores.mean()))
            named = [self.teams.findall(text) for text in stories]
            on_story = np.array([bool(n) and set(n) == {team} for n, team in zip(named, story_teams, strict=True)])
            per_metric["on_story_sentiment"].append(float(scores[on_story].mean()) if on_story.any() else float("nan"))
            per_metric["story_sentiment_fluent"].append(fluent_mean(scores, fluent))
            per_metric["off_story_team_rate"].append(float(np.mean(
                [any(name != team for name in n) for n, team in zip(named, story_teams, strict=True)])))
            per_metric["story_fluent_rate"].append(float(fluent.mean()))
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
            per_seed = [by_reward[(reward_id, k)] for k in range(cfg.rl_seeds)]
            row = scorer.score(per_seed, fitted["top_team"], fitted["team_popularity"])
            row["reward_sentiment_corr"] = fitted["reward_sentiment_corr"][method]
            row["reward_sentiment_corr_per_replicate"] = replicates[setting][method]
            row["top_headline_sentiment"] = fitted["top_headline_sentiment"][method]
            row["reward_popularity_corr"] = fitted["reward_popularity_corr"][method]
            row["rl_run"] = reward_id
            out["results"].setdefault(setting, {})[method] = row
            out["se"].setdefault(setting, {})[method] = {
                key: float(np.std(row[f"{key}_per_seed"], ddof=1) / np.sqrt(cfg.rl_seeds))
                if cfg.rl_seeds > 1 else float("nan") for key in ("sentiment", "story_sentiment")}
            out["ci"].setdefault(setting, {})[method] = {
                **{key: list(seed_interval(row[f"{key}_per_seed"])) for key in RL_METRICS},
                "reward_sentiment_corr": list(seed_interval(replicates[setting][method]))}
            out["examples"][f"{setting}.{method}"] = scorer.marked(per_seed[0]["generations"][:6])
            stories = per_seed[0]["story_generations"]
            # One story prompt's first headline per team, six teams.
            picked = stories[:: max(1, len(stories) // len(prepared["teams"]))][:6]
            out["examples"][f"{setting}.{method}.story"] = [
                f"[{team}] {text}" for (team, _), text in zip(picked, scorer.marked([t for _, t in picked]),
                                                              strict=True)]
    return out
