"""Reward-model figures: the ridge penalty's curves and choices, model scale, advantage maps (chapters 4-6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from dclm.viz.style import OKABE_ITO, STYLE, color


def lambda_curves(lambdas: Sequence[float], val_mse: Sequence[float], test_auc: Sequence[float],
                  lambda_val_opt: float, lambda_test_opt: float, reported: tuple[float, float] | None,
                  title: str, at: float | None = None) -> Figure:
    """Validation MSE (top) and experimental test AUC (bottom) against lambda, optima marked.

    ``reported`` (validation, test) optima from elsewhere are drawn as grey dotted lines; ``at``
    (one of ``lambdas``) marks that penalty's two values.
    """
    if at is not None and at not in list(lambdas):
        raise ValueError(f"at={at!r} is not one of the grid's penalties")
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
        if at is not None:
            i = list(lambdas).index(at)
            top.plot([at], [val_mse[i]], "o", markersize=11, color=color("validation"), alpha=0.45)
            bottom.plot([at], [test_auc[i]], "o", markersize=11, color=color("experimental"), alpha=0.45,
                        label=f"lambda = {at:,.0f}: MSE {val_mse[i]:.4g}, AUC {test_auc[i]:.3f}")
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


def advantage_map(x: Sequence[float | str], y: Sequence[float | str], difference: np.ndarray, significant: np.ndarray,
                  xlabel: str, ylabel: str, title: str, colorbar_label: str, failed: np.ndarray | None = None,
                  failed_label: str = "(both fail)") -> Figure:
    """A heatmap of ``difference[i_y, i_x]`` (diverging, 0 white); a star where ``significant``,
    ``failed_label`` under the number where ``failed``. ``x`` and ``y`` may be numbers or labels."""
    difference = np.asarray(difference, dtype=float)
    failed = np.zeros(difference.shape, dtype=bool) if failed is None else np.asarray(failed, dtype=bool)
    bound = float(np.nanmax(np.abs(difference))) or 1.0
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(max(6.4, 0.75 * len(x) + 3.2), max(4.4, 0.45 * len(y) + 1.4)))
        image = ax.imshow(difference, origin="lower", cmap="PuOr", vmin=-bound, vmax=bound, aspect="auto")
        for (i, j), mark in np.ndenumerate(np.asarray(significant)):
            ax.text(j, i, f"{difference[i, j]:+.2f}" + ("*" if mark else "") + (f"\n{failed_label}" if failed[i, j] else ""),
                    ha="center", va="center", fontsize=8 if not failed[i, j] else 7)
        labels = [v if isinstance(v, str) else f"{v:g}" for v in x]
        # Many named columns do not fit side by side: slant them.
        slant = {"rotation": 35, "ha": "right", "rotation_mode": "anchor"} if len(x) > 5 and any(
            isinstance(v, str) for v in x) else {}
        ax.set_xticks(np.arange(len(x)), labels, **slant)
        ax.set_yticks(np.arange(len(y)), [v if isinstance(v, str) else f"{v:g}" for v in y])
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
