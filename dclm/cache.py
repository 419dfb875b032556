"""The run cache shared by chapters, tests and the CLI.

A result is stored under a key made of the experiment name, its resolved config, the dclm
version and a hash of every dclm source file, so CI executes each tiny experiment once and a
code change never serves stale numbers. Entries are JSON, written to a temporary file and
renamed into place, so a killed run never leaves half an entry behind.

Location: ``$DCLM_RUN_CACHE`` (``make`` points it at ``_build/runs``), else
``$XDG_CACHE_HOME/dclm/runs`` (``~/.cache/dclm/runs``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import dclm

CACHE_ENV_VAR = "DCLM_RUN_CACHE"


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


def _entry(experiment: str, key: str) -> Path:
    return cache_dir() / experiment / f"{key}.json"


def load(experiment: str, key: str) -> dict[str, Any] | None:
    """The cached entry for ``key``, or None when absent or unreadable."""
    path = _entry(experiment, key)
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def store(experiment: str, key: str, entry: dict[str, Any]) -> Path:
    """Write ``entry`` atomically and return its path."""
    path = _entry(experiment, key)
    write_json_atomic(path, entry)
    return path


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(obj, handle, indent=2, sort_keys=False, allow_nan=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
