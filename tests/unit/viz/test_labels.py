"""Tick labels stay readable: measured from the drawn text of dclm.viz figures, not eyeballed."""

import matplotlib.pyplot as plt
import pytest

from dclm import viz

# The shape of chapter 5's "teams" figure: five reward models, four long cluster labels.
METHODS = {"naive (y)": "naive", "confounder as feature": "feature", "DeconfoundLM-IV": "iv",
           "invariance penalty": "invariant", "oracle (s(T))": "oracle"}
TEAM_LABELS = ["orthogonal: any team", "entangled: any team", "orthogonal: top team", "entangled: top team"]


def teams_like(labels=TEAM_LABELS):
    groups = {method: {label: (0.1 + 0.05 * i, None) for i, label in enumerate(labels)} for method in METHODS}
    return viz.grouped_rates(groups, None, ylabel="share of generations", title="naming teams", colors=METHODS)


def test_the_measure_sees_labels_that_overlap():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_xticks(range(4), ["a long label here"] * 4)
    pairs = viz.overlapping_tick_labels(fig)
    plt.close(fig)
    assert len(pairs) == 3 and pairs[0] == ("a long label here", "a long label here")


def test_the_measure_passes_labels_with_room():
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.set_xticks(range(3), ["a", "b", "c"])
    assert viz.overlapping_tick_labels(fig) == []
    plt.close(fig)


def test_teams_figure_labels_do_not_overlap():
    fig = teams_like()
    assert viz.overlapping_tick_labels(fig) == []
    shown = [label.get_text().replace("\n", " ") for label in fig.axes[0].get_xticklabels()]
    assert shown == TEAM_LABELS, "wrapping may break lines, never change or drop a label"


def test_bars_without_standard_errors_draw_no_whiskers():
    fig = teams_like()
    assert not [c for c in fig.axes[0].containers if getattr(c, "errorbar", None) is not None
                and c.errorbar.lines[1]], "a bar without an SE drew caps"


@pytest.mark.parametrize("n", [2, 5, 8])
def test_more_clusters_with_long_labels_stay_readable(n):
    labels = [f"setting {i}: top team named" for i in range(n)]
    bars = viz.bars_with_errors(labels, [0.5] * n, [0.05] * n, ylabel="rate", title="many bars")
    assert viz.overlapping_tick_labels(bars) == []
    grouped = teams_like(labels)
    assert viz.overlapping_tick_labels(grouped) == []
