"""The experiments: one module each, used by its chapter, its tests and ``dclm run``.

Every module defines

- ``Config``: a dataclass with every knob, including ``seed``;
- ``SEED_DOC``: what the seed seeds;
- ``config_for(profile, seed) -> Config``: the sizes a profile asks for;
- ``run(cfg, work_dir, options) -> dict``: ``{"metrics": {...}, "data": {...}}``, JSON-ready; metrics
  are the public contract of the CLI, data feeds the figures; ``work_dir`` holds checkpoints
  and intermediate files, so a re-run with the same folder resumes;
- ``figures(result) -> dict[str, Figure]``: the figures the chapter shows and the CLI saves;
- ``claims(metrics, data) -> dict[str, Claim]``: the chapter's comparative sentences, and
  ``LESSON``: the keys of the claims its lesson rests on (the tests assert they hold).

Every ``Config`` subclasses :class:`dclm.config.ExperimentConfig`, so building one checks it
(``ConfigError`` for a value its code cannot run with).

Call them through :func:`run` below, which resolves the config and goes through the run cache.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from dclm import cache, env
from dclm.config import apply_overrides, check_seed, to_dict
from dclm.profiles import PROFILES, get_profile
from dclm.train.options import JobOptions

EXPERIMENTS: dict[str, str] = {
    "confounding": "Chapter 1: a confounded text feature; naive vs adjusted regression and dowhy",
    "iv": "Chapter 2: instrumental variables, weak instruments, and the DeconfoundLM correction",
    "monday": "Chapter 3: SFT then DPO amplifies a confounded weekday marker; the deconfounded fix",
    "deconfound": "Chapter 5: DeconfoundLM end to end: deconfounded reward models, RLOO, generation metrics",
    "upworthy": "Chapter 4: observational vs experimental headline rewards and the ridge penalty sweep",
    "diagnose": "Chapter 6: is my reward confounded? canary tests, lambda without an experiment, the limits",
}


class UnknownExperimentError(ValueError):
    """An experiment name that is not in the registry."""


def get_module(name: str) -> ModuleType:
    """The module of experiment ``name``; unknown names list the valid ones."""
    if name not in EXPERIMENTS:
        raise UnknownExperimentError(
            f"unknown experiment {name!r}; valid experiments: {', '.join(EXPERIMENTS)}"
        )
    return importlib.import_module(f"dclm.experiments.{name}")


@dataclass
class Result:
    """One experiment run: its resolved config, metrics and the data behind its figures."""

    experiment: str
    profile: str
    seed: int
    config: dict[str, Any]
    metrics: dict[str, Any]
    data: dict[str, Any]
    wall_s: float
    device: str
    versions: dict[str, str]
    seed_doc: str
    world_size: int = 1
    # Attempts it took (a killed run resumed is 2); wall_s sums the time of all of them.
    attempts: int = 1
    from_cache: bool = field(default=False, compare=False)

    def envelope(self) -> dict[str, Any]:
        """The ``metrics.json`` envelope of design.md section 3."""
        return {
            "experiment": self.experiment,
            "profile": self.profile,
            "seed": self.seed,
            "seed_doc": self.seed_doc,
            "device": self.device,
            "world_size": self.world_size,
            "versions": self.versions,
            "config": self.config,
            "wall_s": self.wall_s,
            "attempts": self.attempts,
            "metrics": self.metrics,
        }

    def figures(self) -> dict[str, Any]:
        """The experiment's figures, drawn from this result."""
        return get_module(self.experiment).figures(self)

    @property
    def claims(self) -> dict[str, Any]:
        """The comparative sentences of the experiment's chapter, computed from these metrics:
        ``{key: dclm.claims.Claim}``, with ``holds`` and ``text``."""
        return get_module(self.experiment).claims(self.metrics, self.data)

    def summary(self) -> str:
        """A few lines: what ran, and each lesson claim with whether it holds."""
        module = get_module(self.experiment)
        claims = self.claims
        lines = [f"{self.experiment} ({self.profile} profile, seed {self.seed}, {self.device}, "
                 f"{self.wall_s:.0f} s{', from the run cache' if self.from_cache else ''})"]
        for key in module.LESSON:
            claim = claims[key]
            lines.append(f"  [{'holds' if claim.holds else 'FAILS'}] {key}: {claim.text}")
        return "\n".join(lines)

    def to_json(self) -> str:
        """The ``metrics.json`` text: :meth:`envelope` as strict JSON (NaN as null)."""
        return json.dumps(cache.json_safe(self.envelope()), indent=2, allow_nan=False) + "\n"


def resolve_config(name: str, profile: str | None = None, seed: int = 0,
                   overrides: dict[str, str] | None = None):
    """The config a run would use: the profile's sizes, the seed, then ``--set`` overrides.

    Raises :class:`dclm.config.ConfigError` for a value the experiment cannot run with.
    """
    module = get_module(name)
    prof = get_profile(profile)
    # Building a Config checks it (ExperimentConfig.__post_init__), --set values included.
    return prof, apply_overrides(module.config_for(prof, check_seed(seed)), overrides)


# Bookkeeping inside a work folder: what it belongs to, and how long each attempt ran.
RUN_FILE, ATTEMPTS_DIR = "run.json", "attempts"
HEARTBEAT_S = 1.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Attempt:
    """Records this attempt's wall time in ``work/attempts/`` every second, so a run killed
    (even by SIGKILL) and resumed reports the time of every attempt, not only the last."""

    def __init__(self, work: Path):
        self.folder = work / ATTEMPTS_DIR
        self.path = self.folder / f"{uuid.uuid4().hex}.json"
        # Earlier attempts that have ended; a concurrent run of the same config is not one.
        self.previous = []
        for other in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                record = json.loads(other.read_text())
                if record.get("finished") or not _pid_alive(int(record["pid"])):
                    self.previous.append(float(record["wall_s"]))
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue  # a torn or foreign file: it only costs an attempt's seconds
        self.start = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def _write(self, finished: bool = False) -> None:
        try:
            cache.write_json_atomic(self.path, {"pid": os.getpid(), "wall_s": round(self.elapsed(), 3),
                                                "finished": finished})
        except OSError:
            pass  # bookkeeping only: a concurrent run may have pruned the folder

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            self._write()

    def __enter__(self) -> _Attempt:
        self._write()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._write(finished=True)

    def total(self) -> float:
        return round(sum(self.previous) + self.elapsed(), 3)


def _prune(work: Path) -> None:
    """Remove a work folder that holds nothing but bookkeeping (nothing to resume from)."""
    try:
        if work.is_dir() and {p.name for p in work.iterdir()} <= {RUN_FILE, ATTEMPTS_DIR}:
            shutil.rmtree(work, ignore_errors=True)
    except OSError:
        pass


def work_folder(name: str, key: str, config: dict[str, Any], work_dir: str | Path | None) -> Path:
    """The checkpoint folder of one run: ``work_dir/<run key>`` (default: next to the cache entry).

    Keyed by the run key (experiment, resolved config, dclm source), so a folder reused with
    another config or seed never resumes, or returns, another run's results. An unwritable
    default location falls back to a temporary folder (no resume) with a warning.
    """
    work = Path(work_dir) / key if work_dir is not None else cache.cache_dir() / name / f"{key}.work"
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if work_dir is not None:
            raise
        work = Path(tempfile.mkdtemp(prefix=f"dclm-{name}-{key}-"))
        warnings.warn(f"run cache {cache.cache_dir()} is not writable ({err}); checkpoints go to {work} "
                      "and a killed run will not resume", cache.CacheWarning, stacklevel=3)
    record = work / RUN_FILE
    # A folder reused by a new attempt is in use again: `dclm clean` must not take it.
    if not record.exists() or _is_finished(work):
        cache.write_json_atomic(record, {"experiment": name, "key": key, "config": config})
    return work


def _mark_finished(work: Path) -> None:
    """Record in ``work``'s run file that its run completed: the folder no longer resumes anything."""
    try:
        record = json.loads((work / RUN_FILE).read_text())
        cache.write_json_atomic(work / RUN_FILE, {**record, "finished": True})
    except (OSError, ValueError):
        pass  # bookkeeping only: without the mark, `dclm clean` keeps the folder


def _is_finished(work: Path) -> bool:
    try:
        return json.loads((work / RUN_FILE).read_text()).get("finished") is True
    except (OSError, ValueError, AttributeError):
        return False  # not a work folder of ours, or one being written


def finished_work_folders(out_dirs: tuple[str | Path, ...] = ()) -> list[Path]:
    """Work folders of completed runs: in the run cache and in each ``out_dir/work`` (``dclm run --out``).

    A folder whose run was killed keeps no mark and is left alone, since a re-run resumes from it.
    """
    candidates = list(cache.cache_dir().glob("*/*.work"))
    for out in out_dirs:
        candidates += [p for p in (Path(out) / "work").glob("*") if p.is_dir()]
    return [folder for folder in sorted(candidates) if _is_finished(folder)]


def clean(out_dirs: tuple[str | Path, ...] = (), dry_run: bool = False) -> list[tuple[Path, int]]:
    """Remove the work folders of completed runs (checkpoints nothing will resume from).

    Returns each folder with its size in bytes; ``dry_run`` only lists them. Cached results,
    figures and metrics.json files are never touched.
    """
    removed = []
    for folder in finished_work_folders(out_dirs):
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
        removed.append((folder, size))
    return removed


# What each stored field of a Result must be (its annotation, read as a type).
_ENTRY_TYPES = {"dict": dict, "str": str, "int": int, "float": (int, float)}


def _cached(name: str, key: str) -> Result | None:
    fields = [f for f in dataclasses.fields(Result) if f.name != "from_cache"]
    required = tuple(f.name for f in fields
                     if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    entry = cache.load(name, key, required=required)
    if entry is None:
        return None
    for f in fields:
        expected = _ENTRY_TYPES[str(f.type).split("[")[0]]
        if f.name in entry and (not isinstance(entry[f.name], expected) or isinstance(entry[f.name], bool)):
            cache.quarantine(cache.entry_path(name, key), f"not a run entry ({f.name} is {entry[f.name]!r:.40})")
            return None
    return Result(**{f.name: entry[f.name] for f in fields if f.name in entry}, from_cache=True)


def run(name: str, profile: str | None = None, seed: int = 0,
        overrides: dict[str, str] | None = None, use_cache: bool = True,
        work_dir: str | Path | None = None, options: JobOptions | None = None) -> Result:
    """Run experiment ``name`` (or fetch it from the run cache) and return its Result.

    ``profile=None`` reads ``$DCLM_PROFILE`` (default ``tiny``). ``overrides`` are dotted
    config keys with string values, as given to ``dclm run --set``. Checkpoints go to
    ``work_dir/<run key>`` (see :func:`work_folder`); re-running with the same ``work_dir``
    and config resumes. ``options`` (progress bars, fault injection; never part of the result)
    default to what the environment asks for (:meth:`JobOptions.from_environment`).
    """
    module = get_module(name)
    prof, cfg = resolve_config(name, profile, seed, overrides)
    config = to_dict(cfg)
    key = cache.run_key(name, config)
    if use_cache:
        cached = _cached(name, key)
        if cached is not None:
            return cached
    env.seed_everything(cfg.seed)
    work = work_folder(name, key, config, work_dir)
    try:
        with _Attempt(work) as attempt:
            output = module.run(cfg, work, options or JobOptions.from_environment())
        _mark_finished(work)
    finally:
        _prune(work)
    result = Result(
        experiment=name,
        profile=prof.name,
        seed=cfg.seed,
        config=config,
        metrics=cache.json_safe(output["metrics"]),
        data=cache.json_safe(output.get("data", {})),
        wall_s=attempt.total(),
        # The device the run used: its config's choice where it has one, else the CPU.
        device=env.device(getattr(cfg, "device", "cpu")),
        versions=env.versions(),
        seed_doc=module.SEED_DOC,
        world_size=output.get("world_size", 1),
        attempts=len(attempt.previous) + 1,
    )
    if use_cache:
        entry = {k: v for k, v in result.__dict__.items() if k != "from_cache"}
        cache.store(name, key, entry)
    return result


def settings_table(name: str, seed: int = 0):
    """Each profile's value of the settings that differ by profile, with the reason: a DataFrame.

    Rows are the config fields that carry a reason (``knob(..., why=...)``), in the config's
    order; values are the resolved configs (what ``dclm run name --profile P`` would use), so
    the table cannot drift from the code. Shown at the top of chapters 3-5.
    """
    import pandas as pd

    module = get_module(name)
    configs = {profile: to_dict(module.config_for(PROFILES[profile], seed)) for profile in PROFILES}

    def shown(value: Any) -> str:
        if isinstance(value, (list, tuple)):
            return ", ".join(str(v).rsplit("/", 1)[-1] for v in value)
        if isinstance(value, float):
            return f"{value:g}"
        return str(value).rsplit("/", 1)[-1] if isinstance(value, str) else str(value)

    reasons = {f.name: f.metadata["why"] for f in dataclasses.fields(module.Config) if "why" in f.metadata}
    rows = {key: {**{p: shown(configs[p][key]) for p in PROFILES}, "why": why} for key, why in reasons.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "setting"
    return table
