"""Chapter 5's figures: generation sentiment by reward model, team naming, the rewards'
correlation with s(T), the ridge and beta sweeps, the advantage map, the graph and the pipeline."""

from __future__ import annotations

import numpy as np

from dclm.experiments.deconfound.config import METHOD_LABELS, METHODS, SETTINGS

# Column labels where eight rewards share one axis.
SHORT_LABELS = {"naive": "naive", "feature": "feature", "iv": "IV", "invariant": "invariant",
                "calibrated": "calibrated", "two_head": "two-head", "mmd": "MMD", "oracle": "s(T) fit"}


def figures(result) -> dict:
    """``lesson`` (generation sentiment by method and setting, seeds as dots), ``framing``
    (sentiment at a given story), ``teams`` (popularity of the teams named), ``off_story``,
    ``fluency``, ``correlation``, ``lambda_sweep``, ``reward_scale``, ``map``, ``beta_sweep``,
    ``penalty_<setting>`` (the penalised rewards by penalty weight), ``dag`` and ``pipeline``."""
    from dclm import viz

    m = result.metrics
    res = m["results"]
    settings = [name for name in SETTINGS if name in res]
    methods = [name for name in METHODS if name in res[settings[0]]]
    colors = {METHOD_LABELS[method]: method for method in methods}
    sweep, lam, amap = m["beta_sweep"], m["lambda_sweep"], m["map"]
    figs = {}

    def per_seed_bars(key: str, ylabel: str, title: str):
        return viz.seed_bars({METHOD_LABELS[method]: {setting: res[setting][method][key] for setting in settings}
                              for method in methods}, ylabel=ylabel, title=title, colors=colors)

    if amap:
        significant = (np.asarray(amap["low"]) > 0) | (np.asarray(amap["high"]) < 0)
        figs["map"] = viz.advantage_map(
            amap["lambda"], amap["rows"], np.asarray(amap["difference"]), significant,
            xlabel="ridge penalty lambda of both reward probes",
            ylabel="the world (entangled; p exact except on the logging-error rows)",
            title="IV minus confounder-as-feature: held-out corr(reward, s(T))",
            colorbar_label="difference in correlation (* 95% interval excludes 0)",
            failed=np.asarray(amap["failed"]))
        if amap.get("by_method"):
            rewards = [name for name in METHODS if name in amap["by_method"]]
            values = np.column_stack([amap["by_method"][name] for name in rewards])
            figs["map_rewards"] = viz.advantage_map(
                [SHORT_LABELS[name] for name in rewards], amap["rows"], values, np.zeros(values.shape, dtype=bool),
                xlabel="reward model", ylabel="the world (as in the map above)",
                title=f"Every reward's held-out corr(reward, s(T)) at lambda = {amap['by_method']['lambda']:g}",
                colorbar_label="held-out correlation with s(T)", failed=values < amap["fail_below"],
                failed_label="(below line)")
    penalties = m.get("penalty_sweep")
    for setting in (s for s in ("orthogonal", "entangled") if penalties and s in penalties):
        figs[f"penalty_{setting}"] = viz.lines(
            penalties["mu"], penalties[setting], labels=METHOD_LABELS,
            xlabel="penalty weight mu (log scale; 0 at the left)", ylabel="held-out corr(reward, s(T))",
            title=f"Penalised rewards by penalty weight, {setting} setting (this draw)", logx=True)
    return figs | {
        "lesson": per_seed_bars("sentiment_per_seed", "mean sentiment of generations (VADER, -1 to 1)",
                                f"Sentiment of RL policies per reward model, {m['n_seeds']} RL seeds (dots)"),
        "teams": per_seed_bars("named_team_popularity_per_seed",
                               "popularity of the teams named (SD units across teams)",
                               f"Popularity of the teams the policies name, bare prompt, {m['n_seeds']} RL seeds (dots)"),
        "off_story": per_seed_bars("off_story_team_rate_per_seed", "share naming a team other than the story's",
                                   f"Story prompts answered with another team, {m['n_seeds']} RL seeds (dots)"),
        "fluency": per_seed_bars("fluent_rate_per_seed", "share the fluency guard passes",
                                 f"Fluent share of the bare-prompt headlines, {m['n_seeds']} RL seeds (dots)"),
        "framing": per_seed_bars("story_sentiment_per_seed", "mean sentiment at a given story (VADER, -1 to 1)",
                                 f"Sentiment of RL policies writing a given team's story, {m['n_seeds']} RL seeds "
                                 "(dots)"),
        "correlation": viz.seed_bars(
            {METHOD_LABELS[method]: {setting: res[setting][method]["reward_sentiment_corr_per_replicate"]
                                     for setting in settings} for method in methods},
            ylabel="corr(reward, s(T)) on held-out stories",
            title=f"Reward models' correlation with s(T), {m['reward_replicates']} data draws (dots)",
            colors=colors),
        "lambda_sweep": viz.lines(
            lam["lambda"], {f"{method}": lam["proxy" if "proxy" in lam else settings[-1]][f"{method}_corr"]
                            for method in ("feature", "iv")},
            labels={"feature": "confounder as feature", "iv": "DeconfoundLM-IV"},
            xlabel="ridge penalty lambda (log scale)", ylabel="held-out corr(reward, s(T))",
            title=f"Held-out correlation by ridge penalty, {'proxy' if 'proxy' in lam else settings[-1]} setting",
            logx=True),
        "reward_scale": viz.lines(
            lam["lambda"], {method: lam["entangled" if "entangled" in lam else settings[0]][f"{method}_score_sd"]
                            for method in ("feature", "iv")},
            labels={"feature": "confounder as feature", "iv": "DeconfoundLM-IV"},
            xlabel="ridge penalty lambda (log scale)", ylabel="SD of the reward on training headlines",
            title="Reward scale by ridge penalty (before standardising)", logx=True),
        "beta_sweep": beta_sweep_figure(sweep),
        "dag": viz.news_dag(proxy=True),
        "pipeline": viz.deconfoundlm_pipeline(),
    }


def beta_sweep_figure(sweep: dict, at: float | None = None):
    """Held-out correlation with s(T) of the naive and IV rewards, and of y itself, by beta;
    ``at`` marks one beta of the sweep."""
    from dclm import viz

    return viz.lines(
        sweep["beta"], {"naive": sweep["corr_naive"], "iv": sweep["corr_iv"], "truth": sweep["corr_y"]},
        labels={"naive": "naive reward", "iv": "DeconfoundLM-IV reward", "truth": "outcome y itself"},
        xlabel="beta: outcome units per SD of popularity (log scale; 0 at the left)",
        ylabel="correlation with s(T)",
        title="Entangled setting: correlation with s(T) by beta" + (f" (marked: beta = {at:g})" if at is not None
                                                                      else ""),
        logx=True, at=at)


def explore_beta(result, beta: float = 1.0):
    """Chapter 5's slider: the beta sweep read at one of its betas."""
    return beta_sweep_figure(result.metrics["beta_sweep"], at=beta)
