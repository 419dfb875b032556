"""The machine a chapter runs on: device, seeds, versions, Colab and book-build detection.

Introduced in the setup chapter. Nothing here runs at import time.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import random
import sys
from collections.abc import Iterable, Iterator

import numpy as np

BOOK_BUILD_ENV_VAR = "DCLM_BOOK_BUILD"

# Distribution names whose versions every metrics.json records.
REPORTED_PACKAGES = (
    "dclm", "numpy", "pandas", "scipy", "torch", "transformers", "trl", "peft",
    "accelerate", "datasets", "dowhy", "scikit-learn",
)


def is_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules


def in_book_build() -> bool:
    """True while the website is being built (``make book`` sets ``DCLM_BOOK_BUILD=1``).

    Pages built then are static: no progress bars, and widgets give way to their figures.
    """
    return os.environ.get(BOOK_BUILD_ENV_VAR, "") not in ("", "0")


def device(preferred: str = "cpu") -> str:
    """``"cuda"`` when asked for and present, else ``"cpu"``."""
    if preferred.startswith("cuda"):
        try:
            import torch
        except ImportError:
            return "cpu"
        if torch.cuda.is_available():
            return preferred
    return "cpu"


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's, NumPy's and (when installed) torch's global generators.

    Returns a fresh ``numpy.random.Generator`` for code that takes its randomness explicitly,
    which is how every dclm function draws numbers.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    if "torch" in sys.modules or _installed("torch"):
        import torch

        torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed))


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def versions() -> dict[str, str]:
    """Python, platform and the versions of the packages dclm results depend on.

    Read from package metadata, so nothing heavy is imported.
    """
    found = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in REPORTED_PACKAGES:
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def report(preferred_device: str = "cpu") -> dict[str, object]:
    """Everything a bug report needs: versions, device, CPU count, Colab, book build."""
    return {
        "versions": versions(),
        "device": device(preferred_device),
        "cpu_count": os.cpu_count(),
        "colab": is_colab(),
        "book_build": in_book_build(),
    }


def progress(iterable: Iterable, **kwargs) -> Iterator:
    """A tqdm progress bar, silent during the book build so pages stay clean."""
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", in_book_build())
    return iter(tqdm(iterable, **kwargs))
