"""Widgets for play, paired with the static figure that carries the lesson.

A chapter shows its lesson as a static, named figure, then calls :func:`pair` for the slider.
In Jupyter or Colab the reader gets an ipywidgets slider; on the website (``DCLM_BOOK_BUILD=1``)
the same function is drawn at a grid of slider positions during the build and the page gets
plain HTML range inputs that swap those figures (``book/_static/dclm-slider.js``, served by the
site itself): no kernel, no widget JavaScript, no network.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import itertools
import json
from collections.abc import Callable, Mapping
from typing import Any

from dclm.env import in_book_build

PLAY_NOTE = ("On this website the sliders move between figures drawn when the page was built; "
             "open this chapter in Colab or Jupyter to draw any value in between.")
# For a slider over a sweep's computed points: there is nothing in between to draw.
PLAY_NOTE_SWEEP = ("The slider steps through the points the run computed; on this website the figures "
                   "were drawn when the page was built, in Colab or Jupyter they are drawn as you move it.")
# Slider positions drawn for the website: all of one slider's steps up to this many, fewer per
# slider when there are several (the page holds every combination).
STATIC_FRAMES = 49
STATIC_DPI = 80


class SliderError(ValueError):
    """A slider the website cannot draw: a control that is not a (low, high, step) range."""


def slider_values(control: Any, default: float, points: int) -> list[float]:
    """The positions the website draws for ``control``: a list is taken as it is (the points of a
    sweep; ``default`` must be one of them); a (low, high, step) range gives at most ``points``
    positions evenly spread over its steps, ``default`` always among them (so the page opens
    where the notebook does)."""
    if isinstance(control, list):
        if default not in control:
            raise SliderError(f"default {default!r} is not among the slider's values {control}")
        return [float(v) for v in control]
    if not (isinstance(control, tuple) and len(control) == 3 and control[2] > 0 and control[1] > control[0]):
        raise SliderError(f"control {control!r}: expected a (low, high, step) range with low < high and step > 0, "
                          "or a list of values")
    low, high, step = (float(v) for v in control)
    steps = round((high - low) / step)
    chosen = sorted({round(i * steps / (points - 1)) for i in range(points)} if steps + 1 > points
                    else set(range(steps + 1)))
    values = [round(low + k * step, 10) for k in chosen]
    nearest = min(range(len(values)), key=lambda i: abs(values[i] - default))
    values[nearest] = float(default)
    return sorted(set(values))


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=STATIC_DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def static_slider(interactive: Callable[..., Any], controls: Mapping[str, Any], defaults: Mapping[str, float],
                  points: int | None = None, labels: Mapping[str, str] | None = None) -> str:
    """The HTML of a website slider: ``interactive`` drawn at every combination of a grid of
    slider positions, and one range input per control (labelled ``labels[name]``, else its
    name) that shows the figure drawn at the position the reader picks."""
    labels = labels or {}
    points = points or max(2, int(STATIC_FRAMES ** (1 / len(controls))))
    grid = {name: slider_values(control, defaults[name], points) for name, control in controls.items()}
    frames = {}
    for combination in itertools.product(*(range(len(values)) for values in grid.values())):
        values = {name: grid[name][i] for name, i in zip(grid, combination, strict=True)}
        frames["|".join(map(str, combination))] = _png(interactive(**values))
    start = [grid[name].index(float(defaults[name])) for name in grid]
    inputs = "".join(
        f'<label class="dclm-slider-control">{html.escape(labels.get(name, name))} '
        f'<input type="range" min="0" max="{len(values) - 1}" step="1" value="{i}" '
        f"data-values='{json.dumps(values)}' aria-label=\"{html.escape(labels.get(name, name))}\"> "
        f"<output>{values[i]:g}</output></label>"
        for (name, values), i in zip(grid.items(), start, strict=True))
    first = frames["|".join(map(str, start))]
    return (f'<div class="dclm-slider">{inputs}<img class="dclm-slider-figure" alt="the figure at the sliders\' '
            f'values" src="{first}"><script type="application/json" class="dclm-slider-frames">'
            f"{json.dumps(frames)}</script></div>")


def pair(interactive: Callable[..., Any], labels: Mapping[str, str] | None = None, **controls: Any) -> Any:
    """Show ``ipywidgets.interactive(interactive, **controls)`` in a live session.

    ``interactive`` returns one figure per call; its keyword defaults are the sliders' start
    values. ``controls`` are ipywidgets abbreviations keyed by its argument names, e.g.
    ``strength=(0.0, 3.0, 0.25)`` for a slider from 0 to 3 in steps of 0.25, or a list of the
    values a sweep computed (a slider over them). ``labels`` names a slider in the chapter's
    notation (``{"strength": "κ"}``); it defaults to the argument's name. During the book
    build the website's slider (:func:`static_slider`) stands in for the widget and ipywidgets
    is never imported, so the page holds no widget state. Returns the widget (None in the book
    build).
    """
    from IPython.display import HTML, Markdown, display

    defaults = {name: p.default for name, p in inspect.signature(interactive).parameters.items()
                if p.default is not inspect.Parameter.empty}
    labels = labels or {}
    if in_book_build():
        display(HTML(static_slider(interactive, controls, defaults, labels=labels)))
        sweep_only = all(isinstance(control, list) for control in controls.values())
        display(Markdown(f"*{PLAY_NOTE_SWEEP if sweep_only else PLAY_NOTE}*"))
        return None
    import ipywidgets

    def draw(**values: Any) -> None:
        display(interactive(**values))

    draw.__signature__ = inspect.Signature([
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults.get(name, inspect.Parameter.empty))
        for name in controls
    ])
    # A list is a sweep's computed points: a slider over them, not ipywidgets' default dropdown.
    style = {"description_width": "initial"}  # the label in full, not cut to ipywidgets' default width

    def slider(name: str, control: Any):
        label = labels.get(name, name)
        if isinstance(control, list):
            return ipywidgets.SelectionSlider(options=control, value=defaults[name], description=label, style=style)
        if isinstance(control, tuple) and len(control) == 3:
            return ipywidgets.FloatSlider(min=control[0], max=control[1], step=control[2],
                                          value=defaults.get(name, control[0]), description=label, style=style)
        return control

    widget = ipywidgets.interactive(draw, **{name: slider(name, control) for name, control in controls.items()})
    display(widget)
    return widget
