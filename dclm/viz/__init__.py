"""One figure style for the whole book: a fixed, colour-blind-safe colour per method and model.

Every chapter draws through these functions so "naive" is the same orange on every page.
Styles are applied per figure (``plt.rc_context``), never globally at import.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

# Okabe & Ito (2008) palette: distinguishable with the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
    "grey": "#999999",
}

COLORS: dict[str, str] = {
    # estimators and reward models
    "naive": OKABE_ITO["orange"],
    "feature": OKABE_ITO["purple"],
    "adjusted": OKABE_ITO["blue"],
    "iv": OKABE_ITO["blue"],
    "invariant": OKABE_ITO["green"],
    "oracle": OKABE_ITO["black"],
    "truth": OKABE_ITO["grey"],
    # selection criteria (Upworthy chapter)
    "validation": OKABE_ITO["orange"],
    "experimental": OKABE_ITO["blue"],
    "reported": OKABE_ITO["grey"],
    # policies
    "base": OKABE_ITO["grey"],
    "sft": OKABE_ITO["sky"],
    "dpo": OKABE_ITO["vermillion"],
    "dpo_deconfounded": OKABE_ITO["blue"],
}

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}


def color(name: str) -> str:
    """The book's colour for a method or model; unknown names are a ``KeyError`` listing valid ones."""
    try:
        return COLORS[name]
    except KeyError:
        raise KeyError(f"no colour for {name!r}; known: {', '.join(COLORS)}") from None


def overlapping_tick_labels(fig: Figure, pad: float = 2.0) -> list[tuple[str, str]]:
    """Neighbouring tick labels whose drawn text overlaps, on any axes of ``fig``.

    Returns ``(left, right)`` (or ``(lower, upper)``) pairs of label texts; empty when every
    label can be read. Measured from the rendered text extents in display pixels, x and y axes
    alike, with ``pad`` pixels of air required between neighbours; labels of ticks outside
    the axis limits (never drawn) are left out. The figure tests of every chapter's figures
    assert it is empty.
    """
    renderer = _renderer(fig)
    pairs = []
    for ax in fig.axes:
        if not ax.axison:  # a drawing (draw_dag) shows no ticks
            continue
        for along, labels, limits in ((0, ax.get_xticklabels(), ax.get_xlim()), (1, ax.get_yticklabels(), ax.get_ylim())):
            low, high = sorted(limits)
            drawn = [(label.get_window_extent(renderer), label.get_text()) for label in labels
                     if label.get_visible() and label.get_text().strip()
                     and low <= label.get_position()[along] <= high]
            drawn.sort(key=lambda box_text: (box_text[0].x0, box_text[0].y0)[along])
            for (box, text), (next_box, next_text) in itertools.pairwise(drawn):
                if box.padded(pad / 2).overlaps(next_box.padded(pad / 2)):
                    pairs.append((text, next_text))
    return pairs


def _renderer(fig: Figure):
    # A figure closed with plt.close keeps a bare canvas that cannot draw; Agg measures text
    # exactly as the PNG that a page shows.
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _fit_category_labels(fig: Figure, ax, labels: Sequence[str]) -> None:
    """Wrap the x category labels onto 2, 3, then 4 lines, then set them smaller, until
    neighbours stop overlapping.

    Long labels ("orthogonal: top team") collide when there are several clusters; wrapping at
    word boundaries keeps them horizontal and readable (turned labels would squeeze the plot).
    """
    fig.tight_layout()
    attempts = [(lines, None) for lines in (2, 3, 4)] + [(4, size) for size in (8, 7)]
    for lines, size in attempts:
        if not overlapping_tick_labels(fig):
            return
        wrapped = [textwrap.fill(label, max(1, math.ceil(len(label) / lines)), break_long_words=False)
                   for label in labels]
        ax.set_xticks(ax.get_xticks(), wrapped, **({"fontsize": size} if size else {}))
        fig.tight_layout()


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


def draw_dag(nodes: Mapping[str, tuple[float, float]], edges: Sequence[tuple[str, str]],
             dashed: Sequence[tuple[str, str]] = (), title: str = "") -> Figure:
    """A small causal graph: labelled circles and arrows; ``dashed`` edges are the questioned ones."""
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(4.8, 3.0))
        for name, (x, y) in nodes.items():
            ax.text(x, y, name, ha="center", va="center", fontsize=10, zorder=3,
                    bbox={"boxstyle": "circle,pad=0.6", "facecolor": "white", "edgecolor": "black"})
        for src, dst in edges:
            (x0, y0), (x1, y1) = nodes[src], nodes[dst]
            ax.add_patch(FancyArrowPatch(
                (x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14, shrinkA=28, shrinkB=28,
                linestyle="--" if (src, dst) in dashed else "-", color="black", zorder=2,
            ))
        xs = [p[0] for p in nodes.values()]
        ys = [p[1] for p in nodes.values()]
        ax.set(xlim=(min(xs) - 0.3, max(xs) + 0.3), ylim=(min(ys) - 0.35, max(ys) + 0.35), title=title)
        ax.axis("off")
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


def lines(x: Sequence[float], series: Mapping[str, Sequence[float]], labels: Mapping[str, str],
          xlabel: str, ylabel: str, title: str, logx: bool = False) -> Figure:
    """One line per method (keys are colour names); ``logx`` uses a symmetric log axis so 0 fits."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for name, values in series.items():
            ax.plot(x, values, marker="o", color=color(name), label=labels.get(name, name))
        if logx:
            positive = [v for v in x if v > 0]
            ax.set_xscale("symlog", linthresh=min(positive) if positive else 1.0)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend()
        fig.tight_layout()
    plt.close(fig)
    return fig


def grouped_rates(groups: Mapping[str, Mapping[str, tuple[float | None, float | None]]],
                  data_rates: Mapping[str, float] | None, ylabel: str, title: str,
                  colors: Mapping[str, str] | None = None) -> Figure:
    """Grouped bars: one colour per group (model), one cluster per label, ±1.96 SE whiskers.

    ``groups`` maps group -> label -> (value, se or None). ``data_rates`` (label -> rate) are
    drawn as dashed reference lines over their cluster.
    """
    labels = list(next(iter(groups.values())))
    width = 0.8 / len(groups)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.8, 3.8))
        for i, (group, values) in enumerate(groups.items()):
            xs = np.arange(len(labels)) + (i - (len(groups) - 1) / 2) * width
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
        _fit_category_labels(fig, ax, labels)
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
        _fit_category_labels(fig, ax, list(labels))
    plt.close(fig)
    return fig


def lambda_curves(lambdas: Sequence[float], val_mse: Sequence[float], test_auc: Sequence[float],
                  lambda_val_opt: float, lambda_test_opt: float, reported: tuple[float, float] | None,
                  title: str) -> Figure:
    """Validation MSE (top) and experimental test AUC (bottom) against lambda, optima marked.

    ``reported`` (validation, test) optima from elsewhere are drawn as grey dotted lines.
    """
    with plt.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.8, 5.2), sharex=True)
        top.plot(lambdas, val_mse, marker=".", color=color("validation"))
        top.set(ylabel="validation MSE\n(observational rows)", xscale="log")
        bottom.plot(lambdas, test_auc, marker=".", color=color("experimental"))
        bottom.set(ylabel="test ROC-AUC\n(experimental pairs)", xlabel="ridge penalty lambda (log scale)")
        for ax in (top, bottom):
            ax.axvline(lambda_val_opt, color=color("validation"), linestyle="--",
                       label=f"picked by validation MSE ({lambda_val_opt:,.0f})")
            ax.axvline(lambda_test_opt, color=color("experimental"), linestyle="--",
                       label=f"best on the experiment ({lambda_test_opt:,.0f})")
            if reported is not None:
                for value in reported:
                    ax.axvline(value, color=color("reported"), linestyle=":")
        if reported is not None:
            bottom.plot([], [], color=color("reported"), linestyle=":",
                        label=f"arXiv v1 (reported): {reported[0]:,.0f} and {reported[1]:,.0f}")
        bottom.legend(fontsize=8, loc="lower left")
        top.set_title(title)
        fig.tight_layout()
    plt.close(fig)
    return fig


def lambda_choices(lambda_val_opt: Sequence[float], lambda_test_opt: Sequence[float], title: str) -> Figure:
    """One point per split: the lambda validation MSE picks against the one test AUC prefers."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.8, 4.4))
        low = min(min(lambda_val_opt), min(lambda_test_opt)) / 2
        high = max(max(lambda_val_opt), max(lambda_test_opt)) * 2
        ax.plot([low, high], [low, high], color=color("truth"), linestyle="--", label="equal")
        jitter = np.exp(np.random.default_rng(0).uniform(-0.06, 0.06, len(lambda_val_opt)))
        ax.scatter(np.asarray(lambda_val_opt) * jitter, lambda_test_opt, color=color("experimental"), zorder=3,
                   label="one split (small horizontal jitter)")
        ax.set(xscale="log", yscale="log", xlim=(low, high), ylim=(low, high),
               xlabel="lambda picked by validation MSE", ylabel="lambda best on the experimental test",
               title=title)
        ax.legend(fontsize=8, loc="upper left")
        fig.tight_layout()
    plt.close(fig)
    return fig


def scale_curves(lambdas: Sequence[float], test_auc_by_model: Mapping[str, Sequence[float]]) -> Figure:
    """Test AUC against lambda, one line per embedding model, each model's optimum marked."""
    palette = list(OKABE_ITO.values())[1:]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.8, 3.8))
        for i, (model, values) in enumerate(test_auc_by_model.items()):
            shade = palette[i % len(palette)]
            ax.plot(lambdas, values, color=shade, label=model.split("/")[-1])
            best = int(np.argmax(values))
            ax.plot(lambdas[best], values[best], "o", color=shade)
        ax.set(xscale="log", xlabel="ridge penalty lambda (log scale)", ylabel="test ROC-AUC",
               title="Larger embedding models: where does the test optimum sit?")
        ax.legend(fontsize=8)
        fig.tight_layout()
    plt.close(fig)
    return fig


def news_dag(hidden: bool = False, proxy: bool = False) -> Figure:
    """The book's one graph for the news story (chapters 2, 5, 6), drawn the same everywhere.

    Z (region) -> p (popularity) -> y (clicks) <- s(T) (text); s(T) -> p dashed: present in the
    entangled setting only. ``hidden`` adds an unobserved U -> p, U -> y; ``proxy`` adds the
    logged proxy p~ of p.
    """
    nodes = {"Z\nregion": (0.0, 1.0), "p\npopularity": (1.0, 1.0), "s(T)\ntext": (1.0, 0.0),
             "y\nclicks": (2.0, 0.5)}
    edges = [("Z\nregion", "p\npopularity"), ("p\npopularity", "y\nclicks"), ("s(T)\ntext", "y\nclicks"),
             ("s(T)\ntext", "p\npopularity")]
    if hidden:
        nodes["U\nunobserved"] = (2.0, 1.6)
        edges += [("U\nunobserved", "p\npopularity"), ("U\nunobserved", "y\nclicks")]
    if proxy:
        nodes["p~\nlogged"] = (0.0, 0.0)
        edges.append(("p\npopularity", "p~\nlogged"))
    title = "Z -> p -> y <- s(T); s(T) -> p (dashed) when entangled"
    return draw_dag(nodes, edges, dashed=[("s(T)\ntext", "p\npopularity")], title=title)


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


def seed_bars(groups: Mapping[str, Mapping[str, Sequence[float]]], ylabel: str, title: str,
              colors: Mapping[str, str] | None = None) -> Figure:
    """Grouped bars of the mean over seeds, a 95% t interval across seeds, and each seed as a dot.

    ``groups`` maps a method label to cluster label -> per-seed values.
    """
    from dclm.stats import seed_interval

    labels = list(next(iter(groups.values())))
    width = 0.8 / len(groups)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 3.9))
        for i, (group, values) in enumerate(groups.items()):
            xs = np.arange(len(labels)) + (i - (len(groups) - 1) / 2) * width
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


def advantage_map(x: Sequence[float], y: Sequence[float], difference: np.ndarray, significant: np.ndarray,
                  xlabel: str, ylabel: str, title: str, colorbar_label: str) -> Figure:
    """A heatmap of ``difference[i_y, i_x]`` (diverging, 0 white); a dot where ``significant``."""
    difference = np.asarray(difference, dtype=float)
    bound = float(np.nanmax(np.abs(difference))) or 1.0
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        image = ax.imshow(difference, origin="lower", cmap="PuOr", vmin=-bound, vmax=bound, aspect="auto")
        for (i, j), mark in np.ndenumerate(np.asarray(significant)):
            ax.text(j, i, f"{difference[i, j]:+.2f}" + ("*" if mark else ""), ha="center", va="center", fontsize=8)
        ax.set_xticks(np.arange(len(x)), [f"{v:g}" for v in x])
        ax.set_yticks(np.arange(len(y)), [f"{v:g}" for v in y])
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        fig.colorbar(image, ax=ax, label=colorbar_label)
        fig.tight_layout()
    plt.close(fig)
    return fig


def reward_scale(lambdas: Sequence[float], reward_sd: Sequence[float], lambda_val_opt: float,
                 lambda_test_opt: float) -> Figure:
    """The spread of a ridge reward over test texts against its penalty (log-log), with a 1/λ
    reference through the last point and both λ choices marked. Introduced in chapter 4."""
    lambdas, reward_sd = np.asarray(lambdas, dtype=float), np.asarray(reward_sd, dtype=float)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        ax.plot(lambdas, reward_sd, marker=".", color=color("naive"), label="reward SD over test packages")
        ax.plot(lambdas, reward_sd[-1] * lambdas[-1] / lambdas, color=color("reported"), linestyle=":",
                label="proportional to 1/lambda")
        ax.axvline(lambda_val_opt, color=color("validation"), linestyle="--",
                   label=f"picked by validation MSE ({lambda_val_opt:,.0f})")
        ax.axvline(lambda_test_opt, color=color("experimental"), linestyle="--",
                   label=f"best on the experiment ({lambda_test_opt:,.0f})")
        ax.set(xscale="log", yscale="log", xlabel="ridge penalty lambda (log scale)",
               ylabel="reward SD (CTR units, log scale)",
               title="Reward spread of the observational ridge against its penalty")
        ax.legend(fontsize=8, loc="lower left")
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
