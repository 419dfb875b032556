"""The experiments: one module each, used by its chapter, its tests and ``dclm run``.

Every module defines

- ``Config``: a dataclass with every knob, including ``seed``;
- ``SEED_DOC``: what the seed seeds;
- ``config_for(profile, seed) -> Config``: the sizes a profile asks for;
- ``run(cfg, work_dir) -> dict``: ``{"metrics": {...}, "data": {...}}``, JSON-ready; metrics
  are the public contract of the CLI, data feeds the figures; ``work_dir`` holds checkpoints
  and intermediate files, so a re-run with the same folder resumes;
- ``figures(result) -> dict[str, Figure]``: the figures the chapter shows and the CLI saves.

Call them through :func:`run` below, which resolves the config and goes through the run cache.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from dclm import cache, env
from dclm.config import apply_overrides, to_dict
from dclm.profiles import PROFILES, SETTING_REASONS, get_profile

EXPERIMENTS: dict[str, str] = {
    "confounding": "Chapter 1: a confounded text feature; naive vs adjusted regression and dowhy",
    "iv": "Chapter 2: instrumental variables, weak instruments, and the DeconfoundLM correction",
    "monday": "Chapter 3: SFT then DPO amplifies a confounded weekday marker; the deconfounded fix",
    "deconfound": "Chapter 5: DeconfoundLM end to end: deconfounded reward models, RLOO, generation metrics",
    "upworthy": "Chapter 4: observational vs experimental headline rewards and the ridge penalty sweep",
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
            "metrics": self.metrics,
        }

    def figures(self) -> dict[str, Any]:
        """The experiment's figures, drawn from this result."""
        return get_module(self.experiment).figures(self)


def resolve_config(name: str, profile: str | None = None, seed: int = 0,
                   overrides: dict[str, str] | None = None):
    """The config a run would use: the profile's sizes, the seed, then ``--set`` overrides."""
    module = get_module(name)
    prof = get_profile(profile)
    cfg = module.config_for(prof, seed)
    return prof, apply_overrides(cfg, overrides)


def run(name: str, profile: str | None = None, seed: int = 0,
        overrides: dict[str, str] | None = None, use_cache: bool = True,
        work_dir: str | Path | None = None) -> Result:
    """Run experiment ``name`` (or fetch it from the run cache) and return its Result.

    ``profile=None`` reads ``$DCLM_PROFILE`` (default ``tiny``). ``overrides`` are dotted
    config keys with string values, as given to ``dclm run --set``. ``work_dir`` keeps
    checkpoints (default: next to the cache entry); re-running with it resumes.
    """
    module = get_module(name)
    prof, cfg = resolve_config(name, profile, seed, overrides)
    config = to_dict(cfg)
    key = cache.run_key(name, config)
    if use_cache:
        entry = cache.load(name, key)
        if entry is not None:
            return Result(**entry, from_cache=True)
    env.seed_everything(cfg.seed)
    work = Path(work_dir) if work_dir is not None else cache.cache_dir() / name / f"{key}.work"
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    output = module.run(cfg, work)
    result = Result(
        experiment=name,
        profile=prof.name,
        seed=cfg.seed,
        config=config,
        metrics=output["metrics"],
        data=output.get("data", {}),
        wall_s=round(time.perf_counter() - start, 3),
        # The device the run used: its config's choice where it has one, else the CPU.
        device=env.device(getattr(cfg, "device", "cpu")),
        versions=env.versions(),
        seed_doc=module.SEED_DOC,
        world_size=output.get("world_size", 1),
    )
    if use_cache:
        entry = {k: v for k, v in result.__dict__.items() if k != "from_cache"}
        cache.store(name, key, entry)
    return result


def settings_table(name: str, seed: int = 0):
    """Each profile's value of the settings that differ by profile, with the reason: a DataFrame.

    Rows are ``dclm.profiles.SETTING_REASONS[name]``; values are the resolved configs (what
    ``dclm run name --profile P`` would use), so the table cannot drift from the code. Shown
    at the top of chapters 3-5.
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

    rows = {key: {**{p: shown(configs[p][key]) for p in PROFILES}, "why": why}
            for key, why in SETTING_REASONS.get(name, {}).items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "setting"
    return table
