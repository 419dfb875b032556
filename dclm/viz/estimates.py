"""Figures of estimates against a truth: sweeps, distributions over Monte Carlo draws, dot-and-whisker
plots (chapters 1, 2 and 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from dclm.viz.style import STYLE, color


def estimate_sweep(x: Sequence[float], series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                   truth: float | None, xlabel: str, ylabel: str, title: str) -> Figure:
    """Estimates with 95% error bars against a swept parameter, one colour per method."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        offsets = np.linspace(-0.03, 0.03, len(series)) * (max(x) - min(x) if len(x) > 1 else 1)
        for (name, (values, ses)), dx in zip(series.items(), offsets, strict=True):
            ax.errorbar(np.asarray(x) + dx, values, yerr=1.96 * np.asarray(ses), marker="o",
                        capsize=3, color=color(name), label=name)
        if truth is not None:
            ax.axhline(truth, color=color("truth"), linestyle="--", label=f"true effect ({truth:g})")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend()
        fig.tight_layout()
    plt.close(fig)
    return fig


def scatter_by_group(x: Sequence[float], y: Sequence[float], group: Sequence[int],
                     labels: Mapping[int, str], xlabel: str, ylabel: str, title: str) -> Figure:
    """A scatter plot coloured by a binary group (1 in the 'naive' colour, 0 in grey)."""
    x, y, group = np.asarray(x), np.asarray(y), np.asarray(group)
    palette = {1: color("naive"), 0: color("truth")}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for value in (0, 1):
            mask = group == value
            ax.scatter(x[mask], y[mask], s=10, alpha=0.6, color=palette[value], label=labels[value])
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend()
        fig.tight_layout()
    plt.close(fig)
    return fig


def estimate_distributions(panels: Mapping[str, Mapping[str, Sequence[float]]], methods: Mapping[str, str],
                           truth: float, xlabel: str, title: str) -> Figure:
    """One panel per setting: histograms of each estimator's Monte Carlo draws, truth dashed.

    ``methods`` maps the keys inside each panel to colour names (e.g. ``{"ols": "naive"}``).
    """
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(panels), figsize=(7.2, 3.2), sharey=True, sharex=True)
        axes = np.atleast_1d(axes)
        everything = np.concatenate([np.asarray(p[m]) for p in panels.values() for m in methods])
        bins = np.linspace(np.percentile(everything, 0.5), np.percentile(everything, 99.5), 40)
        for ax, (panel, draws) in zip(axes, panels.items(), strict=True):
            for key, colour_name in methods.items():
                ax.hist(draws[key], bins=bins, alpha=0.6, color=color(colour_name), label=key.upper())
            ax.axvline(truth, color=color("truth"), linestyle="--", label=f"truth ({truth:g})")
            ax.set(title=panel, xlabel=xlabel)
        axes[0].set_ylabel("draws")
        axes[0].legend()
        fig.suptitle(title, fontsize=11)
        fig.tight_layout()
    plt.close(fig)
    return fig


def weak_instrument_bias(weak: Mapping[str, Sequence[float]]) -> Figure:
    """Median bias of 2SLS (with its interquartile range) against the median first-stage F."""
    f = np.asarray(weak["median_f"])
    bias = np.asarray(weak["median_bias_iv"])
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        ax.errorbar(f, bias, yerr=np.asarray(weak["iqr_iv"]) / 2, marker="o", capsize=3,
                    color=color("iv"), label="2SLS (median, ± half the IQR)")
        ax.plot(f, weak["median_bias_ols"], marker="s", color=color("naive"), label="OLS")
        ax.axhline(0, color=color("truth"), linestyle="--")
        ax.axvline(10, color="black", linestyle=":", label="F = 10 rule of thumb")
        ax.set_xscale("log")
        ax.set(xlabel="median first-stage F (log scale)", ylabel="median bias of the estimate",
               title="Weak instruments pull 2SLS towards OLS; F > 10 keeps it near the truth")
        ax.legend()
        fig.tight_layout()
    plt.close(fig)
    return fig


def dot_whisker(labels: Sequence[str], values: Sequence[float], intervals: Sequence[Sequence[float]],
                truth: float | None, color_name: str | Sequence[str], xlabel: str, title: str,
                width: float = 6.4, row_height: float = 0.6, label_size: float | None = None,
                truth_label: str | None = None) -> Figure:
    """Point estimates with intervals ``[low, high]``, one row per label, truth dashed (labelled
    ``truth_label`` when the dashed line is a reference rather than a truth)."""
    names = [color_name] * len(labels) if isinstance(color_name, str) else list(color_name)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, row_height * len(labels) + 1.6))
        rows = np.arange(len(labels))[::-1]
        for row, value, (low, high), name in zip(rows, values, intervals, names, strict=True):
            ax.plot([low, high], [row, row], color=color(name), linewidth=2)
            ax.plot(value, row, "o", color=color(name))
        if truth is not None:
            ax.axvline(truth, color=color("truth"), linestyle="--", label=truth_label or f"truth ({truth:g})")
            ax.legend(loc="best")
        ax.set_yticks(rows, labels, fontsize=label_size)
        ax.set(xlabel=xlabel, title=title)
        fig.tight_layout()
    plt.close(fig)
    return fig


def dot_whisker_panels(panels: Mapping[str, Mapping[str, Sequence[float]]], labels: Mapping[str, str],
                       truth: float | None, xlabel: str, title: str) -> Figure:
    """One row per panel and method: the mean of the draws with their 2.5-97.5% range.

    ``panels`` maps a panel label to method (a colour name) -> draws (Monte Carlo or seeds).
    """
    rows, names, means, ranges = [], [], [], []
    for panel, methods in panels.items():
        for method, draws in methods.items():
            values = np.asarray(draws, dtype=float)
            rows.append(f"{panel}\n{labels.get(method, method)}")
            names.append(method)
            means.append(float(values.mean()))
            ranges.append([float(q) for q in np.percentile(values, [2.5, 97.5])])
    return dot_whisker(rows, means, ranges, truth, names, xlabel, title, width=7.2, row_height=0.42, label_size=8)


def sensitivity_contour(grid: Sequence[float], adjusted: Sequence[Sequence[float]], points: Mapping[str, tuple[float, float]],
                        title: str) -> Figure:
    """Bias-adjusted estimates over confounder strengths: ``adjusted[i][j]`` at partial R²
    ``grid[j]`` with the treatment (x) and ``grid[i]`` with the outcome (y); the 0 contour
    dashed, and named ``points`` (x, y) marked."""
    values = np.asarray(adjusted, dtype=float)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 5.0))
        lines = ax.contour(grid, grid, values, levels=8, colors=color("truth"), linewidths=0.8)
        ax.clabel(lines, fmt="%.2f", fontsize=8)
        if values.min() < 0 < values.max():
            ax.contour(grid, grid, values, levels=[0.0], colors=color("naive"), linewidths=1.6, linestyles="--")
            ax.plot([], [], color=color("naive"), linestyle="--", label="explained away (0)")
        for (label, (x, y)), name in zip(points.items(), ("iv", "oracle", "feature"), strict=False):
            ax.plot(x, y, "o" if name == "iv" else "^", color=color(name), markersize=8, label=label)
        ax.set(xlabel="partial R² of the confounder with the treatment",
               ylabel="partial R² of the confounder with the outcome", title=title)
        ax.grid(False)
        fig.legend(loc="lower center", ncol=min(3, len(points) + 1), fontsize=8)
        fig.tight_layout(rect=(0, 0.07, 1, 1))
    plt.close(fig)
    return fig
