"""Demo control: commands on the control topics, and scripted scenarios.

Control topics: ``{enterprise}/{site}/_control/{command}`` (never stored by the collector):

- ``fault``: ``{"ts": ms, "machine": "laser-03", "code": "LSR-CHILLER", "duration_min": 20}``
  (``code`` and ``duration_min`` optional). A running simulator that owns the machine
  raises the fault at its next tick: alarm, work order open -> in_progress -> done.
- ``clear`` ``{"machine": ID}``, ``speed`` ``{"speed": N}``, ``story`` ``{"name": NAME}``,
  ``reset`` ``{}``: what the director's control API (:mod:`simulator.api`) sends so that
  every shard applies it.

Scenario file (YAML)::

    name: chiller failure on laser-03
    events:
      - {at: 2m, machine: laser-03, action: fault, code: LSR-CHILLER, duration: 20m}
      - {at: 30m, machine: press-02, action: wear, value: 1.3, duration: 2h}
      - {at: 45m, machine: brake-01, action: starve, duration: 10m}
      - {at: 50m, type: stamping_press, action: ramp, value: 1.4, duration: 20m}
      - {at: 60m, line: cutting, action: scrap, value: 5, duration: 15m}
      - {at: 60m, action: sales, region: East China, value: 4, duration: 15m}

``at`` is simulated time since the start of the run. An event names its machines with
one of ``machine`` (an id), ``type`` (one machine of that type: the ``pick``-th, default
1st, moving on by one each time a story loop replays the file), ``line`` or ``area``
(every machine there). ``sales`` names a ``region`` instead (default: the first).
Actions: see :data:`ACTION_HELP`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.business import region_names
from simulator.model import REASONS
from simulator.plant import Plant, PlantError, load_yaml_text
from telemetry.topics import control_topic

FAULT_COMMAND = "fault"
#: Control-topic commands besides ``fault`` (each a topic level under ``_control``).
COMMANDS = ("fault", "clear", "speed", "story", "reset")
ACTION_HELP = {
    "fault": "alarm, work order, repair, return (code, duration)",
    "clear": "end a fault or repair now (work order done, alarm cleared)",
    "wear": "age a component to value (0-3, 1.0 = its life) over duration (default 2h): "
            "vibration climbs",
    "ramp": "the same with a required duration (a story effect): vibration climbs",
    "starve": "no material for duration",
    "scrap": "scrap rate x value for duration",
    "speed": "cycle time / value for duration (a line speeds up)",
    "power": "power draw x value for duration (an energy peak)",
    "sales": "orders x value for duration, the extra ones all in region",
}
ACTIONS = tuple(ACTION_HELP)
#: Actions that last ``duration`` and scale something by ``value``.
FACTOR_ACTIONS = ("scrap", "speed", "power", "sales")
SPEED_RANGE = (1.0, 60.0)
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


def parse_control(command: str, payload: bytes) -> Command:
    """A payload on ``_control/{command}`` -> Command; ValueError with a one-line reason."""
    if command == FAULT_COMMAND:
        return parse_fault_payload(payload)
    if command not in COMMANDS:
        raise ValueError(f"unknown control command {command!r}")
    try:
        body = json.loads(payload or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"control payload is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ValueError("control payload must be a JSON object")
    if command == "clear":
        if not isinstance(body.get("machine"), str):
            raise ValueError("clear needs a string 'machine'")
        return Command("clear", body["machine"], {"source": "control"})
    if command == "speed":
        return Command("speed", "", {"speed": check_speed(body.get("speed"))})
    if command == "story":
        if not isinstance(body.get("name"), str):
            raise ValueError("story needs a string 'name'")
        return Command("story", "", {"name": body["name"]})
    return Command("reset", "", {})


def check_speed(value: object) -> float:
    lo, hi = SPEED_RANGE
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ValueError(f"speed must be a number {lo:g}-{hi:g}, got {value!r}")
    return float(value)


def control_payload(command: Command) -> bytes:
    """The JSON a director publishes on ``_control/{command.action}``."""
    p = command.params
    if command.action == "fault":
        dur = p.get("duration_s")
        return fault_payload(0, command.machine, p.get("code"),
                             None if dur is None else float(dur) / 60)
    body: dict[str, Any] = {k: v for k, v in p.items() if k != "source"}
    if command.machine:
        body["machine"] = command.machine
    return json.dumps(body).encode()


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
    description: str = ""

    @property
    def length_s(self) -> float:
        """Simulated time from the start to the end of the last event's duration."""
        return max((e.at_s + float(e.params.get("duration_s", 0.0)) for e in self.events),
                   default=0.0)


def load_scenario(path: str | Path, plant: Plant, replay: int = 0) -> Scenario:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlantError(f"{p}: cannot read scenario ({exc.strerror or exc})") from exc
    return parse_scenario(load_yaml_text(text, str(p)), str(p), plant, replay)


_EVENT_KEYS = ("at", "machine", "type", "pick", "line", "area", "region", "action", "code",
               "duration", "value")
_TARGETS = ("machine", "type", "line", "area")


def _targets(ev: dict[str, Any], plant: Plant, replay: int) -> list[str]:
    """The machine ids an event names; ValueError(key, reason) if it names none."""
    given = [k for k in _TARGETS if k in ev]
    if len(given) != 1:
        raise ValueError("machine", f"name exactly one of {', '.join(_TARGETS)}")
    key, want = given[0], ev[given[0]]
    if key == "machine":
        if want not in {m.id for m in plant.machines}:
            raise ValueError("machine", f"unknown machine {want!r}")
        return [str(want)]
    if key == "type":
        of_type = [m.id for m in plant.machines if m.type == want]
        if not of_type:
            raise ValueError("type", f"no machine of type {want!r} in this plant")
        pick = ev.get("pick", 1)
        if isinstance(pick, bool) or not isinstance(pick, int) or pick < 1:
            raise ValueError("pick", "must be a whole number >= 1")
        return [of_type[(pick - 1 + replay) % len(of_type)]]
    ids = [m.id for m in plant.machines
           if (m.line if key == "line" else m.area) == want]
    if not ids:
        raise ValueError(key, f"no {key} {want!r} in this plant")
    return ids


def parse_scenario(raw: Any, source: str, plant: Plant, replay: int = 0) -> Scenario:
    """A scenario mapping -> Scenario. ``replay`` moves ``type`` picks on by that many."""
    def fail(path: str, msg: str) -> PlantError:
        return PlantError(f"{source}: {path}: {msg}")

    if not isinstance(raw, dict):
        raise PlantError(f"{source}: the top level must be a mapping with 'events'")
    for k in raw:
        if k not in ("name", "description", "events"):
            raise fail(str(k), "unknown key (allowed: name, description, events)")
    events_raw = raw.get("events")
    if not isinstance(events_raw, list) or not events_raw:
        raise fail("events", "must be a non-empty list")
    regions = region_names(plant)
    events = []
    for i, ev in enumerate(events_raw):
        path = f"events[{i}]"
        if not isinstance(ev, dict):
            raise fail(path, "must be a mapping like {at: 5m, machine: laser-01, action: fault}")
        for k in ev:
            if k not in _EVENT_KEYS:
                raise fail(f"{path}.{k}", f"unknown key (allowed: {', '.join(_EVENT_KEYS)})")
        try:
            at_s = parse_duration_s(ev.get("at", ""), "at")
        except ValueError as exc:
            raise fail(f"{path}.at", str(exc)) from exc
        action = ev.get("action", "fault")
        if action not in ACTIONS:
            raise fail(f"{path}.action", f"must be one of {', '.join(ACTIONS)}, got {action!r}")
        params: dict[str, Any] = {"source": "scenario"}
        if "duration" in ev:
            try:
                params["duration_s"] = parse_duration_s(ev["duration"], "duration")
            except ValueError as exc:
                raise fail(f"{path}.duration", str(exc)) from exc
        elif action in (*FACTOR_ACTIONS, "ramp"):
            raise fail(f"{path}.duration", f"{action} needs a duration (e.g. 15m)")
        if "code" in ev:
            try:
                params["code"] = check_fault_code(ev["code"])
            except ValueError as exc:
                raise fail(f"{path}.code", str(exc)) from exc
        raw_v = ev.get("value")
        number = not isinstance(raw_v, bool) and isinstance(raw_v, int | float)
        v = float(raw_v) if number and raw_v is not None else -1.0
        if action in ("wear", "ramp"):
            if not number or not 0 <= v <= 3:
                raise fail(f"{path}.value", f"{action} needs a value 0-3 (1.0 = end of life)")
            params["value"] = float(v)
        elif action in FACTOR_ACTIONS:
            if not number or not 0.05 <= v <= 20:
                raise fail(f"{path}.value", f"{action} needs a factor 0.05-20 (e.g. 3)")
            params["value"] = float(v)
        if action == "sales":
            region = ev.get("region", regions[0])
            if region not in regions:
                raise fail(f"{path}.region", f"unknown region {region!r} (one of "
                           f"{', '.join(regions)})")
            params["region"] = region
            events.append(ScenarioEvent(at_s, action, "", params))
            continue
        try:
            machines = _targets(ev, plant, replay)
        except ValueError as exc:
            key, msg = exc.args
            raise fail(f"{path}.{key}", msg) from exc
        events.extend(ScenarioEvent(at_s, action, m, params) for m in machines)
    name = raw.get("name", Path(source).stem)
    return Scenario(str(name), tuple(sorted(events, key=lambda e: e.at_s)), source,
                    str(raw.get("description", "")))
