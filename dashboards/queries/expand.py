"""Grafana's macro and template-variable expansion, so the terminal overview and the tests
run the very strings the dashboards carry, expanded the way Grafana's InfluxQL data source
expands them (:func:`substitute`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from dashboards.queries.core import (
    ALL_VALUE,
    DEFAULT_DAILY_TARGET,
    VAR_AREA,
    VAR_COLLECTOR,
    VAR_DAILY_TARGET,
    VAR_ENTERPRISE,
    VAR_LINE,
    VAR_MACHINE,
    VAR_SITE,
)
from telemetry.contract import DEFAULT_ENTERPRISE, DEFAULT_SITE, HARDWARE_AREA


@dataclass(frozen=True)
class Variable:
    """A template variable's current value(s) as Grafana holds them.

    Grafana's InfluxDB data source formats a variable like this: neither multi-value nor
    "Include All" -> the value regex-escaped (numbers raw); otherwise each value
    regex-escaped and several joined with ``|`` (no parentheses, hence the group in
    :func:`tag_match`); "All" with a custom all value -> that value, raw. (For values
    with regex metacharacters Grafana's multi-value escaping doubles the backslash; our
    ids have none but ``.``, and ``.`` matches itself either way.)
    """

    values: tuple[str, ...] = ()
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    is_all: bool = False
    options: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.values and not self.is_all:
            raise ValueError("a variable needs at least one value (or is_all)")
        if self.is_all and not self.include_all:
            raise ValueError("only a variable with include_all can be All")
        if not self.multi and not self.include_all and len(self.values) != 1:
            raise ValueError(f"a single-value variable has one value, got {self.values}")

    def format(self) -> str:
        if self.is_all:
            if self.all_value is not None:
                return self.all_value
            return "|".join(regex_escape(v) for v in self.options or self.values)
        if not self.multi and not self.include_all:
            value = self.values[0]
            return value if _is_number(value) else regex_escape(value)
        return "|".join(regex_escape(v) for v in self.values)


def single(value: str) -> Variable:
    """A plain (not multi-value, no All) variable such as ``$site``."""
    return Variable((value,))


def multi(*values: str) -> Variable:
    """A multi-value variable with All (``$machine``) holding `values`."""
    return Variable(tuple(values), multi=True, include_all=True, all_value=ALL_VALUE)


ALL = Variable(multi=True, include_all=True, all_value=ALL_VALUE, is_all=True)

#: Values the terminal overview and the tests use when nothing else is chosen: the
#: default plant (as the dashboards' defaults), "All" for the multi-value variables.
DEFAULT_VARIABLES: dict[str, Variable] = {
    VAR_ENTERPRISE: single(DEFAULT_ENTERPRISE),
    VAR_SITE: single(DEFAULT_SITE),
    VAR_AREA: single(HARDWARE_AREA),
    VAR_LINE: ALL,
    VAR_MACHINE: ALL,
    VAR_DAILY_TARGET: single(str(DEFAULT_DAILY_TARGET)),
    VAR_COLLECTOR: ALL,
}


@lru_cache(maxsize=1)
def _default_plant_variables() -> dict[str, Variable]:
    """The plant-generated variables (output machines, shift offset) of the default plant."""
    from dashboards.wall import Wall, load  # noqa: PLC0415  # the plant file, only when needed

    return Wall.of("en", load()).query_variables()


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")


def regex_escape(value: str) -> str:
    """Grafana's ``escapeRegex``: a backslash before each regex metacharacter and ``/``."""
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


#: Grafana's interval rounding table (upper bound ms -> interval ms).
_ROUND_MS = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000),
    (3_500, 2_000), (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000),
    (45_000, 30_000), (90_000, 60_000), (210_000, 120_000), (450_000, 300_000),
    (750_000, 600_000), (1_050_000, 900_000), (1_500_000, 1_200_000),
    (2_700_000, 1_800_000), (5_400_000, 3_600_000), (9_000_000, 7_200_000),
    (16_200_000, 10_800_000), (24_300_000, 21_600_000), (64_800_000, 43_200_000),
    (129_600_000, 86_400_000), (864_000_000, 604_800_000), (2_620_800_000, 2_592_000_000),
)


def round_interval_ms(interval_ms: float) -> int:
    """Round a raw interval to a 'nice' one, the way Grafana does."""
    if interval_ms <= 10:
        return 1
    for upper, nice in _ROUND_MS:
        if interval_ms <= upper:
            return nice
    return 31_536_000_000


def format_interval(interval_ms: int) -> str:
    """``10s``, ``1m``, ``2h``, ``1d``, ``500ms``: Grafana's interval text (floored)."""
    for unit, ms in (("y", 31_536_000_000), ("d", 86_400_000), ("h", 3_600_000),
                     ("m", 60_000), ("s", 1_000), ("ms", 1)):
        if interval_ms >= ms:
            return f"{interval_ms // ms}{unit}"
    return "1ms"


def parse_interval(text: str) -> int:
    """``10s`` / ``1h`` / ``500ms`` / ``1d`` -> milliseconds (a panel's min interval)."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text.strip())
    if not m:
        raise ValueError(f"interval {text!r}: use a number and ms, s, m, h, d, w or y")
    scale = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
             "w": 604_800_000, "y": 31_536_000_000}[m.group(2)]
    return int(m.group(1)) * scale


def interval_ms_for(from_ms: int, to_ms: int, max_data_points: int = 1_000,
                    min_interval: str | None = None) -> int:
    """The ``$__interval`` Grafana computes for a window, in milliseconds."""
    if to_ms <= from_ms:
        raise ValueError(f"time range {from_ms}..{to_ms} is empty")
    if max_data_points <= 0:
        raise ValueError(f"max_data_points must be positive, got {max_data_points}")
    interval = round_interval_ms((to_ms - from_ms) / max_data_points)
    if min_interval:
        interval = max(interval, parse_interval(min_interval))
    return interval


_VAR_RE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)\]\]")


def substitute(query: str, *, from_ms: int, to_ms: int,
               variables: Mapping[str, str | Sequence[str] | Variable] | None = None,
               interval_ms: int | None = None, max_data_points: int = 1_000,
               min_interval: str | None = None) -> str:
    """Expand Grafana's InfluxQL macros and template variables in `query`.

    ``$timeFilter`` / ``$__timeFilter`` -> ``time >= {from}ms and time <= {to}ms``;
    ``$__interval`` / ``$interval`` -> e.g. ``10s``; ``$__interval_ms`` -> e.g. ``10000``;
    ``$var``, ``${var}`` and ``[[var]]`` -> the variable's value as :class:`Variable`
    formats it: a plain string is a single-value variable, a sequence a multi-value one;
    ``${var:raw}`` -> the value(s) as they are (Grafana's ``raw`` format: no escaping);
    variables not given take :data:`DEFAULT_VARIABLES` and the default plant's output
    machines and shift offset. Unknown variables are left
    alone, as Grafana does.
    """
    if interval_ms is None:
        interval_ms = interval_ms_for(from_ms, to_ms, max_data_points, min_interval)
    values: dict[str, Variable] = {}
    given = {**DEFAULT_VARIABLES, **_default_plant_variables(), **(variables or {})}
    for name, value in given.items():
        if isinstance(value, Variable):
            values[name] = value
        elif isinstance(value, str):
            values[name] = single(value)
        else:
            values[name] = multi(*value)
    macros = {
        "timeFilter": f"time >= {from_ms}ms and time <= {to_ms}ms",
        "__timeFilter": f"time >= {from_ms}ms and time <= {to_ms}ms",
        "__interval": format_interval(interval_ms),
        "interval": format_interval(interval_ms),
        "__interval_ms": str(interval_ms),
        "__from": str(from_ms),
        "__to": str(to_ms),
    }

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3) or m.group(4)
        if name in macros:
            return macros[name]
        if name in values:
            var = values[name]
            return ",".join(var.values) if m.group(2) == "raw" else var.format()
        return m.group(0)

    return _VAR_RE.sub(repl, query)
