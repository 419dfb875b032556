"""Each chapter's slider reads its run's sweep at one point: the marked values are the run's."""

from types import SimpleNamespace

import pytest

from dclm import widgets
from dclm.experiments import deconfound, diagnose, monday, upworthy

RESULTS = {
    "monday": (monday.explore_dose, "strength", [0.0, 0.5, 1.0], SimpleNamespace(metrics={"dose": {"rows": [
        {"strength": 0.0, "mean": 0.01, "balance": 0.002}, {"strength": 0.5, "mean": 0.04, "balance": 0.02},
        {"strength": 1.0, "mean": 0.09, "balance": 0.05}]}})),
    "upworthy": (upworthy.explore_lambda, "lam", [1.0, 10.0, 100.0], SimpleNamespace(metrics={
        "lambda_grid": [1.0, 10.0, 100.0], "val_mse": [3.0, 2.0, 2.5], "test_auc": [0.55, 0.6, 0.62],
        "lambda_val_opt": 10.0, "lambda_test_opt": 100.0})),
    "deconfound": (deconfound.explore_beta, "beta", [0.0, 0.1, 1.0], SimpleNamespace(metrics={"beta_sweep": {
        "beta": [0.0, 0.1, 1.0], "corr_y": [0.9, 0.85, -0.3], "corr_naive": [0.95, 0.9, -0.25],
        "corr_iv": [0.94, 0.94, 0.94]}})),
    "diagnose": (diagnose.explore_exclusion, "delta", [0.0, 0.1, 0.4], SimpleNamespace(metrics={"limits": {
        "exclusion": {"delta": [0.0, 0.1, 0.4], "bias": {"0.3": [0.0, 0.36, 1.57], "1": [0.0, 0.15, 0.61]}}}})),
}


def _legend_texts(fig):
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_the_slider_marks_the_runs_values_at_the_chosen_point(name):
    explore, knob, points, result = RESULTS[name]
    texts = " ".join(_legend_texts(explore(result, **{knob: points[-1]})))
    expected = {"monday": "0.090", "upworthy": "AUC 0.620", "deconfound": "-0.250", "diagnose": "1.570"}[name]
    assert expected in texts, texts
    with pytest.raises(ValueError, match="not one of"):
        explore(result, **{knob: 123.456})


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_each_point_of_the_sweep_is_its_own_frame_on_the_website(name):
    from functools import partial

    explore, knob, points, result = RESULTS[name]
    page = widgets.static_slider(partial(explore, result), {knob: points}, {knob: points[1]})
    assert page.count("data:image/png;base64,") == len(points) + 1  # each frame, and the one shown first
