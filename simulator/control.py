"""Demo control: the fault command on the control topic, and scripted scenarios.

Control topic: ``{enterprise}/{site}/_control/fault`` (never stored by the collector),
payload ``{"ts": ms, "machine": "laser-03", "code": "LSR-CHILLER", "duration_min": 20}``
(``code`` and ``duration_min`` optional). A running simulator that owns the machine
raises the fault at its next tick: alarm, work order open -> in_progress -> done.

Scenario file (YAML)::

    name: chiller failure on laser-03
    events:
      - {at: 2m, machine: laser-03, action: fault, code: LSR-CHILLER, duration: 20m}
      - {at: 30m, machine: press-02, action: wear, value: 1.3}
      - {at: 45m, machine: brake-01, action: starve, duration: 10m}

``at`` is simulated time since the start of the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.model import REASONS
from simulator.plant import Plant, PlantError, load_yaml_text
from telemetry.topics import control_topic

FAULT_COMMAND = "fault"
ACTIONS = ("fault", "wear", "starve")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0, "h": 3600.0,
          "d": 86400.0}


def parse_duration_s(text: str | float, what: str = "duration") -> float:
    """'90' / '90s' / '10m' / '2h' / '1.5d' -> seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        mt = _DURATION.match(str(text))
        if not mt:
            raise ValueError(f"{what} {text!r}: use a number with s, m, h or d (e.g. 10m)")
        value = float(mt.group(1)) * _UNITS[mt.group(2)]
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{what} {text!r} must be a non-negative number")
    return value


#: Fault codes become the `reason` tag of downtime points and an alarm `code`: keep them
#: plain (no backslash or control characters) and distinct from the built-in reasons.
_FAULT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")  # fullmatch: no "$" newline
_RESERVED_CODES = frozenset(REASONS)


def check_fault_code(code: object, what: str = "fault code") -> str:
    """Validate an ad-hoc fault code; ValueError naming what is allowed."""
    if not isinstance(code, str) or not _FAULT_CODE.fullmatch(code) or code in _RESERVED_CODES:
        raise ValueError(f"{what} {code!r}: use 1-32 of A-Z a-z 0-9 . _ - (e.g. LSR-CHILLER), "
                         "not a built-in reason such as 'repair'")
    return code


def fault_topic(plant: Plant) -> str:
    return control_topic(plant.enterprise, plant.site, FAULT_COMMAND)


def fault_payload(ts_ms: int, machine: str, code: str | None = None,
                  duration_min: float | None = None) -> bytes:
    body: dict[str, Any] = {"ts": ts_ms, "machine": machine}
    if code:
        body["code"] = code
    if duration_min is not None:
        body["duration_min"] = float(duration_min)
    return json.dumps(body).encode()


@dataclass(frozen=True)
class Command:
    action: str
    machine: str
    params: Mapping[str, Any] = field(default_factory=dict)


def parse_fault_payload(payload: bytes) -> Command:
    """A control-topic payload -> Command; ValueError with a one-line reason if bad."""
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"control payload is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("machine"), str):
        raise ValueError("control payload needs a string 'machine'")
    params: dict[str, Any] = {"source": "control"}
    code = body.get("code")
    if code is not None:
        params["code"] = check_fault_code(code, "control payload 'code'")
    dur = body.get("duration_min")
    if dur is not None:
        if isinstance(dur, bool) or not isinstance(dur, int | float) or not 0 < dur <= 10080:
            raise ValueError("control payload 'duration_min' must be a number 0-10080")
        params["duration_s"] = float(dur) * 60
    return Command("fault", body["machine"], params)


@dataclass(frozen=True)
class ScenarioEvent:
    at_s: float
    action: str
    machine: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Scenario:
    name: str
    events: tuple[ScenarioEvent, ...]
    source: str = "<scenario>"


def load_scenario(path: str | Path, plant: Plant) -> Scenario:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlantError(f"{p}: cannot read scenario ({exc.strerror or exc})") from exc
    return parse_scenario(load_yaml_text(text, str(p)), str(p), plant)


def parse_scenario(raw: Any, source: str, plant: Plant) -> Scenario:
    def fail(path: str, msg: str) -> PlantError:
        return PlantError(f"{source}: {path}: {msg}")

    if not isinstance(raw, dict):
        raise PlantError(f"{source}: the top level must be a mapping with 'events'")
    for k in raw:
        if k not in ("name", "events"):
            raise fail(str(k), "unknown key (allowed: name, events)")
    events_raw = raw.get("events")
    if not isinstance(events_raw, list) or not events_raw:
        raise fail("events", "must be a non-empty list")
    machines = {m.id for m in plant.machines}
    events = []
    for i, ev in enumerate(events_raw):
        path = f"events[{i}]"
        if not isinstance(ev, dict):
            raise fail(path, "must be a mapping like {at: 5m, machine: laser-01, action: fault}")
        allowed = ("at", "machine", "action", "code", "duration", "value")
        for k in ev:
            if k not in allowed:
                raise fail(f"{path}.{k}", f"unknown key (allowed: {', '.join(allowed)})")
        try:
            at_s = parse_duration_s(ev.get("at", ""), "at")
        except ValueError as exc:
            raise fail(f"{path}.at", str(exc)) from exc
        machine = ev.get("machine")
        if machine not in machines:
            raise fail(f"{path}.machine", f"unknown machine {machine!r}")
        action = ev.get("action", "fault")
        if action not in ACTIONS:
            raise fail(f"{path}.action", f"must be one of {', '.join(ACTIONS)}, got {action!r}")
        params: dict[str, Any] = {"source": "scenario"}
        if "duration" in ev:
            try:
                params["duration_s"] = parse_duration_s(ev["duration"], "duration")
            except ValueError as exc:
                raise fail(f"{path}.duration", str(exc)) from exc
        if "code" in ev:
            try:
                params["code"] = check_fault_code(ev["code"])
            except ValueError as exc:
                raise fail(f"{path}.code", str(exc)) from exc
        if action == "wear":
            v = ev.get("value")
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 3:
                raise fail(f"{path}.value", "wear needs a value 0-3 (1.0 = end of life)")
            params["value"] = float(v)
        events.append(ScenarioEvent(at_s, action, str(machine), params))
    name = raw.get("name", Path(source).stem)
    return Scenario(str(name), tuple(sorted(events, key=lambda e: e.at_s)), source)
