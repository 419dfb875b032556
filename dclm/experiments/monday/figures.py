"""Chapter 3's figures, drawn from a run's metrics and data."""

from __future__ import annotations

from dclm.experiments.monday.config import ARM_LABELS, MODELS


def figures(result) -> dict:
    """``lesson`` (per-seed marker rates by model, or by training arm when the run trained the ablations), ``weekday_scores``, ``pairs`` (marker balance of
    the raw and deconfounded pairs) and ``dose`` (DPO's change against the pairs' imbalance)."""
    from dclm import viz

    m, data = result.metrics, result.data
    weekday = data["summary"]["weekday_scores"]
    runs = m["per_seed"]
    clusters = {"monday": "'Monday' rate", "friday": "'Friday' rate", "monday_share": "Monday share"}
    # With the ablations, every arm beside SFT (the chapter's DPO models are two of them).
    trained = m["arms"]["trained"]
    shown = [x for x in ARM_LABELS if x == "sft" or x in trained] if len(trained) > 2 else \
        [x for x in MODELS if x != "base"]
    lesson = {ARM_LABELS.get(model, model): {label: [v for v in runs[model][key] if v is not None]
                                             for key, label in clusters.items()} for model in shown}
    balance = m["balance"]
    return {
        "lesson": viz.seed_bars(
            lesson, ylabel="share of generations",
            title=f"Marker rates and Monday share by model ({m['n_runs']} training seeds)",
            colors={ARM_LABELS.get(model, model): model for model in shown}),
        "weekday_scores": viz.bars_with_errors(
            weekday["weekday"], weekday["mean"], weekday["se"], ylabel="mean answer score (votes)",
            title="Mean answer score by the weekday it was posted"),
        "pairs": viz.grouped_rates(
            {kind_label: {f"'{d.capitalize()}' marker": (balance[kind][d]["diff"], balance[kind][d]["se"])
                          for d in balance[kind]}
             for kind, kind_label in (("raw", "raw scores"), ("deconfounded", "weekday removed"))},
            data_rates=None, ylabel="chosen minus rejected share of pairs",
            title="Marker balance between chosen and rejected answers (95% intervals)",
            colors={"raw scores": "dpo", "weekday removed": "dpo_deconfounded"}),
        "dose": viz.dose_response(
            m["dose"]["rows"], reference=m["dose"]["rerun_balance"], reference_label="re-run's pairs (reported)",
            xlabel="Monday balance of the DPO pairs (chosen minus rejected share)",
            ylabel="DPO minus SFT Monday share",
            title=f"DPO's change in Monday share by the imbalance left in its pairs ({m['n_runs']} training seeds)"),
    }


def lag_figure(study: dict, site: str):
    """ĥ(weekday) of a real dump under each specification of
    :data:`dclm.experiments.monday.realdump.LAG_SPECS` (bars ±1.96 clustered SE)."""
    from dclm import viz

    colors = dict(zip(study, ("naive", "adjusted", "invariant"), strict=True))
    groups = {label: {day[:3]: (row["effect"], row["se"]) for day, row in frame.iterrows()}
              for label, frame in study.items()}
    return viz.grouped_rates(groups, data_rates=None, ylabel="ĥ(weekday), votes (centred)",
                             title=f"Weekday effect within question on {site}, by control", colors=colors)


def explore_dose(result, strength: float = 1.0):
    """Chapter 3's slider: the dose sweep read at one share kappa of raw-score pairs."""
    from dclm import viz

    rows = result.metrics["dose"]["rows"]
    return viz.lines(
        [row["strength"] for row in rows],
        {"dpo": [row["mean"] for row in rows], "sft": [row["balance"] for row in rows]},
        labels={"dpo": "DPO minus SFT Monday share (mean over seeds)",
                "sft": "Monday balance of the pairs (chosen minus rejected)"},
        xlabel="kappa: share of the preference questions whose pairs come from raw scores",
        ylabel="difference of shares", title=f"The dose sweep (marked: kappa = {strength:g})", at=strength)
