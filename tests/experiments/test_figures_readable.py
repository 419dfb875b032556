"""Every figure a chapter shows keeps its tick labels apart (measured, dclm.viz.overlapping_tick_labels).

Each experiment's run is the chapter's own (tiny profile, seed 0, default config), so it
comes from the run cache that the CLI tests and the book build share: drawing is the only
cost here.
"""

import pytest

from dclm import viz
from dclm.experiments import EXPERIMENTS, run


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_no_figure_has_overlapping_tick_labels(name):
    figures = run(name, seed=0).figures()
    overlaps = {key: viz.overlapping_tick_labels(fig) for key, fig in figures.items() if hasattr(fig, "axes")}
    assert not {key: pairs for key, pairs in overlaps.items() if pairs}, f"{name}: tick labels overlap"
    assert overlaps, f"{name} drew no figures"
