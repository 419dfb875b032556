"""Bars and lines over seeds and models: marker rates, per-seed bars, dose-response, bands (chapters 3-6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from dclm.viz.style import STYLE, color, fit_category_labels


def lines(x: Sequence[float], series: Mapping[str, Sequence[float]], labels: Mapping[str, str],
          xlabel: str, ylabel: str, title: str, logx: bool = False, at: float | None = None) -> Figure:
    """One line per method (keys are colour names); ``logx`` uses a symmetric log axis so 0 fits.

    ``at`` (one of ``x``) marks that point of every line and puts its values in the legend: what
    a chapter's slider over a sweep shows.
    """
    if at is not None and at not in list(x):
        raise ValueError(f"at={at!r} is not one of the sweep's points {list(x)}")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for name, values in series.items():
            label = labels.get(name, name)
            if at is not None:
                value = list(values)[list(x).index(at)]
                label = f"{label}: {value:.3f}"
                ax.plot([at], [value], marker="o", markersize=11, color=color(name), alpha=0.45, zorder=1)
            ax.plot(x, values, marker="o", color=color(name), label=label)
        if at is not None:
            ax.axvline(at, color="grey", linestyle=":", zorder=0)
        if logx:
            positive = [v for v in x if v > 0]
            ax.set_xscale("symlog", linthresh=min(positive) if positive else 1.0)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend()
        fig.tight_layout()
    plt.close(fig)
    return fig


def cluster_positions(n_clusters: int, n_groups: int) -> tuple[float, list[np.ndarray]]:
    """Bar width and each group's x positions for grouped bars (groups side by side in each cluster)."""
    width = 0.8 / n_groups
    return width, [np.arange(n_clusters) + (i - (n_groups - 1) / 2) * width for i in range(n_groups)]


def grouped_rates(groups: Mapping[str, Mapping[str, tuple[float | None, float | None]]],
                  data_rates: Mapping[str, float] | None, ylabel: str, title: str,
                  colors: Mapping[str, str] | None = None) -> Figure:
    """Grouped bars: one colour per group (model), one cluster per label, ±1.96 SE whiskers.

    ``groups`` maps group -> label -> (value, se or None). ``data_rates`` (label -> rate) are
    drawn as dashed reference lines over their cluster.
    """
    labels = list(next(iter(groups.values())))
    width, positions = cluster_positions(len(labels), len(groups))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.8, 3.8))
        for xs, (group, values) in zip(positions, groups.items(), strict=True):
            heights = [values[label][0] if values[label][0] is not None else np.nan for label in labels]
            # No standard error, no whisker (a zero-length one would still draw its caps).
            errors = [1.96 * values[label][1] if values[label][1] is not None else np.nan for label in labels]
            ax.bar(xs, heights, width * 0.95, yerr=None if np.isnan(errors).all() else errors, capsize=3,
                   label=group, color=color((colors or {}).get(group, group)))
        for j, label in enumerate(labels):
            if data_rates and label in data_rates:
                ax.hlines(data_rates[label], j - 0.45, j + 0.45, colors="black", linestyles="--",
                          label="rate in the SFT data" if j == 0 else None)
        ax.set_xticks(np.arange(len(labels)), labels)
        ax.set(ylabel=ylabel, title=title)
        ax.legend(fontsize=8)
        fit_category_labels(fig, ax, labels)
    plt.close(fig)
    return fig


def bars_with_errors(labels: Sequence[str], values: Sequence[float], ses: Sequence[float], ylabel: str,
                     title: str, color_name: str = "naive") -> Figure:
    """Bars with ±1.96 SE whiskers, one per label."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.4))
        ax.bar(labels, values, yerr=1.96 * np.asarray(ses), capsize=3, color=color(color_name))
        low = min(v - 2 * s for v, s in zip(values, ses, strict=True))
        ax.set_ylim(bottom=max(0.0, low - 0.1 * abs(low)))
        ax.set(ylabel=ylabel, title=title)
        fit_category_labels(fig, ax, list(labels))
    plt.close(fig)
    return fig


def seed_bars(groups: Mapping[str, Mapping[str, Sequence[float]]], ylabel: str, title: str,
              colors: Mapping[str, str] | None = None) -> Figure:
    """Grouped bars of the mean over seeds, a 95% t interval across seeds, and each seed as a dot.

    ``groups`` maps a method label to cluster label -> per-seed values.
    """
    from dclm.stats import seed_interval

    labels = list(next(iter(groups.values())))
    width, positions = cluster_positions(len(labels), len(groups))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 3.9))
        for xs, (group, values) in zip(positions, groups.items(), strict=True):
            shade = color((colors or {}).get(group, group))
            means = [float(np.mean(values[label])) for label in labels]
            intervals = [seed_interval(values[label]) for label in labels]
            errors = np.array([[m - lo for m, (lo, _) in zip(means, intervals, strict=True)],
                               [hi - m for m, (_, hi) in zip(means, intervals, strict=True)]])
            ax.bar(xs, means, width * 0.95, yerr=np.nan_to_num(errors), capsize=3, label=group, color=shade,
                   alpha=0.75)
            for x, label in zip(xs, labels, strict=True):
                ax.plot([x] * len(values[label]), values[label], "o", color="black", markersize=2.5)
        ax.set_xticks(np.arange(len(labels)), labels)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set(ylabel=ylabel, title=title)
        ax.legend(fontsize=8, ncols=2, loc="best")
        fig.tight_layout()
    plt.close(fig)
    return fig


def dose_response(rows: Sequence[Mapping], reference: float | None, reference_label: str, xlabel: str,
                  ylabel: str, title: str) -> Figure:
    """Each row's per-seed values (dots) at its ``balance`` (with its interval as a horizontal
    bar), their mean with a 95% interval, and a dashed vertical line at ``reference``."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 3.9))
        for row in rows:
            if row["low"] is None:  # fewer than two seeds with a Monday share: no interval
                continue
            x = row["balance"]
            ax.plot([x] * len(row["amplification"]), row["amplification"], "o", color="black", markersize=3,
                    alpha=0.6)
            ax.errorbar([x], [row["mean"]], yerr=[[row["mean"] - row["low"]], [row["high"] - row["mean"]]],
                        xerr=[[x - row["balance_low"]], [row["balance_high"] - x]], fmt="s",
                        color=color("dpo"), capsize=3, markersize=6)
            ax.annotate(f"κ = {row['strength']:g} ({row['pairs']})", (x, row["high"]), textcoords="offset points",
                        xytext=(4, 6), fontsize=8)
        if reference is not None:
            ax.axvline(reference, color="gray", linestyle="--", linewidth=1)
            ax.annotate(reference_label, (reference, 0), textcoords="offset points", xytext=(4, -14), fontsize=8,
                        color="gray")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.margins(x=0.15, y=0.15)  # room for the labels beside the outermost points
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        fig.tight_layout()
    plt.close(fig)
    return fig


def band_lines(x: Sequence[float], series: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float], str]],
               xlabel: str, ylabel: str, title: str, logx: bool = False, zero: bool = False) -> Figure:
    """One line per label with a shaded 95% band: ``series`` maps label -> (values, low, high,
    colour name). ``zero`` draws the reference line y = 0. Introduced in chapter 6."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for label, (values, low, high, name) in series.items():
            ax.plot(x, values, marker="o", color=color(name), label=label)
            ax.fill_between(x, low, high, color=color(name), alpha=0.2, linewidth=0)
        if zero:
            ax.axhline(0, color="black", linewidth=0.8)
        if logx:
            ax.set_xscale("log")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend(fontsize=8)
        fig.tight_layout()
    plt.close(fig)
    return fig
