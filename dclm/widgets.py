"""Widgets for play, paired with the static figure that carries the lesson.

A chapter shows its lesson as a static, named figure, then calls :func:`pair` for the slider.
In Jupyter or Colab the reader gets the slider; on the website (``DCLM_BOOK_BUILD=1``) the
page shows one line saying where to play instead, so reading the book needs no widget
JavaScript and no network.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from dclm.env import in_book_build

PLAY_NOTE = ("The static figures on this page carry the lesson. Open this chapter in Colab "
             "or Jupyter to move the sliders yourself.")


def pair(interactive: Callable[..., Any], **controls: Any) -> Any:
    """Show ``ipywidgets.interactive(interactive, **controls)`` in a live session.

    ``interactive`` returns one figure per call; its keyword defaults are the sliders' start
    values. ``controls`` are ipywidgets abbreviations keyed by its argument names, e.g.
    ``strength=(0.0, 3.0, 0.25)`` for a slider from 0 to 3 in steps of 0.25. During the book
    build a note stands in for the widget and ipywidgets is never imported, so the page holds
    no widget state and needs no widget JavaScript. Returns the widget (None in the book build).
    """
    from IPython.display import Markdown, display

    if in_book_build():
        display(Markdown(f"*{PLAY_NOTE}*"))
        return None
    import ipywidgets

    defaults = {name: p.default for name, p in inspect.signature(interactive).parameters.items()
                if p.default is not inspect.Parameter.empty}

    def draw(**values: Any) -> None:
        display(interactive(**values))

    draw.__signature__ = inspect.Signature([
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults.get(name, inspect.Parameter.empty))
        for name in controls
    ])
    widget = ipywidgets.interactive(draw, **controls)
    display(widget)
    return widget
