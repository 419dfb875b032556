"""The book's figure style: a fixed colour-blind-safe colour per method and model, the rc style, and the
label checks every figure passes (tick labels that overlap, category labels wrapped until they fit).
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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
    # chapter 5's published baselines: the palette's remaining colours (sky and vermillion
    # belong to other chapters' policies, so within chapter 5 they are unambiguous)
    "calibrated": OKABE_ITO["sky"],
    "two_head": OKABE_ITO["vermillion"],
    "mmd": OKABE_ITO["yellow"],
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
    # chapter 3's training arms (the anchored ones are the chapter's dpo and dpo_deconfounded)
    "sft_chosen": OKABE_ITO["green"],
    "dpo_plain": OKABE_ITO["yellow"],
    "dpo_anchored": OKABE_ITO["vermillion"],
    "dpo_plain_deconfounded": OKABE_ITO["purple"],
    "dpo_anchored_deconfounded": OKABE_ITO["blue"],
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
    renderer = text_renderer(fig)
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


def text_renderer(fig: Figure):
    # A figure closed with plt.close keeps a bare canvas that cannot draw; Agg measures text
    # exactly as the PNG that a page shows.
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def fit_category_labels(fig: Figure, ax, labels: Sequence[str]) -> None:
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
