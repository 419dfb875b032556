"""Experiment configs: dataclasses that can be printed, hashed and overridden by dotted keys.

``dclm run ... --set a.b=v`` lands here. Introduced in the setup chapter.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any


class ConfigError(ValueError):
    """An unknown config key or a value of the wrong type."""


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
            return annotation(raw)
        except ValueError:
            raise ConfigError(
                f"--set {key}={raw}: expected a value of type {annotation.__name__}"
            ) from None
    if origin is tuple:
        (item_type, *_rest) = typing.get_args(annotation)
        text = raw.strip()
        items = json.loads(text) if text.startswith("[") else [p for p in text.split(",") if p]
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
