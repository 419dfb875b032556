"""Execute chapters top to bottom outside the book build (the lowest-versions stage uses it).

    python scripts/run_chapters.py book/01-confounding.md book/02-instrumental-variables.md

Each MyST chapter is read with jupytext and run cell by cell with nbclient in this
interpreter's kernel; the first failing cell stops it with the cell's error. The Colab
install cell is skipped by its own guard (it runs only inside Colab).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient


def run(path: Path, timeout: int = 900) -> float:
    notebook = jupytext.read(path)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
                   ).execute()
    return time.perf_counter() - start


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(f"usage: {sys.argv[0]} CHAPTER.md [...]")
    for name in sys.argv[1:]:
        print(f"{name}: ran in {run(Path(name)):.1f} s", flush=True)
