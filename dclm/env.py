"""The machine a chapter runs on: device, seeds, versions, Colab and book-build detection.

Introduced in the setup chapter. Nothing here runs at import time.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import random
import signal
import sys
from collections.abc import Iterable, Iterator

import numpy as np

from dclm.profiles import DEFAULT_PROFILE, PROFILE_ENV_VAR, get_profile

BOOK_BUILD_ENV_VAR = "DCLM_BOOK_BUILD"
# Forces the GPU's mixed precision, e.g. fp16 with a gradient scaler (the T4 path) on an H100.
PRECISION_ENV_VAR = "DCLM_PRECISION"
PRECISIONS = ("bf16", "fp16", "fp32")

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
    """``"cuda"`` when asked for and present, else ``"cpu"``.

    The one place a device name is resolved: trainers, samplers, encoders and the sentiment
    scorer all go through it, so a colab profile on a machine without a GPU runs on the CPU.
    """
    if preferred.startswith("cuda"):
        try:
            import torch
        except ImportError:
            return "cpu"
        if torch.cuda.is_available():
            return preferred
    return "cpu"


def gpu_count() -> int:
    """How many CUDA devices this process sees (0 without torch or CUDA)."""
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def precision_override() -> str | None:
    """``$DCLM_PRECISION`` (``bf16``, ``fp16`` or ``fp32``), or None when it is unset or empty.

    A value outside those three is a ``ValueError``, on any device: a typo must not silently
    give the capability's precision instead of the one asked for.
    """
    value = os.environ.get(PRECISION_ENV_VAR, "").strip()
    if not value:
        return None
    if value not in PRECISIONS:
        raise ValueError(f"{PRECISION_ENV_VAR}={value!r} is not a precision; valid: {', '.join(PRECISIONS)}")
    return value


def precision(device_name: str) -> str:
    """``"bf16"``, ``"fp16"`` or ``"fp32"``: the mixed precision training uses on ``device_name``.

    bf16 only from compute capability 8.0 (Ampere) on: ``torch.cuda.is_bf16_supported()`` is
    also True on a T4 (7.5), which can make bf16 tensors but has no bf16 tensor cores, so bf16
    there is slow emulation. Below 8.0 it is fp16 with a gradient scaler; on a CPU, fp32.
    ``$DCLM_PRECISION`` (:func:`precision_override`) replaces the capability's choice on a GPU,
    so the T4's fp16 path runs on any GPU; a CPU stays fp32 whatever it says, since fp16 autocast
    is a GPU feature (and CPU references, such as the fp32 embedding loop, must stay fp32).
    """
    override = precision_override()
    if not device_name.startswith("cuda"):
        return "fp32"
    import torch

    index = device_name if ":" in device_name else None
    if override == "bf16" and not torch.cuda.is_bf16_supported():
        major, minor = torch.cuda.get_device_capability(index)
        raise ValueError(f"{PRECISION_ENV_VAR}=bf16 but this GPU (compute capability {major}.{minor}) has no bf16; "
                         "valid here: fp16, fp32")
    if override is not None:
        return override
    major, _ = torch.cuda.get_device_capability(index)
    return "bf16" if major >= 8 else "fp16"


def compute_dtype(device_name: str) -> str:
    """The torch dtype name for frozen models (encoders, scorers) on ``device_name``."""
    return {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}[precision(device_name)]


def worker_count(jobs: int, requested: int, device_name: str) -> int:
    """Parallel training processes for ``jobs`` independent jobs.

    ``requested`` (0 = automatic: one per CPU core, or one per GPU on a GPU profile) is capped
    by the jobs and, on a GPU profile, by the GPUs: each worker sees only its own GPU, and two
    trainings on one GPU would compete for its memory.
    """
    if device(device_name) == "cpu":
        return max(1, min(jobs, requested or os.cpu_count() or 1))
    return max(1, min(jobs, requested or gpu_count(), gpu_count()))


def _pin_to_gpu(gpu_ids) -> None:
    # Runs first in each worker process, before CUDA is initialised there.
    os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu_ids.get())


def pool_kwargs(jobs: int, requested: int, device_name: str, mp_context) -> dict:
    """``max_workers``, ``initializer`` and ``initargs`` for a ProcessPoolExecutor of training jobs.

    On a GPU profile each worker is given its own GPU through ``CUDA_VISIBLE_DEVICES`` (so
    ``"cuda"`` in the worker means that GPU); on the CPU there is nothing to pin.
    """
    workers = worker_count(jobs, requested, device_name)
    if device(device_name) == "cpu":
        return {"max_workers": workers}
    gpu_ids = mp_context.Queue()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    names = [v.strip() for v in visible.split(",")] if visible else [str(i) for i in range(gpu_count())]
    for index in range(workers):
        gpu_ids.put(names[index % len(names)])
    return {"max_workers": workers, "initializer": _pin_to_gpu, "initargs": (gpu_ids,)}


def launch_processes(requested: int, device_name: str) -> int:
    """Processes for ``accelerate launch``: at most one per GPU on a GPU profile.

    Two processes on one GPU would ask rank 1 for ``cuda:1``, which does not exist. On the
    CPU (gloo) any number works.
    """
    if device(device_name) == "cpu":
        return max(1, requested)
    return max(1, min(requested, gpu_count()))


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

    A package already imported reports the version that is loaded (its ``__version__``), not
    what pip has since installed on disk: after an install cell upgrades a package that was
    imported before, the two differ until the runtime restarts, and results come from the
    loaded one. Packages not imported are read from metadata, so nothing heavy is imported.
    """
    found = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in REPORTED_PACKAGES:
        loaded = _loaded_version(dist)
        if loaded is not None:
            found[dist] = loaded
            continue
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


# Import names that differ from their distribution names.
_MODULE_OF = {"scikit-learn": "sklearn", "huggingface-hub": "huggingface_hub"}
# Checked after an install cell: what dclm reports, plus what its install may upgrade. Only
# packages whose __version__ is their distribution's version (else a false alarm would restart
# the runtime on every run of the cell).
RESTART_PACKAGES = (*REPORTED_PACKAGES, "huggingface-hub", "tokenizers", "ipywidgets", "pyarrow", "matplotlib")


def _loaded_version(dist: str) -> str | None:
    module = sys.modules.get(_MODULE_OF.get(dist, dist))
    version = getattr(module, "__version__", None)
    return str(version) if version is not None else None


def stale_imports() -> dict[str, tuple[str, str]]:
    """Imported packages whose installed version differs from the loaded one: ``{dist: (loaded, installed)}``.

    An install cell that upgrades numpy or scipy after they were imported leaves the old
    version in memory; only a runtime restart loads the new one.
    """
    stale = {}
    for dist in RESTART_PACKAGES:
        loaded = _loaded_version(dist)
        if loaded is None:
            continue
        try:
            installed = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
        if installed != loaded:
            stale[dist] = (loaded, installed)
    return stale


def _restart_runtime() -> None:
    # Colab restarts a kernel that exits; a plain Jupyter kernel is restarted by its manager.
    os.kill(os.getpid(), signal.SIGKILL)


def restart_if_stale(restart=_restart_runtime) -> dict[str, tuple[str, str]]:
    """After an install cell: restart the runtime when it changed a package already imported.

    Prints one line naming each change, then ``restart()`` (the default ends this kernel,
    which Colab restarts at once); the reader runs the page again from the top. Returns what
    was stale (empty: nothing to do).
    """
    stale = stale_imports()
    if stale:
        changes = ", ".join(f"{dist} {old} -> {new}" for dist, (old, new) in sorted(stale.items()))
        print(f"dclm: the install changed {changes} after it was imported; restarting the runtime, "
              "then run this notebook again from the top.", flush=True)
        restart()
    return stale


def gpus() -> list[dict[str, object]]:
    """Name, compute capability and memory (GiB) of each visible GPU; empty without one."""
    if not gpu_count():
        return []
    import torch

    found = []
    for index in range(gpu_count()):
        props = torch.cuda.get_device_properties(index)
        found.append({"name": props.name, "capability": f"{props.major}.{props.minor}",
                      "memory_gib": round(props.total_memory / 2**30, 1)})
    return found


def report(profile: str | None = None) -> dict[str, object]:
    """Everything a bug report needs: versions, the profile and the device it really uses.

    ``profile=None`` is the active profile (``$DCLM_PROFILE``, else tiny); ``device`` is where
    its runs go on this machine (its GPU if it asks for one and one is there, else the CPU),
    ``precision`` what training uses there, ``gpus`` what the machine has.
    """

    prof = get_profile(profile)
    used = device(prof.device)
    return {
        "versions": versions(),
        "profile": prof.name,
        "device": used,
        "precision": precision(used),
        "gpus": gpus(),
        "cpu_count": os.cpu_count(),
        "colab": is_colab(),
        "book_build": in_book_build(),
    }


def progress(iterable: Iterable, show: bool = True, **kwargs) -> Iterator:
    """A tqdm progress bar over ``iterable``; ``show=False`` (the book build's
    :class:`dclm.train.options.JobOptions`) iterates silently so pages stay clean."""
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, disable=not show, **kwargs))


def page_profile() -> str:
    """The profile of a chapter's main run: ``$DCLM_PROFILE`` if set; ``colab`` on a Colab GPU; else ``tiny``.

    So the "Open in Colab" badge reaches a GPU profile without the reader setting anything,
    while the website build and CI (which set ``DCLM_PROFILE=tiny``) stay on the CPU.
    """
    configured = os.environ.get(PROFILE_ENV_VAR)
    if configured:
        return get_profile(configured).name
    return "colab" if is_colab() and gpu_count() > 0 else DEFAULT_PROFILE
