"""Helpers for pages that must also run outside the book (Colab, Jupyter).

``glue`` hands a value to MyST-NB so prose can quote it (``{glue:text}`name:.2f```); where
myst-nb is not installed (a Colab runtime), it simply shows the value when asked to display.
``glue_claims`` glues a run's comparative sentences (``result.claims``) in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only named in annotations: gluing needs no statistics imported
    from dclm.claims import Claim


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


def glue_claims(claims: Mapping[str, Claim], keys: Iterable[str] | None = None, prefix: str = "claim_") -> None:
    """Glue each claim's text under ``prefix + key`` (``{glue:text}`claim_<key>``` in the prose).

    ``keys`` picks which claims (all of them when None; an unknown key is a ``KeyError``).
    Returns nothing, so it can end a cell without showing an output. Introduced in chapter 2,
    where the first verdicts are glued.
    """
    for key in claims if keys is None else keys:
        glue(f"{prefix}{key}", claims[key].text)


def readable(text: str) -> str:
    """``text`` as a page can show it: without the replacement characters (U+FFFD) that stand
    for bytes which form no whole character, and without control characters.

    A byte-level tokenizer can end a short generation half-way through a character, and an
    untrained model samples stray bytes; decoding then yields U+FFFD. The markers measured in
    chapter 3 are plain ASCII, so rates are computed on the raw text; this is for display.
    """
    kept = "".join(ch for ch in text if ch != "\ufffd" and (ch in "\n\t" or ch.isprintable()))
    return " ".join(kept.split())
