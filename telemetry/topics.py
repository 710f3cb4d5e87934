"""Topic strings: the one place that builds and parses them.

Shapes (ISA-95 / unified namespace):

- machine: ``{enterprise}/{site}/{area}/{line}/{machine}/{kind}``
- area:    ``{enterprise}/{site}/{area}/_area/{kind}``
- site:    ``{enterprise}/{site}/_site/{kind}``
- control: ``{enterprise}/{site}/_control/{command}`` (demo control, never stored)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telemetry.contract import (
    AREA_SEGMENT,
    CONTROL_SEGMENT,
    KINDS,
    SITE_SEGMENT,
    ContractError,
)

#: A valid topic-level id (enterprise, site, area, line, machine). Anchored with ``\Z``,
#: not ``$``: ``$`` also matches before a trailing newline (``"LSR-X\n"`` would pass).
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
_RESERVED = {AREA_SEGMENT, SITE_SEGMENT, CONTROL_SEGMENT}


def check_id(what: str, value: str) -> str:
    """Validate one topic level (enterprise, site, area, line or machine id)."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value) or value in _RESERVED:
        raise ContractError(
            f"{what} id {value!r} is invalid: use 1-64 of A-Z a-z 0-9 . _ - "
            "starting with a letter or digit"
        )
    return value


@dataclass(frozen=True)
class Topic:
    """A parsed contract topic: the tag values its levels carry, and its kind."""

    kind: str
    tags: tuple[tuple[str, str], ...]

    def tag(self, name: str) -> str | None:
        return dict(self.tags).get(name)


def machine_topic(enterprise: str, site: str, area: str, line: str, machine: str,
                  kind: str) -> str:
    return f"{enterprise}/{site}/{area}/{line}/{machine}/{kind}"


def area_topic(enterprise: str, site: str, area: str, kind: str) -> str:
    return f"{enterprise}/{site}/{area}/{AREA_SEGMENT}/{kind}"


def site_topic(enterprise: str, site: str, kind: str) -> str:
    return f"{enterprise}/{site}/{SITE_SEGMENT}/{kind}"


def control_topic(enterprise: str, site: str, command: str) -> str:
    return f"{enterprise}/{site}/{CONTROL_SEGMENT}/{command}"


def subscription(enterprise: str = "+") -> str:
    """The filter that receives every contract topic of one enterprise (or all)."""
    return f"{enterprise}/#"


def parse(topic: str) -> Topic:
    """Parse a contract topic; raise ContractError naming what does not fit."""
    parts = topic.split("/")
    n = len(parts)
    if n == 6:
        names: tuple[str, ...] = ("enterprise", "site", "area", "line", "machine")
        scope = "machine"
    elif n == 5 and parts[3] == AREA_SEGMENT:
        parts = [*parts[:3], parts[4]]
        names, scope = ("enterprise", "site", "area"), "area"
    elif n == 4 and parts[2] == SITE_SEGMENT:
        parts = [*parts[:2], parts[3]]
        names, scope = ("enterprise", "site"), "site"
    else:
        raise ContractError(f"topic {topic!r} has an unknown shape")
    kind = parts[-1]
    spec = KINDS.get(kind)
    if spec is None or spec.scope != scope:
        raise ContractError(f"topic {topic!r}: unknown {scope} kind {kind!r}")
    values = parts[:-1]
    for name, value in zip(names, values, strict=True):
        check_id(name, value)
    return Topic(kind=kind, tags=tuple(zip(names, values, strict=True)))
