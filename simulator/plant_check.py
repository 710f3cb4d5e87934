"""Validation helpers shared by the plant-file parsers, and the YAML reader.

Every error is a :class:`PlantError` whose one-line message names the file, the path
inside it (``areas[1].lines[0].machines[3].type``) and what is wrong.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from telemetry.topics import check_id


class PlantError(ValueError):
    """A bad plant or types file; the message names file, path and what is wrong."""


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


class Ctx:
    """Where we are while validating: the file and a path like ``areas[1].id``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, msg: str) -> PlantError:
        where = f"{self.source}: {path}" if path else self.source
        return PlantError(one_line(f"{where}: {msg}"))


# -- value helpers -------------------------------------------------------------------------
def as_map(ctx: Ctx, value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ctx.fail(path, f"must be a mapping, got {show(value)}")
    for k in value:
        if not isinstance(k, str):
            raise ctx.fail(path, f"keys must be strings, got {show(k)}")
    return value


def as_list(ctx: Ctx, value: Any, path: str, *, nonempty: bool = True) -> list[Any]:
    if not isinstance(value, list):
        raise ctx.fail(path, f"must be a list, got {show(value)}")
    if nonempty and not value:
        raise ctx.fail(path, "must not be empty")
    return value


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def known(ctx: Ctx, m: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
    for k in m:
        if k not in allowed:
            raise ctx.fail(join(path, k), f"unknown key (allowed: {', '.join(allowed)})")


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def join(path: str, key: str) -> str:
    """``path.key``; odd keys are quoted (``path["a b"]``) so the message stays one line."""
    if not _PLAIN_KEY.match(key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def num(ctx: Ctx, m: Mapping[str, Any], key: str, path: str, default: float | None = None,
         *, lo: float = 0.0, hi: float = math.inf, lo_open: bool = False) -> float:
    p = join(path, key)
    if key not in m or m[key] is None:
        if default is None:
            raise ctx.fail(p, "is required")
        return default
    v = m[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ctx.fail(p, f"must be a number, got {show(v)}")
    v = float(v)
    if v < lo or (lo_open and v == lo) or v > hi:
        rng = f"{'>' if lo_open else '>='} {lo:g}" + (f" and <= {hi:g}" if hi != math.inf else "")
        raise ctx.fail(p, f"must be {rng}, got {v:g}")
    return v


def text(ctx: Ctx, m: Mapping[str, Any], key: str, path: str,
         default: str | None = None) -> str:
    p = join(path, key)
    if key not in m or m[key] is None:
        if default is None:
            raise ctx.fail(p, "is required")
        return default
    v = m[key]
    if not isinstance(v, str) or not v.strip():
        raise ctx.fail(p, f"must be a non-empty string, got {show(v)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in v):
        raise ctx.fail(p, "must not contain control characters")
    return v


def ident(ctx: Ctx, m: Mapping[str, Any], key: str, path: str, what: str) -> str:
    v = text(ctx, m, key, path)
    try:
        return check_id(what, v)
    except ValueError as exc:
        raise ctx.fail(join(path, key), str(exc)) from exc


def flag(ctx: Ctx, m: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
    if key not in m or m[key] is None:
        return default
    v = m[key]
    if not isinstance(v, bool):
        raise ctx.fail(join(path, key), f"must be true or false, got {show(v)}")
    return v


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PlantError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PlantError(f"{path}: cannot read ({exc})") from exc
    return load_yaml_text(text, str(path))


class _Loader(yaml.SafeLoader):
    """SafeLoader where only true/false are booleans (`off:` is a state, not False)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def load_yaml_text(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise PlantError(one_line(f"{source}:{where} is not valid YAML ({problem})")) from exc
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. odd timestamps
        raise PlantError(one_line(f"{source}: is not valid YAML ({exc})")) from exc
