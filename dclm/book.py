"""Helpers for pages that must also run outside the book (Colab, Jupyter).

``glue`` hands a value to MyST-NB so prose can quote it (``{glue:text}`name:.2f```); where
myst-nb is not installed (a Colab runtime), it simply shows the value when asked to display.
"""

from __future__ import annotations

from typing import Any


def glue(name: str, value: Any, display: bool = False) -> Any:
    """Make ``value`` quotable in the page's prose under ``name``; return it.

    NumPy scalars become Python numbers first: myst-nb formats a glued number from its
    text form, and ``np.float64(0.1)`` does not parse as one.
    """
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            from IPython.display import display as show

            show(value)
        return value
    myst_glue(name, value, display=display)
    return value
