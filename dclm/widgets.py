"""Widgets for play, paired with the static figure that carries the lesson.

A chapter shows its lesson as a static, named figure, then calls :func:`pair` for the slider.
In Jupyter or Colab the reader gets the slider; on the website (``DCLM_BOOK_BUILD=1``) the
page shows one line saying where to play instead, so reading the book needs no widget
JavaScript and no network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dclm.env import in_book_build

PLAY_NOTE = ("The figure above carries the lesson. Open this chapter in Colab or Jupyter "
             "to move the slider yourself.")


def pair(interactive: Callable[..., Any], **controls: Any) -> Any:
    """Show ``ipywidgets.interactive(interactive, **controls)`` in a live session.

    ``interactive`` returns one figure per call; ``controls`` are ipywidgets controls keyed by
    its argument names. During the book build a note stands in for the widget. Returns the
    widget (or None in the book build).
    """
    from IPython.display import Markdown, display

    if in_book_build():
        display(Markdown(f"*{PLAY_NOTE}*"))
        return None
    import ipywidgets

    def draw(**values: Any) -> None:
        display(interactive(**values))

    widget = ipywidgets.interactive(draw, **controls)
    display(widget)
    return widget
