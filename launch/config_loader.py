"""Turn TOML tables into frozen settings dataclasses, rejecting unknown keys and bad values by name.

Generic on purpose: each package defines its own settings dataclass (with a comment on every
default) and `launch.config` only lists which table feeds which class.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

from cadenza.errors import ConfigError

T = TypeVar("T")


def build_section(cls: type[T], table: Any, where: str) -> T:
    """Build dataclass `cls` from TOML `table`; `where` names the table in error messages."""
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table, got {type(table).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(table) - names)
    if unknown:
        raise ConfigError(f"unknown key {where}.{unknown[0]} (known keys: {', '.join(sorted(names))})")
    values = {name: _convert(hints[name], value, f"{where}.{name}") for name, value in table.items()}
    try:
        obj = cls(**values)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"[{where}]: {e}") from e
    return obj


def _convert(hint: Any, value: Any, key: str) -> Any:
    """Check `value` against the type `hint` and convert it (paths, tuples, enums, nested tables)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _convert(inner[0], value, key)
        raise ConfigError(f"{key}: unsupported union type {hint}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key} must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        return build_section(hint, value, key)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError as e:
            choices = ", ".join(repr(m.value) for m in hint)
            raise ConfigError(f"{key} must be one of {choices}, got {value!r}") from e
    if hint is bool:
        return _expect(value, bool, key, "true or false")
    if hint is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return _expect(value, int, key, "an integer")
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        return _expect(value, str, key, "a string")
    if hint is Path:
        return Path(_expect(value, str, key, "a path string"))
    if origin in (list, tuple):
        _expect(value, list, key, "a list")
        item = args[0] if args else Any
        items = [_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _expect(value, dict, key, "a table")
        return {str(k): _convert(args[1], v, f"{key}.{k}") for k, v in value.items()}
    if hint is Any:
        return value
    raise ConfigError(f"{key}: unsupported setting type {hint}")


def _expect(value: Any, kind: type, key: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise ConfigError(f"{key} must be {what}, got {value!r}")
    return value
