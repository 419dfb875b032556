"""Every diagram of the book reads: measured from the drawn figure, not eyeballed."""

import matplotlib.pyplot as plt
import pytest

from dclm import viz
from dclm.viz.dags import GraphError, layers


@pytest.mark.parametrize("name", sorted(viz.BOOK_DIAGRAMS))
def test_no_label_overflows_its_node_and_nothing_overlaps_or_is_cut(name):
    fig = viz.BOOK_DIAGRAMS[name]()
    assert viz.diagram_problems(fig) == []


def test_the_measure_sees_a_box_cut_by_the_edge_and_boxes_that_overlap():
    fig = viz.draw_dag(["a long label here", "b"], [("a long label here", "b")])
    nodes = fig.dclm_dag_nodes
    nodes["b"].set_position(nodes["a long label here"].get_position())  # b on top of a
    problems = viz.diagram_problems(fig)
    assert "nodes 'a long label here' and 'b' overlap" in problems
    fig.set_size_inches(0.8, 0.4)  # the figure shrinks under its boxes
    assert any("cut by the figure's edge" in p for p in viz.diagram_problems(fig))


def test_the_measure_sees_an_arrow_through_a_box():
    fig = viz.draw_dag(["a", "b", "c"], [("a", "b"), ("b", "c")])
    nodes = fig.dclm_dag_nodes
    (ax,) = fig.axes
    from matplotlib.patches import FancyArrowPatch

    arrow = ax.add_patch(FancyArrowPatch(nodes["a"].get_position(), nodes["c"].get_position()))
    fig.dclm_dag_arrows.append(("a", "c", arrow))  # a straight a -> c runs through b
    assert "the arrow 'a' -> 'c' crosses node 'b'" in viz.diagram_problems(fig)
    plt.close(fig)


def test_a_long_edge_gets_a_slot_in_every_layer_it_passes():
    rows = layers(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
    assert [[item for item in row if isinstance(item, str)] for row in rows] == [["a"], ["b"], ["c"], ["d"]]
    assert [("a", "d", 1)] == [item for item in rows[1] if isinstance(item, tuple)]
    assert [("a", "d", 2)] == [item for item in rows[2] if isinstance(item, tuple)]


def test_a_cycle_or_an_unknown_node_is_one_clear_error():
    with pytest.raises(GraphError, match="cycle"):
        viz.draw_dag(["a", "b"], [("a", "b"), ("b", "a")])
    with pytest.raises(GraphError, match=r"unknown nodes \['z'\]"):
        viz.draw_dag(["a"], [("a", "z")])
    with pytest.raises(GraphError, match="not among the edges"):
        viz.draw_dag(["a", "b"], [("a", "b")], dashed=[("b", "a")])


def test_the_book_draws_its_diagrams_through_the_tested_functions():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    callers = [p for p in [*root.glob("book/*.md"), *root.glob("practice/*.md"), *root.glob("dclm/**/*.py")]
               if "draw_dag(" in p.read_text() and p.name != "dags.py"]
    assert callers == [], "draw a new diagram as a function in dclm/viz/dags.py and add it to BOOK_DIAGRAMS"
