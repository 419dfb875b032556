"""How a run behaves, as opposed to what it computes: its progress bars.

This reaches the trainers and the experiments as an explicit argument (``JobOptions``), read
from the environment once, at the top (:func:`dclm.experiments.run`). It is never part of a
config or a run's cache key: a run with progress bars and one without give the same numbers
and share one cache entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobOptions:
    """``show_progress``: progress bars (off while the website builds, so pages stay clean)."""

    show_progress: bool = True

    @classmethod
    def from_environment(cls) -> JobOptions:
        """The options ``make book`` asks for (``DCLM_BOOK_BUILD=1``: no bars); the defaults otherwise."""
        from dclm.env import in_book_build

        return cls(show_progress=not in_book_build())


# The options of a run started from Python with nothing asked for: progress bars on.
DEFAULT_OPTIONS = JobOptions()
