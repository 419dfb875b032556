"""Causal graphs drawn in one style: chapter 1's listings graph, chapter 2 and 5's news graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from dclm.viz.style import STYLE


def draw_dag(nodes: Mapping[str, tuple[float, float]], edges: Sequence[tuple[str, str]],
             dashed: Sequence[tuple[str, str]] = (), title: str = "",
             dotted: Sequence[tuple[str, str]] = ()) -> Figure:
    """A small causal graph: labelled circles and arrows; ``dashed`` edges are the questioned
    ones, ``dotted`` edges carry something other than a causal effect on the node's value (a
    name written into a text, not its tone)."""
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(4.8, 3.0))
        for name, (x, y) in nodes.items():
            ax.text(x, y, name, ha="center", va="center", fontsize=10, zorder=3,
                    bbox={"boxstyle": "circle,pad=0.6", "facecolor": "white", "edgecolor": "black"})
        for src, dst in edges:
            (x0, y0), (x1, y1) = nodes[src], nodes[dst]
            ax.add_patch(FancyArrowPatch(
                (x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14, shrinkA=28, shrinkB=28,
                linestyle="--" if (src, dst) in dashed else (":" if (src, dst) in dotted else "-"),
                color="black", zorder=2,
            ))
        xs = [p[0] for p in nodes.values()]
        ys = [p[1] for p in nodes.values()]
        ax.set(xlim=(min(xs) - 0.3, max(xs) + 0.3), ylim=(min(ys) - 0.35, max(ys) + 0.35), title=title)
        ax.axis("off")
        fig.tight_layout()
    plt.close(fig)
    return fig


def news_dag(hidden: bool = False, proxy: bool = False) -> Figure:
    """The book's one graph for the news story (chapters 2, 5, 6), drawn the same everywhere.

    Z (region) -> p (exposure) -> y (clicks) <- s(T) (text); s(T) -> p dashed: present in the
    entangled setting only. The team fixes Z (its home region) and part of p (its own pull), and
    its name is in the text: team -> Z, team -> p, and team -> text dotted (the team writes its
    name into T, not its tone s(T)). ``hidden`` adds an unobserved
    U -> p, U -> y; ``proxy`` adds the logged proxy p~ of p.
    """
    nodes = {"team": (0.0, 0.0), "Z\nregion": (0.0, 1.0), "p\nexposure": (1.0, 1.0), "s(T)\ntext": (1.0, 0.0),
             "y\nclicks": (2.0, 0.5)}
    edges = [("team", "Z\nregion"), ("team", "p\nexposure"), ("team", "s(T)\ntext"),
             ("Z\nregion", "p\nexposure"), ("p\nexposure", "y\nclicks"), ("s(T)\ntext", "y\nclicks"),
             ("s(T)\ntext", "p\nexposure")]
    if hidden:
        nodes["U\nunobserved"] = (2.0, 1.6)
        edges += [("U\nunobserved", "p\nexposure"), ("U\nunobserved", "y\nclicks")]
    if proxy:
        nodes["p~\nlogged"] = (2.0, -0.6)
        edges.append(("p\nexposure", "p~\nlogged"))
    title = "The news graph; s(T) -> p (dashed) in the entangled setting"
    return draw_dag(nodes, edges, dashed=[("s(T)\ntext", "p\nexposure")], title=title,
                    dotted=[("team", "s(T)\ntext")])
