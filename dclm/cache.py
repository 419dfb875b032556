"""The run cache shared by chapters, tests and the CLI.

A result is stored under a key made of the experiment name, its resolved config, the dclm
version and a hash of every dclm source file, so CI executes each tiny experiment once and a
code change never serves stale numbers. Entries are JSON, written to a temporary file and
renamed into place, so a killed run never leaves half an entry behind.

The cache is an optimisation and never decides a run: an entry that cannot be read as one is
moved aside (``*.bad``) with a warning and the run recomputes; a cache that cannot be written
gives a warning and the result is still returned (and written by the CLI).

Location: ``$DCLM_RUN_CACHE`` (``make`` points it at ``_build/runs``), else
``$XDG_CACHE_HOME/dclm/runs`` (``~/.cache/dclm/runs``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import dclm

CACHE_ENV_VAR = "DCLM_RUN_CACHE"


class CacheWarning(UserWarning):
    """The run cache could not be used; the run goes on without it."""


def cache_dir() -> Path:
    """Where run results are cached (created on first write)."""
    explicit = os.environ.get(CACHE_ENV_VAR)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dclm" / "runs"


@functools.cache
def source_hash() -> str:
    """sha256 over the path and bytes of every ``.py`` file in the installed dclm package."""
    root = Path(dclm.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_key(experiment: str, config: dict[str, Any]) -> str:
    """The cache key of one run: experiment, resolved config, dclm version, source hash."""
    payload = json.dumps(
        {"experiment": experiment, "config": config, "dclm": dclm.__version__, "src": source_hash()},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def entry_path(experiment: str, key: str) -> Path:
    """Where the entry of run ``key`` of ``experiment`` lives (whether or not it exists)."""
    return cache_dir() / experiment / f"{key}.json"


def load(experiment: str, key: str, required: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The cached entry for ``key``, or None when absent.

    An entry that is not a JSON object holding every key in ``required`` (a directory,
    non-UTF-8 bytes, ``{}``, a list...) is renamed to ``<key>.json.bad`` with a
    :class:`CacheWarning`, so it never blocks a later run.
    """
    path = entry_path(experiment, key)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):  # absent, or a cache folder that cannot exist
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        quarantine(path, f"unreadable ({type(err).__name__})")
        return None
    missing = [k for k in required if k not in entry] if isinstance(entry, dict) else list(required)
    if not isinstance(entry, dict) or missing:
        quarantine(path, f"not a run entry (missing {', '.join(missing) or 'an object'})")
        return None
    return entry


def quarantine(path: Path, why: str) -> None:
    """Move a bad cache entry out of the way (``*.bad``) and say so; never raises."""
    bad = path.with_name(path.name + ".bad")
    try:
        if bad.is_dir() and not bad.is_symlink():
            import shutil

            shutil.rmtree(bad, ignore_errors=True)
        os.replace(path, bad)
        where = f"moved to {bad}"
    except OSError as err:
        where = f"could not be moved aside ({err})"
    warnings.warn(f"run cache entry {path} is {why}; {where}; recomputing", CacheWarning, stacklevel=3)


def store(experiment: str, key: str, entry: dict[str, Any]) -> Path | None:
    """Write ``entry`` atomically and return its path; None (and a warning) when the cache is unwritable."""
    path = entry_path(experiment, key)
    try:
        write_json_atomic(path, entry)
    except OSError as err:
        warnings.warn(f"run cache {cache_dir()} is not writable ({err}); the result is not cached",
                      CacheWarning, stacklevel=2)
        return None
    return path


@functools.cache
def file_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask (0644 under the usual 022).

    mkstemp creates 0600 files; results are shared like the figures written beside them.
    """
    try:  # Linux reports the umask without changing it (os.umask would, for every thread)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float as None (JSON null), tuples as lists.

    A seed with no fluent generation or an interval from one seed is NaN; strict JSON has no
    NaN, so the one writer (:func:`write_json_atomic`) and every Result go through this.
    """
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_atomic(path: Path, write: Callable[[IO], Any], binary: bool = False) -> None:
    """Write a file through a temporary file in the same folder, then rename it into place.

    ``write(handle)`` writes the content. A killed or failing writer leaves no half-written
    file, and concurrent writers into one folder never collide (each has its own temporary name).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w") as handle:
            write(handle)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``json_safe(obj)`` to ``path`` atomically (:func:`write_atomic`)."""

    def write(handle: IO) -> None:
        json.dump(json_safe(obj), handle, indent=2, sort_keys=False, allow_nan=False)
        handle.write("\n")

    write_atomic(path, write)
