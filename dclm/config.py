"""Experiment configs: dataclasses that can be printed, hashed and overridden by dotted keys.

``dclm run ... --set a.b=v`` lands here. Introduced in the setup chapter.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass
from typing import Any, ClassVar


class ConfigError(ValueError):
    """An unknown config key, a value of the wrong type, or a value out of range."""


# Training seed k of run seed s is 1000*s + k (job_seed), and transformers' set_seed hands it
# to np.random.seed, which takes values below 2**32.
MAX_SEED = 2**32 // 1000 - 1


def job_seed(seed: int, job: int = 0) -> int:
    """The seed of training or sampling job ``job`` (0-999) of run seed ``seed``: ``1000·seed + job``.

    One integer, because transformers' ``set_seed`` takes one; derived in this one place so
    every experiment's jobs are seeded the same way. (Streams of simulated data come from
    ``np.random.SeedSequence(seed).spawn`` instead; these integer seeds are kept because a
    change would change every trained model and metric.)
    """
    if not 0 <= job < 1000:
        raise ConfigError(f"job={job}: a run has at most 1000 seeded jobs (0-999)")
    return 1000 * check_seed(seed) + job


def check_seed(seed: Any) -> int:
    """``seed`` if it is an integer from 0 to :data:`MAX_SEED`; a :class:`ConfigError` otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"--seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return seed


def check_config(cfg: Any, prefix: str = "") -> None:
    """The range checks every experiment config gets, raising :class:`ConfigError`.

    Numbers must be finite, standard deviations (``*_sd``) non-negative and lists non-empty.
    Integers count something and must be at least 1. The fields a config names in its
    ``ZERO_OK`` class attribute may be 0 (integers) or empty (lists: an optional part of a
    study left out). Nested configs are checked too.
    """
    zero_ok = {"seed", *getattr(cfg, "ZERO_OK", ())}
    for field in dataclasses.fields(cfg):
        key, value = prefix + field.name, getattr(cfg, field.name)
        if dataclasses.is_dataclass(value):
            check_config(value, key + ".")
            continue
        if field.name == "seed":
            check_seed(value)
        if isinstance(value, tuple) and not value and field.name not in zero_ok:
            raise ConfigError(f"{key} is empty: give at least one value (e.g. --set {key}=1,2)")
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, float) and not math.isfinite(item):
                raise ConfigError(f"{key}={_show(value)}: expected finite numbers")
            if field.name.endswith("_sd") and isinstance(item, (int, float)) and item < 0:
                raise ConfigError(f"{key}={_show(value)}: a standard deviation must be >= 0")
            if isinstance(item, int) and not isinstance(item, bool):
                low = 0 if field.name in zero_ok else 1
                if item < low:
                    raise ConfigError(f"{key}={_show(value)}: expected an integer >= {low}")


def knob(default: Any, help: str, why: str | None = None) -> Any:
    """A config field with its help text and, for a field a profile sets, the reason for each
    profile's value (shown in the chapter's settings table, :func:`dclm.experiments.settings_table`)."""
    metadata = {"help": help, **({"why": why} if why else {})}
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class ExperimentConfig:
    """The base of every experiment's ``Config``: a frozen dataclass that checks itself when built.

    ``__post_init__`` runs the checks every config gets (:func:`check_config`, ``MINIMUMS``,
    ``CHOICES``), then the experiment's own :meth:`validate`, so a config built in a chapter, rebuilt in a worker
    process or changed by ``--set`` is checked the same way, with one-line :class:`ConfigError`.
    """

    # Integer fields for which 0 means something (see check_config).
    ZERO_OK: ClassVar[tuple[str, ...]] = ()
    # The least value of fields with a floor beyond check_config's (e.g. rows a simulator needs).
    MINIMUMS: ClassVar[dict[str, int | float]] = {}
    # Fields that take one of a fixed set of values (every item, for a tuple field).
    CHOICES: ClassVar[dict[str, tuple]] = {}

    def __post_init__(self) -> None:
        check_config(self)
        check_at_least(self, self.MINIMUMS)
        for key, valid in self.CHOICES.items():
            check_choice(key, getattr(self, key), valid)
        self.validate()

    def validate(self) -> None:
        """Checks particular to one experiment (choices, ranges); raises :class:`ConfigError`."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """The config of :func:`to_dict` output: how a config crosses a process boundary."""
        return from_dict(cls, data)


def check_at_least(cfg: Any, minimums: dict[str, int | float]) -> None:
    """Raise :class:`ConfigError` for the first field of ``cfg`` below its minimum."""
    for key, low in minimums.items():
        value = getattr(cfg, key)
        if value < low:
            raise ConfigError(f"{key}={value}: expected at least {low}")


def check_choice(key: str, value: Any, choices: tuple, or_path: str | None = None) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices`` (every item, for a tuple)
    or, when ``or_path`` describes what such a path holds, an existing path."""
    from pathlib import Path

    for item in value if isinstance(value, tuple) else (value,):
        if item in choices or (or_path is not None and isinstance(item, str) and Path(item).exists()):
            continue
        valid = ", ".join(map(str, choices)) + (f", or the path of {or_path}" if or_path else "")
        missing = " (no such path)" if or_path else ""
        raise ConfigError(f"{key}={item!r}{missing}: valid values are {valid}")


def _show(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) config dataclass; tuples become lists."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def valid_keys(cfg: Any, prefix: str = "") -> list[str]:
    """Every dotted key that ``--set`` accepts for ``cfg``."""
    keys = []
    for field in dataclasses.fields(cfg):
        value = getattr(cfg, field.name)
        if dataclasses.is_dataclass(value):
            keys.extend(valid_keys(value, prefix + field.name + "."))
        else:
            keys.append(prefix + field.name)
    return keys


def _parse(raw: str, annotation: Any, key: str) -> Any:
    origin = typing.get_origin(annotation)
    if annotation is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"--set {key}={raw}: expected true or false")
    if annotation in (int, float, str):
        try:
            value = annotation(raw)
        except ValueError:
            raise ConfigError(
                f"--set {key}={raw}: expected a value of type {annotation.__name__}"
            ) from None
        if annotation is float and not math.isfinite(value):
            raise ConfigError(f"--set {key}={raw}: expected a finite number")
        return value
    if origin is tuple:
        (item_type, *_rest) = typing.get_args(annotation)
        text = raw.strip()
        example = "1,2,3 or [1, 2, 3]"
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError:
                raise ConfigError(f"--set {key}={raw}: not a list; write it as {example}") from None
            if not isinstance(items, list) or any(isinstance(i, (list, dict)) for i in items):
                raise ConfigError(f"--set {key}={raw}: expected a flat list such as {example}")
        else:
            items = [p.strip() for p in text.split(",")]
            if any(p == "" for p in items) and text:
                raise ConfigError(f"--set {key}={raw}: an empty item; write the list as {example}")
            items = [p for p in items if p]
        return tuple(_parse(str(item), item_type, key) for item in items)
    raise ConfigError(f"--set {key}: values of type {annotation!r} cannot be set from the command line")


def apply_overrides(cfg: Any, overrides: dict[str, str] | None) -> Any:
    """A copy of ``cfg`` with ``{"a.b": "value"}`` overrides parsed by each field's type."""
    keys = valid_keys(cfg)
    for key, raw in (overrides or {}).items():
        if key not in keys:
            group = [k for k in keys if k.startswith(key + ".")]
            if group:
                raise ConfigError(f"config key {key!r} is a group; set one of: {', '.join(group)}")
            raise ConfigError(f"unknown config key {key!r}; valid keys: {', '.join(keys)}")
        cfg = _set(cfg, key.split("."), raw, key)
    return cfg


def _set(cfg: Any, path: list[str], raw: str, full_key: str) -> Any:
    name = path[0]
    if len(path) > 1:
        return dataclasses.replace(cfg, **{name: _set(getattr(cfg, name), path[1:], raw, full_key)})
    annotation = typing.get_type_hints(type(cfg))[name]
    return dataclasses.replace(cfg, **{name: _parse(raw, annotation, full_key)})


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a config dataclass from ``to_dict`` output (lists become tuples again)."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        value = data[field.name]
        annotation = hints[field.name]
        if dataclasses.is_dataclass(annotation):
            value = from_dict(annotation, value)
        elif typing.get_origin(annotation) is tuple:
            value = tuple(value)
        kwargs[field.name] = value
    return cls(**kwargs)
