"""Every diagram of the book, drawn by one function with an automatic layout.

:func:`draw_dag` places the nodes in layers from left to right (a node sits one layer past
its furthest parent, so every arrow points rightwards), routes an arrow that skips layers
through a slot of its own in each layer it passes (so it never runs through a box), orders
each layer to keep arrows short, and sizes each node's box to its label, measured in the font
the page shows; the figure is as large as the layout needs, so no label is cut or covered.
:func:`diagram_problems` measures a drawn diagram and is what the tests assert on.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from matplotlib.path import Path

from dclm.viz.style import STYLE, text_renderer

# Inches: air between layers (room for an arrow head), between boxes of a layer, the room a
# passing arrow takes in a layer, and the margin around the drawing.
LAYER_GAP, NODE_GAP, PASSING, MARGIN = 0.55, 0.3, 0.12, 0.12
FONT_SIZE, TITLE_SIZE = 10, 10
_BOX = {"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": "black"}
# The node label, title and arrow artists of a figure drawn here, for diagram_problems.
_NODES_ATTR, _TITLE_ATTR, _ARROWS_ATTR = "dclm_dag_nodes", "dclm_dag_title", "dclm_dag_arrows"


class GraphError(ValueError):
    """A diagram that cannot be drawn: an edge naming an unknown node, or a cycle."""


def _depths(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    unknown = sorted({n for edge in edges for n in edge} - set(nodes))
    if unknown:
        raise GraphError(f"edges name unknown nodes {unknown}; nodes are {list(nodes)}")
    parents = {n: [src for src, dst in edges if dst == n] for n in nodes}
    depth: dict[str, int] = {}
    visiting: set[str] = set()

    def depth_of(node: str) -> int:
        if node not in depth:
            if node in visiting:
                raise GraphError(f"the graph has a cycle through {node!r}: a causal diagram must be acyclic")
            visiting.add(node)
            depth[node] = 1 + max((depth_of(p) for p in parents[node]), default=-1)
            visiting.discard(node)
        return depth[node]

    for node in nodes:
        depth_of(node)
    # A source sits just before its first child, not at the far left: its arrows stay short.
    for node in nodes:
        children = [depth[dst] for src, dst in edges if src == node]
        if not parents[node] and children:
            depth[node] = min(children) - 1
    return depth


def layers(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> list[list[str | tuple]]:
    """The layout's layers, left to right: node names, and for each arrow that skips layers a
    slot ``(src, dst, k)`` in every layer it passes. Each layer is ordered by the mean position
    of its items' parents (a few sweeps; ties keep the order of ``nodes``)."""
    depth = _depths(nodes, edges)
    out: list[list] = [[] for _ in range(max(depth.values()) + 1)]
    given: dict = {}
    parent_of: dict = {}
    for n in nodes:
        out[depth[n]].append(n)
        given[n] = len(given)
        parent_of[n] = [src for src, dst in edges if dst == n]
    for src, dst in edges:
        previous = src
        for k in range(depth[src] + 1, depth[dst]):
            slot = (src, dst, k)
            out[k].append(slot)
            given[slot], parent_of[slot] = len(given), [previous]
            previous = slot
        if depth[dst] - depth[src] > 1:
            parent_of[dst] = [previous if p == src else p for p in parent_of[dst]]
    def barycentre(item, placed: dict) -> tuple[float, int]:
        above = [placed[p] for p in parent_of[item] if p in placed]
        return (sum(above) / len(above) if above else len(placed) / 2, given[item])

    for _ in range(3):
        for k in range(1, len(out)):
            placed = {item: i for i, item in enumerate(out[k - 1])}
            out[k].sort(key=lambda item, placed=placed: barycentre(item, placed))
    return out


def _exit_point(centre: tuple[float, float], size: tuple[float, float], toward: tuple[float, float],
                air: float = 0.03) -> tuple[float, float]:
    """Where the line from a box's centre toward ``toward`` leaves the box (plus ``air`` inches)."""
    (cx, cy), (w, h) = centre, size
    dx, dy = toward[0] - cx, toward[1] - cy
    t = min((w / 2 + air) / abs(dx) if dx else float("inf"), (h / 2 + air) / abs(dy) if dy else float("inf"))
    return cx + t * dx, cy + t * dy


def _smooth_path(points: Sequence[tuple[float, float]]) -> Path:
    """A smooth curve through ``points`` (Catmull-Rom as cubic Béziers)."""
    vertices, codes = [points[0]], [Path.MOVETO]
    padded = [points[0], *points, points[-1]]
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        vertices += [c1, c2, p2]
        codes += [Path.CURVE4] * 3
    return Path(vertices, codes)


def draw_dag(nodes: Sequence[str], edges: Sequence[tuple[str, str]], dashed: Sequence[tuple[str, str]] = (),
             dotted: Sequence[tuple[str, str]] = (), title: str = "") -> Figure:
    """A causal graph (or a pipeline): labelled boxes and arrows, laid out automatically.

    ``dashed`` edges are the questioned ones; ``dotted`` edges carry something other than a
    causal effect on the node's value (a name written into a text, not its tone). Labels may
    hold line breaks.
    """
    rows = layers(nodes, edges)
    unknown = sorted((set(dashed) | set(dotted)) - set(edges))
    if unknown:
        raise GraphError(f"dashed or dotted edges {unknown} are not among the edges")
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig = plt.figure(figsize=(1, 1))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.axis("off")
        # Arrows are drawn after the boxes: a box moves its patch when drawn, and an arrow is
        # clipped to the patch as it is at that moment (at the dpi being drawn).
        labels = {n: ax.text(0, 0, n, ha="center", va="center", fontsize=FONT_SIZE, zorder=2, bbox=_BOX)
                  for n in nodes}
        renderer = text_renderer(fig)
        size: dict = {}
        for n, t in labels.items():
            extent = t.get_bbox_patch().get_window_extent(renderer)
            size[n] = (extent.width / fig.dpi, extent.height / fig.dpi)
        # Each layer is a column centred on y = 0 (inches throughout); a passing arrow's slot
        # takes PASSING inches of it.
        centre: dict = {}
        x = 0.0
        for row in rows:
            width = max((size[n][0] for n in row if n in size), default=PASSING)
            heights = [size[n][1] if n in size else PASSING for n in row]
            y = (sum(heights) + NODE_GAP * (len(row) - 1)) / 2
            for item, height in zip(row, heights, strict=True):
                centre[item] = (x + width / 2, y - height / 2)
                y -= height + NODE_GAP
            x += width + LAYER_GAP
        routes = {}
        for src, dst in edges:
            slots = [centre[item] for row in rows for item in row if isinstance(item, tuple) and item[:2] == (src, dst)]
            if slots:
                start = _exit_point(centre[src], size[src], slots[0])
                end = _exit_point(centre[dst], size[dst], slots[-1])
                routes[src, dst] = [start, *slots, end]
        points = [c for item, c in centre.items() if item in size] + [p for r in routes.values() for p in r]
        left = min([centre[n][0] - size[n][0] / 2 for n in nodes] + [p[0] for p in points]) - MARGIN
        right = max([centre[n][0] + size[n][0] / 2 for n in nodes] + [p[0] for p in points]) + MARGIN
        bottom = min([centre[n][1] - size[n][1] / 2 for n in nodes] + [p[1] for p in points]) - MARGIN
        top = max([centre[n][1] + size[n][1] / 2 for n in nodes] + [p[1] for p in points]) + MARGIN
        fig_w, fig_h = right - left, top - bottom
        title_h = 0.0
        if title:
            # Wrapped to the drawing's width, so a long title does not widen it past the page.
            title = textwrap.fill(title, max(24, int(fig_w * 72 / (0.55 * TITLE_SIZE))), break_long_words=False)
            title_h = (title.count("\n") + 1) * TITLE_SIZE * 1.35 / 72 + MARGIN
            widest = max(len(line) for line in title.splitlines()) * 0.55 * TITLE_SIZE / 72 + 2 * MARGIN
            if widest > fig_w:  # centre the drawing under a title wider than it
                left, right = left - (widest - fig_w) / 2, right + (widest - fig_w) / 2
                fig_w = widest
        fig.set_size_inches(fig_w, fig_h + title_h)
        ax.set_position((0, 0, 1, fig_h / (fig_h + title_h)))
        ax.set(xlim=(left, right), ylim=(bottom, top))
        for n, t in labels.items():
            t.set_position(centre[n])
        arrows = []
        for src, dst in edges:
            style = {"arrowstyle": "-|>", "mutation_scale": 14, "color": "black", "zorder": 3,
                     "linestyle": "--" if (src, dst) in dashed else (":" if (src, dst) in dotted else "-")}
            if (src, dst) in routes:
                arrow = FancyArrowPatch(path=_smooth_path(routes[src, dst]), **style)
            else:
                arrow = FancyArrowPatch(centre[src], centre[dst], patchA=labels[src].get_bbox_patch(),
                                        patchB=labels[dst].get_bbox_patch(), shrinkA=2, shrinkB=2, **style)
            arrows.append((src, dst, ax.add_patch(arrow)))
        if title:
            setattr(fig, _TITLE_ATTR, fig.suptitle(title, fontsize=TITLE_SIZE, y=1 - MARGIN / 2 / (fig_h + title_h),
                                                   va="top"))
        setattr(fig, _NODES_ATTR, labels)
        setattr(fig, _ARROWS_ATTR, arrows)
    plt.close(fig)
    return fig


def diagram_problems(fig: Figure, pad: float = 1.0) -> list[str]:
    """What a reader would trip over in a diagram drawn by :func:`draw_dag`: a label wider or
    taller than its box, two boxes that overlap, a box or the title cut by the figure's edge.
    Empty when the diagram reads; measured in display pixels of the rendered figure."""
    renderer = text_renderer(fig)
    canvas = fig.bbox
    problems = []
    boxes = {}
    for name, text in getattr(fig, _NODES_ATTR, {}).items():
        label = " ".join(name.split())
        inner = text.get_window_extent(renderer)
        box = text.get_bbox_patch().get_window_extent(renderer)
        boxes[label] = box
        if inner.x0 < box.x0 - pad or inner.x1 > box.x1 + pad or inner.y0 < box.y0 - pad or inner.y1 > box.y1 + pad:
            problems.append(f"label {label!r} is wider or taller than its node")
        if box.x0 < canvas.x0 - pad or box.x1 > canvas.x1 + pad or box.y0 < canvas.y0 - pad or box.y1 > canvas.y1 + pad:
            problems.append(f"node {label!r} is cut by the figure's edge")
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        if box_a.overlaps(box_b):
            problems.append(f"nodes {a!r} and {b!r} overlap")
    for src, dst, arrow in getattr(fig, _ARROWS_ATTR, []):
        path = arrow.get_transform().transform_path(arrow.get_path())
        # Straight stretches are sampled too: a line through a box has no vertex inside it.
        points = [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
                  for polygon in path.to_polygons(closed_only=False)
                  for (x0, y0), (x1, y1) in itertools.pairwise(polygon) for t in (i / 20 for i in range(21))]
        if any(not (canvas.x0 - pad <= x <= canvas.x1 + pad and canvas.y0 - pad <= y <= canvas.y1 + pad)
               for x, y in points):
            problems.append(f"the arrow {' '.join(src.split())!r} -> {' '.join(dst.split())!r} leaves the figure")
        for name, box in boxes.items():
            if name in (" ".join(src.split()), " ".join(dst.split())):
                continue
            if any(box.x0 + pad < x < box.x1 - pad and box.y0 + pad < y < box.y1 - pad for x, y in points):
                problems.append(f"the arrow {' '.join(src.split())!r} -> {' '.join(dst.split())!r} crosses "
                                f"node {name!r}")
    title = getattr(fig, _TITLE_ATTR, None)
    if title is not None:
        extent = title.get_window_extent(renderer)
        if extent.x0 < canvas.x0 - pad or extent.x1 > canvas.x1 + pad or extent.y1 > canvas.y1 + pad:
            problems.append("the title is cut by the figure's edge")
        if any(extent.overlaps(box) for box in boxes.values()):
            problems.append("the title covers a node")
    return problems


def news_dag(hidden: bool = False, proxy: bool = False) -> Figure:
    """The book's one graph for the news story (chapters 2, 5, 6), drawn the same everywhere.

    Z (region) -> p (exposure) -> y (clicks) <- s(T) (text); s(T) -> p dashed: present in the
    entangled setting only. The team fixes Z (its home region) and part of p (its own pull), and
    its name is in the text: team -> Z, team -> p, and team -> text dotted (the team writes its
    name into T, not its tone s(T)). ``hidden`` adds an unobserved
    U -> p, U -> y; ``proxy`` adds the logged proxy p~ of p.
    """
    nodes = ["team", "Z\nregion", "s(T)\ntext", "p\nexposure", "y\nclicks"]
    edges = [("team", "Z\nregion"), ("team", "p\nexposure"), ("team", "s(T)\ntext"),
             ("Z\nregion", "p\nexposure"), ("p\nexposure", "y\nclicks"), ("s(T)\ntext", "y\nclicks"),
             ("s(T)\ntext", "p\nexposure")]
    if hidden:
        nodes.insert(0, "U\nunobserved")
        edges += [("U\nunobserved", "p\nexposure"), ("U\nunobserved", "y\nclicks")]
    if proxy:
        nodes.append("p~\nlogged")
        edges.append(("p\nexposure", "p~\nlogged"))
    title = ("The news graph" + (", with an unobserved U" if hidden else "")
             + (" and the logged proxy p~" if hidden and proxy else ", with the logged proxy p~" if proxy else "")
             + "; s(T) -> p dashed: entangled setting only; team -> s(T) dotted: the name, not the tone")
    return draw_dag(nodes, edges, dashed=[("s(T)\ntext", "p\nexposure")], title=title,
                    dotted=[("team", "s(T)\ntext")])


def listings_dag() -> Figure:
    """Chapter 1's graph: the price C causes both the title word T and the bookings y."""
    return draw_dag(["C\nprice", "T\ntitle word", "y\nbookings"],
                    [("C\nprice", "T\ntitle word"), ("C\nprice", "y\nbookings"), ("T\ntitle word", "y\nbookings")],
                    dashed=[("T\ntitle word", "y\nbookings")], title="Price causes both the word and the bookings")


def canary_dag() -> Figure:
    """Chapter 6's graph: the canary M is placed by the confounder C and causes nothing."""
    z, c, y, t, m, r = "Z\n(instrument)", "C\n(confounder)", "y\n(outcome)", "T\n(text)", "M\n(canary)", "reward r(T, M)"
    return draw_dag([z, t, c, y, m, r], [(z, c), (c, y), (t, y), (t, c), (c, m), (t, r), (m, r)],
                    dashed=[(t, r), (m, r)],
                    title="The canary M: placed by C, no arrow into y; dashed: what a refitted reward may use; "
                          "T -> C: the entangled setting")


def deconfoundlm_pipeline() -> Figure:
    """Chapter 5's pipeline, from logged outcomes to evaluated generations."""
    steps = ["headlines\n+ outcome y", "deconfound\ny − β_IV·p", "reward model\n(ridge probe)",
             "RL (RLOO)\nfrom SFT", "evaluate\ngenerations"]
    return draw_dag(steps, list(itertools.pairwise(steps)),
                    title="DeconfoundLM: remove the confounder's part of y before the reward model")


# Every diagram the book shows, for the tests (each is drawn by draw_dag).
BOOK_DIAGRAMS = {
    "listings": listings_dag, "news": news_dag, "news, hidden and proxy": lambda: news_dag(hidden=True, proxy=True),
    "news, proxy": lambda: news_dag(proxy=True), "canary": canary_dag, "pipeline": deconfoundlm_pipeline,
}
