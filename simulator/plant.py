"""The plant description: enterprise / site / areas / lines / machines and machine types.

A plant is read from YAML (``simulator/data/plant.yaml`` by default) and validated into
frozen dataclasses. Every error is a :class:`PlantError` whose one-line message names the
file, the path inside it (``areas[1].lines[0].machines[3].type``) and what is wrong.
Machine types live in data (``simulator/data/types.yaml``), never in code.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from telemetry.contract import KINDS, MachineState
from telemetry.topics import check_id

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_PLANT = DATA_DIR / "plant.yaml"

#: Signals every machine reports in `telemetry`; type-specific ones come from the type.
COMMON_SIGNALS = ("temp_c", "vibration_mm_s", "power_kw", "current_a", "load_pct")
#: Type-specific signals allowed by the contract.
TYPE_SIGNALS = tuple(k for k in KINDS["telemetry"].fields if k not in COMMON_SIGNALS)
SIGNAL_MODELS = ("level", "thermal", "charge")
STATE_KEYS = tuple(s.name.lower() for s in MachineState)  # off idle running setup fault ...
SEVERITIES = ("info", "warning", "critical")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,31}\Z")  # \Z: "$" lets a trailing newline in
MAX_SCALE = 1000


class PlantError(ValueError):
    """A bad plant or types file; the message names file, path and what is wrong."""


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


class _Ctx:
    """Where we are while validating: the file and a path like ``areas[1].id``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, msg: str) -> PlantError:
        where = f"{self.source}: {path}" if path else self.source
        return PlantError(_one_line(f"{where}: {msg}"))


# -- value helpers -------------------------------------------------------------------------
def _map(ctx: _Ctx, value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ctx.fail(path, f"must be a mapping, got {_show(value)}")
    for k in value:
        if not isinstance(k, str):
            raise ctx.fail(path, f"keys must be strings, got {_show(k)}")
    return value


def _list(ctx: _Ctx, value: Any, path: str, *, nonempty: bool = True) -> list[Any]:
    if not isinstance(value, list):
        raise ctx.fail(path, f"must be a list, got {_show(value)}")
    if nonempty and not value:
        raise ctx.fail(path, "must not be empty")
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _known(ctx: _Ctx, m: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
    for k in m:
        if k not in allowed:
            raise ctx.fail(_join(path, k), f"unknown key (allowed: {', '.join(allowed)})")


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _join(path: str, key: str) -> str:
    """``path.key``; odd keys are quoted (``path["a b"]``) so the message stays one line."""
    if not _PLAIN_KEY.match(key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def _num(ctx: _Ctx, m: Mapping[str, Any], key: str, path: str, default: float | None = None,
         *, lo: float = 0.0, hi: float = math.inf, lo_open: bool = False) -> float:
    p = _join(path, key)
    if key not in m or m[key] is None:
        if default is None:
            raise ctx.fail(p, "is required")
        return default
    v = m[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ctx.fail(p, f"must be a number, got {_show(v)}")
    v = float(v)
    if v < lo or (lo_open and v == lo) or v > hi:
        rng = f"{'>' if lo_open else '>='} {lo:g}" + (f" and <= {hi:g}" if hi != math.inf else "")
        raise ctx.fail(p, f"must be {rng}, got {v:g}")
    return v


def _str(ctx: _Ctx, m: Mapping[str, Any], key: str, path: str,
         default: str | None = None) -> str:
    p = _join(path, key)
    if key not in m or m[key] is None:
        if default is None:
            raise ctx.fail(p, "is required")
        return default
    v = m[key]
    if not isinstance(v, str) or not v.strip():
        raise ctx.fail(p, f"must be a non-empty string, got {_show(v)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in v):
        raise ctx.fail(p, "must not contain control characters")
    return v


def _id(ctx: _Ctx, m: Mapping[str, Any], key: str, path: str, what: str) -> str:
    v = _str(ctx, m, key, path)
    try:
        return check_id(what, v)
    except ValueError as exc:
        raise ctx.fail(_join(path, key), str(exc)) from exc


# -- machine types -------------------------------------------------------------------------
@dataclass(frozen=True)
class SignalSpec:
    """One type-specific signal: its value per state and how it moves.

    - ``level``: jumps to the state's level (plus noise) every sample;
    - ``thermal``: first-order approach to the state's level with time constant tau_s;
    - ``charge``: integrates the state's rate (units per minute), clipped to [min, max].
    """

    name: str
    model: str
    by_state: tuple[float, ...]  # indexed by MachineState
    noise: float = 0.0  # relative (level/thermal: fraction of value) or absolute (charge)
    tau_s: float = 600.0
    lo: float = 0.0
    hi: float = 100.0

    def __post_init__(self) -> None:
        if self.model not in SIGNAL_MODELS:
            raise ValueError(f"signal model {self.model!r} not in {SIGNAL_MODELS}")
        if len(self.by_state) != len(MachineState):
            raise ValueError("by_state needs one value per machine state")


@dataclass(frozen=True)
class FaultSpec:
    code: str
    message: str
    severity: str = "critical"
    weight: float = 1.0
    mttr_min: float | None = None  # overrides the type's mttr_min


@dataclass(frozen=True)
class MachineType:
    id: str
    name: str
    ideal_cycle_s: float  # 0 = does not produce parts (no counts messages)
    cycle_cv: float
    scrap_rate: float
    mtbf_h: float
    mttr_min: float
    response_min: float
    setup_min: float
    changeover_h: float
    starve_h: float
    starve_min: float
    microstops_per_h: float
    microstop_s: float
    power_kw: tuple[float, ...]  # by MachineState
    temp_rise_c: tuple[float, ...]  # above ambient, by MachineState
    temp_tau_s: float
    vibration_mm_s: float  # running, unworn
    wear_gain: float  # vibration x (1 + wear_gain * wear^2)
    wear_life_h: float  # running hours from new to wear 1.0
    signals: tuple[SignalSpec, ...]
    faults: tuple[FaultSpec, ...]

    @property
    def producing(self) -> bool:
        return self.ideal_cycle_s > 0


_TYPE_KEYS = ("name", "ideal_cycle_s", "cycle_cv", "scrap_rate", "mtbf_h", "mttr_min",
              "response_min", "setup_min", "changeover_h", "starve_h", "starve_min",
              "microstops_per_h", "microstop_s", "power_kw", "temp_c", "vibration_mm_s",
              "signals", "faults")


def _by_state(ctx: _Ctx, m: Mapping[str, Any], path: str, *, required: tuple[str, ...],
              lo: float = 0.0, extra: tuple[str, ...] = ()) -> tuple[tuple[float, ...],
                                                                     dict[str, float]]:
    """Read ``{off, idle, running, setup, fault, maintenance}``; missing ones default.

    setup and fault default to idle, maintenance to off. Returns values by MachineState
    and any `extra` keys read as numbers.
    """
    _known(ctx, m, path, (*STATE_KEYS, "run", *extra))
    vals: dict[str, float] = {}
    for key in STATE_KEYS:
        src = "run" if key == "running" and "run" in m else key
        if src in m:
            vals[key] = _num(ctx, m, src, path, lo=lo)
    for key in required:
        if key not in vals:
            raise ctx.fail(_join(path, "run" if key == "running" else key), "is required")
    vals.setdefault("off", 0.0)
    vals.setdefault("idle", vals["off"])
    vals.setdefault("running", vals["idle"])
    vals.setdefault("setup", vals["idle"])
    vals.setdefault("fault", vals["idle"])
    vals.setdefault("maintenance", vals["off"])
    extras = {k: _num(ctx, m, k, path, lo=-math.inf) for k in extra if k in m}
    return tuple(vals[k] for k in STATE_KEYS), extras


def _signal(ctx: _Ctx, name: str, raw: Any, path: str) -> SignalSpec:
    if name not in TYPE_SIGNALS:
        raise ctx.fail(path, f"unknown signal {name!r} (allowed: {', '.join(TYPE_SIGNALS)})")
    m = _map(ctx, raw, path)
    model = _str(ctx, m, "model", path, "level")
    if model not in SIGNAL_MODELS:
        raise ctx.fail(_join(path, "model"),
                       f"must be one of {', '.join(SIGNAL_MODELS)}, got {model!r}")
    rest = {k: v for k, v in m.items() if k != "model"}
    lo_val = -math.inf if model == "charge" else 0.0
    by_state, ex = _by_state(ctx, rest, path, required=("running",), lo=lo_val,
                             extra=("noise", "tau_min", "min", "max"))
    lo, hi = ex.get("min", 0.0), ex.get("max", 100.0)
    if model == "charge" and lo >= hi:
        raise ctx.fail(_join(path, "max"), f"must be greater than min ({lo:g})")
    tau_min = ex.get("tau_min", 10.0)
    if tau_min <= 0:
        raise ctx.fail(_join(path, "tau_min"), f"must be > 0, got {tau_min:g}")
    noise = ex.get("noise", 0.01)
    if noise < 0:
        raise ctx.fail(_join(path, "noise"), f"must be >= 0, got {noise:g}")
    return SignalSpec(name=name, model=model, by_state=by_state, noise=noise,
                      tau_s=tau_min * 60.0, lo=lo, hi=hi)


def _fault(ctx: _Ctx, raw: Any, path: str) -> FaultSpec:
    m = _map(ctx, raw, path)
    _known(ctx, m, path, ("code", "message", "severity", "weight", "mttr_min"))
    code = _str(ctx, m, "code", path)
    if not _CODE.match(code):
        raise ctx.fail(_join(path, "code"),
                       f"{code!r} must be 1-32 of A-Z 0-9 _ . - starting with A-Z or 0-9")
    sev = _str(ctx, m, "severity", path, "critical")
    if sev not in SEVERITIES:
        raise ctx.fail(_join(path, "severity"),
                       f"must be one of {', '.join(SEVERITIES)}, got {sev!r}")
    mttr = _num(ctx, m, "mttr_min", path, -1.0, lo=-1.0)
    if mttr != -1.0 and mttr <= 0:
        raise ctx.fail(_join(path, "mttr_min"), f"must be > 0, got {mttr:g}")
    return FaultSpec(code=code, message=_str(ctx, m, "message", path, code), severity=sev,
                     weight=_num(ctx, m, "weight", path, 1.0, lo=0.0, lo_open=True),
                     mttr_min=None if mttr == -1.0 else mttr)


def _machine_type(ctx: _Ctx, tid: str, raw: Any, path: str) -> MachineType:
    m = _map(ctx, raw, path)
    _known(ctx, m, path, _TYPE_KEYS)
    power, _ = _by_state(ctx, _map(ctx, m.get("power_kw"), _join(path, "power_kw")),
                         _join(path, "power_kw"), required=("running",))
    tpath = _join(path, "temp_c")
    traw = _map(ctx, m.get("temp_c", {"running": 15.0}), tpath)
    rise, tex = _by_state(ctx, traw, tpath, required=(), extra=("tau_min",))
    tau_min = tex.get("tau_min", 15.0)
    if tau_min <= 0:
        raise ctx.fail(_join(tpath, "tau_min"), f"must be > 0, got {tau_min:g}")
    vpath = _join(path, "vibration_mm_s")
    vraw = _map(ctx, m.get("vibration_mm_s", {}), vpath)
    _known(ctx, vraw, vpath, ("base", "wear_gain", "life_h"))
    spath = _join(path, "signals")
    sraw = _map(ctx, m.get("signals") or {}, spath)
    signals = tuple(_signal(ctx, k, v, _join(spath, k)) for k, v in sraw.items())
    fpath = _join(path, "faults")
    fraw = m.get("faults")
    if fraw is None:
        faults: tuple[FaultSpec, ...] = (FaultSpec("GEN-FAULT", "Machine fault"),)
    else:
        faults = tuple(_fault(ctx, f, f"{fpath}[{i}]")
                       for i, f in enumerate(_list(ctx, fraw, fpath)))
    codes = [f.code for f in faults]
    if len(set(codes)) != len(codes):
        raise ctx.fail(fpath, "fault codes must be unique within a type")
    return MachineType(
        id=tid,
        name=_str(ctx, m, "name", path, tid),
        ideal_cycle_s=_num(ctx, m, "ideal_cycle_s", path, 0.0, hi=86400.0),
        cycle_cv=_num(ctx, m, "cycle_cv", path, 0.05, hi=1.0),
        scrap_rate=_num(ctx, m, "scrap_rate", path, 0.01, hi=1.0),
        mtbf_h=_num(ctx, m, "mtbf_h", path, 100.0, lo=0.0, lo_open=True),
        mttr_min=_num(ctx, m, "mttr_min", path, 45.0, lo=0.0, lo_open=True),
        response_min=_num(ctx, m, "response_min", path, 8.0),
        setup_min=_num(ctx, m, "setup_min", path, 15.0),
        changeover_h=_num(ctx, m, "changeover_h", path, 8.0, lo=0.0, lo_open=True),
        starve_h=_num(ctx, m, "starve_h", path, 3.0, lo=0.0, lo_open=True),
        starve_min=_num(ctx, m, "starve_min", path, 4.0),
        microstops_per_h=_num(ctx, m, "microstops_per_h", path, 4.0),
        microstop_s=_num(ctx, m, "microstop_s", path, 15.0),
        power_kw=power,
        temp_rise_c=rise,
        temp_tau_s=tau_min * 60.0,
        vibration_mm_s=_num(ctx, vraw, "base", vpath, 1.5),
        wear_gain=_num(ctx, vraw, "wear_gain", vpath, 3.0),
        wear_life_h=_num(ctx, vraw, "life_h", vpath, 600.0, lo=0.0, lo_open=True),
        signals=signals,
        faults=faults,
    )


def parse_types(raw: Any, source: str, path: str = "types") -> dict[str, MachineType]:
    ctx = _Ctx(source)
    m = _map(ctx, raw, path)
    if not m:
        raise ctx.fail(path, "must define at least one machine type")
    out: dict[str, MachineType] = {}
    for tid, body in m.items():
        p = _join(path, tid)
        try:
            check_id("machine type", tid)
        except ValueError as exc:
            raise ctx.fail(p, str(exc)) from exc
        out[tid] = _machine_type(ctx, tid, body, p)
    return out


# -- calendars -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Calendar:
    """Shift calendar in site-local minutes of the day.

    ``shifts`` and ``breaks`` are (start_min, end_min) windows (end may pass midnight:
    22:00-06:00); ``downtime`` are planned-maintenance windows on given weekdays
    (0 = Monday).
    """

    id: str
    shifts: tuple[tuple[int, int], ...]
    breaks: tuple[tuple[int, int], ...] = ()
    downtime: tuple[tuple[int, int, int], ...] = ()  # (weekday, start_min, end_min)
    shift_starts: tuple[int, ...] = field(default=())


def _window(ctx: _Ctx, raw: Any, path: str) -> tuple[int, int]:
    if not isinstance(raw, str) or not _WINDOW.match(raw.strip()):
        raise ctx.fail(path, f"must be a time window like \"06:00-14:00\", got {_show(raw)}")
    mt = _WINDOW.match(raw.strip())
    assert mt is not None
    h1, m1, h2, m2 = (int(g) for g in mt.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
        raise ctx.fail(path, f"{raw!r} is not a valid time of day window")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ctx.fail(path, f"{raw!r} is empty")
    return start % 1440, end if end <= 1440 else end % 1440


def _calendar(ctx: _Ctx, cid: str, raw: Any, path: str) -> Calendar:
    m = _map(ctx, raw, path)
    _known(ctx, m, path, ("shifts", "breaks", "planned_downtime"))
    shifts = tuple(_window(ctx, w, f"{path}.shifts[{i}]")
                   for i, w in enumerate(_list(ctx, m.get("shifts"), _join(path, "shifts"))))
    breaks = tuple(_window(ctx, w, f"{path}.breaks[{i}]")
                   for i, w in enumerate(_list(ctx, m.get("breaks", []), _join(path, "breaks"),
                                               nonempty=False)))
    downtime: list[tuple[int, int, int]] = []
    dpath = _join(path, "planned_downtime")
    for i, d in enumerate(_list(ctx, m.get("planned_downtime", []), dpath, nonempty=False)):
        p = f"{dpath}[{i}]"
        dm = _map(ctx, d, p)
        _known(ctx, dm, p, ("day", "window"))
        day = _str(ctx, dm, "day", p).lower()[:3]
        if day not in WEEKDAYS:
            raise ctx.fail(_join(p, "day"), f"must be a weekday ({', '.join(WEEKDAYS)})")
        s, e = _window(ctx, dm.get("window"), _join(p, "window"))
        downtime.append((WEEKDAYS.index(day), s, e))
    return Calendar(id=cid, shifts=shifts, breaks=breaks, downtime=tuple(downtime),
                    shift_starts=tuple(sorted({s for s, _ in shifts})))


def _in_window(minute: int, w: tuple[int, int]) -> bool:
    s, e = w
    return s <= minute < e if s < e else (minute >= s or minute < e)


# Calendar status codes (per machine per tick).
CAL_OFF, CAL_ON, CAL_BREAK, CAL_DOWNTIME = 0, 1, 2, 3


def calendar_status(cal: Calendar, local_minute: int, weekday: int) -> int:
    """Status of a calendar at a site-local minute of day and weekday (0 = Monday)."""
    for day, s, e in cal.downtime:
        # A window past midnight belongs to the day it starts on.
        if s < e and day == weekday and s <= local_minute < e:
            return CAL_DOWNTIME
        if s > e and ((day == weekday and local_minute >= s)
                      or ((day + 1) % 7 == weekday and local_minute < e)):
            return CAL_DOWNTIME
    if not any(_in_window(local_minute, w) for w in cal.shifts):
        return CAL_OFF
    if any(_in_window(local_minute, w) for w in cal.breaks):
        return CAL_BREAK
    return CAL_ON


# -- plant ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Machine:
    id: str
    area: str
    line: str
    type: str
    pos: tuple[float, float] | None = None


@dataclass(frozen=True)
class Line:
    id: str
    machines: tuple[Machine, ...]


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    calendar: str
    base_load_kw: float
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Plant:
    enterprise: str
    site: str
    name: str
    utc_offset_h: float
    types: Mapping[str, MachineType]
    calendars: Mapping[str, Calendar]
    areas: tuple[Area, ...]
    source: str = "<plant>"
    sales_orders_per_h: float = 60.0

    @property
    def machines(self) -> list[Machine]:
        """Every machine, in plant order (area, line, machine)."""
        return [m for a in self.areas for ln in a.lines for m in ln.machines]

    @property
    def lines(self) -> list[tuple[Area, Line]]:
        return [(a, ln) for a in self.areas for ln in a.lines]

    def machine(self, machine_id: str) -> Machine:
        for m in self.machines:
            if m.id == machine_id:
                return m
        raise KeyError(machine_id)


_PLANT_KEYS = ("enterprise", "site", "name", "utc_offset_h", "types", "calendars", "areas",
               "sales_orders_per_h")


def _pos(ctx: _Ctx, raw: Any, path: str) -> tuple[float, float]:
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool)
                       and math.isfinite(v) for v in raw)):
        raise ctx.fail(path, f"must be [x, y] numbers, got {_show(raw)}")
    return float(raw[0]), float(raw[1])


def _machines(ctx: _Ctx, raw: Any, path: str, area: str, line: str,
              types: Mapping[str, MachineType]) -> list[Machine]:
    m = _map(ctx, raw, path)
    _known(ctx, m, path, ("id", "type", "pos", "count", "pos_step"))
    mid = _id(ctx, m, "id", path, "machine")
    tid = _str(ctx, m, "type", path)
    if tid not in types:
        known = ", ".join(sorted(types)[:12]) + (" ..." if len(types) > 12 else "")
        raise ctx.fail(_join(path, "type"), f"unknown machine type {tid!r} (known: {known})")
    pos = _pos(ctx, m["pos"], _join(path, "pos")) if m.get("pos") is not None else None
    if "count" not in m:
        return [Machine(mid, area, line, tid, pos)]
    count = m["count"]
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 999:
        raise ctx.fail(_join(path, "count"), f"must be an integer 1-999, got {_show(count)}")
    step = (_pos(ctx, m["pos_step"], _join(path, "pos_step"))
            if m.get("pos_step") is not None else (1.0, 0.0))
    out = []
    for i in range(count):
        p = None if pos is None else (pos[0] + step[0] * i, pos[1] + step[1] * i)
        name = f"{mid}-{i + 1:02d}"
        try:
            check_id("machine", name)
        except ValueError as exc:
            raise ctx.fail(_join(path, "id"), f"{exc} (after numbering)") from exc
        out.append(Machine(name, area, line, tid, p))
    return out


def parse_plant(raw: Any, source: str = "<plant>", base_dir: Path | None = None,
                scale: int = 1) -> Plant:
    """Validate a parsed plant document; raise PlantError naming the path of a problem."""
    ctx = _Ctx(source)
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise PlantError(f"--scale must be an integer 1-{MAX_SCALE}, got {scale!r}")
    m = _map(ctx, raw, "")
    _known(ctx, m, "", _PLANT_KEYS)
    enterprise = _id(ctx, m, "enterprise", "", "enterprise")
    site = _id(ctx, m, "site", "", "site")
    offset = _num(ctx, m, "utc_offset_h", "", 0.0, lo=-12.0, hi=14.0)
    types_raw = m.get("types", "types.yaml")
    if isinstance(types_raw, str):
        types = _types_file(ctx, types_raw, "types", base_dir)
    elif isinstance(types_raw, list):
        types = {}
        for i, item in enumerate(types_raw):
            p = f"types[{i}]"
            if isinstance(item, str):
                types.update(_types_file(ctx, item, p, base_dir))
            else:
                types.update(parse_types(item, source, p))
        if not types:
            raise ctx.fail("types", "must define at least one machine type")
    else:
        types = parse_types(types_raw, source, "types")
    cal_raw = _map(ctx, m.get("calendars", {"always": {"shifts": ["00:00-24:00"]}}),
                   "calendars")
    calendars = {cid: _calendar(ctx, cid, body, _join("calendars", cid))
                 for cid, body in cal_raw.items()}
    if not calendars:
        raise ctx.fail("calendars", "must define at least one calendar")
    default_cal = next(iter(calendars))
    areas: list[Area] = []
    seen_areas: set[str] = set()
    seen_machines: dict[str, str] = {}
    for ai, araw in enumerate(_list(ctx, m.get("areas"), "areas")):
        ap = f"areas[{ai}]"
        am = _map(ctx, araw, ap)
        _known(ctx, am, ap, ("id", "name", "calendar", "base_load_kw", "lines"))
        aid = _id(ctx, am, "id", ap, "area")
        if aid in seen_areas:
            raise ctx.fail(_join(ap, "id"), f"duplicate area id {aid!r}")
        seen_areas.add(aid)
        cal = _str(ctx, am, "calendar", ap, default_cal)
        if cal not in calendars:
            raise ctx.fail(_join(ap, "calendar"),
                           f"unknown calendar {cal!r} (known: {', '.join(calendars)})")
        lines: list[Line] = []
        seen_lines: set[str] = set()
        for li, lraw in enumerate(_list(ctx, am.get("lines"), _join(ap, "lines"))):
            lp = f"{ap}.lines[{li}]"
            lm = _map(ctx, lraw, lp)
            _known(ctx, lm, lp, ("id", "machines"))
            lid = _id(ctx, lm, "id", lp, "line")
            if lid in seen_lines:
                raise ctx.fail(_join(lp, "id"), f"duplicate line id {lid!r} in area {aid!r}")
            seen_lines.add(lid)
            machines: list[Machine] = []
            for mi, mraw in enumerate(_list(ctx, lm.get("machines"), _join(lp, "machines"))):
                mp = f"{lp}.machines[{mi}]"
                for mach in _machines(ctx, mraw, mp, aid, lid, types):
                    if mach.id in seen_machines:
                        raise ctx.fail(_join(mp, "id"), f"duplicate machine id {mach.id!r} "
                                       f"(first at {seen_machines[mach.id]})")
                    seen_machines[mach.id] = mp
                    machines.append(mach)
            lines.append(Line(lid, tuple(machines)))
        areas.append(Area(aid, _str(ctx, am, "name", ap, aid), cal,
                          _num(ctx, am, "base_load_kw", ap, 0.0), tuple(lines)))
    plant = Plant(enterprise=enterprise, site=site, name=_str(ctx, m, "name", "", site),
                  utc_offset_h=offset, types=types, calendars=calendars, areas=tuple(areas),
                  source=source,
                  sales_orders_per_h=_num(ctx, m, "sales_orders_per_h", "", 60.0))
    return scale_plant(plant, scale) if scale > 1 else plant


def _types_file(ctx: _Ctx, name: str, path: str,
                base_dir: Path | None) -> dict[str, MachineType]:
    """Types from a file named in the plant: next to the plant file, else shipped data."""
    candidates = [(base_dir or DATA_DIR) / name, DATA_DIR / name]
    for tp in candidates:
        if name.strip() and tp.is_file():
            return parse_types(_read_yaml(tp), str(tp), "types")
    raise ctx.fail(path, f"no such types file {name!r} (looked in "
                   f"{', '.join(sorted({str(c.parent) for c in candidates}))})")


def scale_plant(plant: Plant, scale: int) -> Plant:
    """Grow a plant N-fold: every line is repeated N times (copies get an ``-sK`` suffix).

    Copies keep no floor-plan position (the plan shows the original machines).
    """
    areas = []
    for a in plant.areas:
        lines = list(a.lines)
        for k in range(2, scale + 1):
            for ln in a.lines:
                lines.append(Line(f"{ln.id}-s{k}", tuple(
                    Machine(_suffix(m.id, k), m.area, f"{ln.id}-s{k}", m.type, None)
                    for m in ln.machines)))
        areas.append(Area(a.id, a.name, a.calendar, a.base_load_kw * scale, tuple(lines)))
    return Plant(plant.enterprise, plant.site, plant.name, plant.utc_offset_h, plant.types,
                 plant.calendars, tuple(areas), plant.source,
                 plant.sales_orders_per_h * scale)


def _suffix(mid: str, k: int) -> str:
    tail = f"-s{k}"
    return mid[: 64 - len(tail)] + tail


def _read_yaml(path: Path) -> Any:
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
        raise PlantError(_one_line(f"{source}:{where} is not valid YAML ({problem})")) from exc
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. odd timestamps
        raise PlantError(_one_line(f"{source}: is not valid YAML ({exc})")) from exc


def load_plant(path: str | Path | None = None, scale: int = 1, *,
               enterprise: str | None = None, site: str | None = None) -> Plant:
    """Load and validate a plant file (default: the shipped demo plant).

    ``enterprise`` / ``site`` override the file's ids (the first topic levels).
    """
    p = Path(path) if path is not None else DEFAULT_PLANT
    if p.is_dir():
        raise PlantError(f"{p}: is a directory, expected a plant YAML file")
    plant = parse_plant(_read_yaml(p), str(p), p.parent, scale)
    try:
        if enterprise is not None:
            plant = replace(plant, enterprise=check_id("enterprise", enterprise))
        if site is not None:
            plant = replace(plant, site=check_id("site", site))
    except ValueError as exc:
        raise PlantError(str(exc)) from exc
    return plant
