"""Which experiment runs each chapter executes, and what they cost when run cold.

The book's execution-status table (``nb-exec-table``) times each page as this build executed
it, which is seconds for a page whose runs came from the run cache. A reader running a chapter
for the first time waits for its runs as well; each run cache entry keeps the wall time of the
run that computed it, and :func:`compute_table` reads those, starting nothing.
"""

from __future__ import annotations

from dclm import cache
from dclm.config import to_dict
from dclm.experiments import resolve_config
from dclm.experiments.monday import BEER_RUN

# chapter (the book's file stem): (experiment, config overrides, how the table names it) of each
# main run it executes; exercise solutions start a few more, smaller runs on top.
CHAPTER_RUNS: dict[str, tuple[tuple[str, dict[str, str] | None, str], ...]] = {
    "01-confounding": (("confounding", None, "confounding"),),
    "02-instrumental-variables": (("iv", None, "iv"),),
    "03-monday-effect": (("monday", None, "monday"), ("monday", BEER_RUN, "monday, the beer run")),
    "04-upworthy": (("upworthy", None, "upworthy"),),
    "05-deconfoundlm": (("deconfound", None, "deconfound"),),
    "06-diagnose": (("diagnose", None, "diagnose"),),
}


def cached_entry(name: str, overrides: dict[str, str] | None = None, profile: str = "tiny",
                 seed: int = 0) -> dict | None:
    """This run cache's entry for one run (its metrics, ``wall_s``, ``device``), or None."""
    _, cfg = resolve_config(name, profile, seed, overrides)
    return cache.load(name, cache.run_key(name, to_dict(cfg)))


def cold_compute(chapter: str, profile: str = "tiny", seed: int = 0) -> dict[str, str | float | None]:
    """The measured wall time (seconds) and devices of ``chapter``'s runs; None where one is not cached."""
    if chapter not in CHAPTER_RUNS:
        raise KeyError(f"chapter={chapter!r}: expected one of {', '.join(CHAPTER_RUNS)}")
    entries = [cached_entry(name, overrides, profile, seed) for name, overrides, _ in CHAPTER_RUNS[chapter]]
    if any(entry is None for entry in entries):
        return {"wall_s": None, "device": None}
    return {"wall_s": sum(float(entry["wall_s"]) for entry in entries),
            "device": ", ".join(sorted({str(entry["device"]) for entry in entries}))}


def compute_table(profile: str = "tiny", seed: int = 0):
    """One row per chapter: its runs and their cold wall time in this run cache, a DataFrame."""
    import pandas as pd

    rows = {}
    for chapter, runs in CHAPTER_RUNS.items():
        measured = cold_compute(chapter, profile, seed)
        rows[chapter] = {
            "main runs": " + ".join(label for _, _, label in runs),
            f"cold run time, {profile} profile (measured)": (f"{measured['wall_s'] / 60:.1f} min"
                                                             if measured["wall_s"] is not None
                                                             else "not in this build's run cache"),
            "device of those runs": measured["device"] or "—",
        }
    return pd.DataFrame(rows).T
