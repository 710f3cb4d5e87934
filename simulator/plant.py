"""The plant description: enterprise / site / areas / lines / machines, read from YAML.

A plant is read from YAML (``simulator/data/plant.yaml`` by default) and validated into
frozen dataclasses. Every error is a :class:`PlantError` whose one-line message names the
file, the path inside it (``areas[1].lines[0].machines[3].type``) and what is wrong.
Machine types (:mod:`simulator.machine_types`), calendars and the time zone
(:mod:`simulator.shifts`) and the business block (:mod:`simulator.plant_business`) have
their own modules; every name is re-exported here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from simulator.machine_types import (
    BUILTIN_SIGNALS,
    COMMON_SIGNALS,
    SEVERITIES,
    SIGNAL_MODELS,
    STATE_KEYS,
    TYPE_SIGNALS,
    FaultSpec,
    MachineType,
    SignalSpec,
    parse_types,
)
from simulator.plant_business import (
    DEFAULT_TECHNICIANS,
    Business,
    Person,
    Product,
    Share,
    parse_business,
    parse_technicians,
)
from simulator.plant_check import (
    Ctx,
    PlantError,
    as_list,
    as_map,
    flag,
    ident,
    join,
    known,
    load_yaml_text,
    num,
    read_yaml,
    show,
    text,
)
from simulator.shifts import (
    CAL_BREAK,
    CAL_DOWNTIME,
    CAL_OFF,
    CAL_ON,
    WEEKDAYS,
    Calendar,
    calendar_status,
    parse_calendar,
    parse_zone,
    tzinfo_for,
    zone_for_offset,
)
from telemetry.topics import check_id

__all__ = [
    "BUILTIN_SIGNALS", "CAL_BREAK", "CAL_DOWNTIME", "CAL_OFF", "CAL_ON", "COMMON_SIGNALS",
    "DATA_DIR", "DEFAULT_BUFFER", "DEFAULT_PLANT", "FLOWS", "MAX_SCALE", "SEVERITIES",
    "SIGNAL_MODELS", "STATE_KEYS", "TYPE_SIGNALS", "WEEKDAYS", "Area", "Business", "Calendar",
    "FaultSpec", "Line", "Machine", "MachineType", "Person", "Plant", "PlantError", "Product",
    "Share", "SignalSpec", "calendar_status", "load_plant", "load_yaml_text", "parse_plant",
    "parse_types", "scale_plant",
]

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_PLANT = DATA_DIR / "plant.yaml"
MAX_SCALE = 1000
FLOWS = ("serial", "parallel")
#: Parts between two consecutive machines of a serial line when the plant file says none.
DEFAULT_BUFFER = 10
MAX_BUFFER = 1_000_000


@dataclass(frozen=True)
class Machine:
    id: str
    area: str
    line: str
    type: str
    pos: tuple[float, float] | None = None
    buffer: int | None = None  # parts in the buffer after it (serial lines); None: the line's


@dataclass(frozen=True)
class Line:
    """A line: machines in order. ``serial`` lines pass parts machine to machine through
    buffers; ``parallel`` ones are independent cells. ``output``: the machines whose good
    parts are the line's output (resolved by the parser)."""

    id: str
    machines: tuple[Machine, ...]
    name: str = ""  # default: id
    name_zh: str = ""  # default: name
    flow: str = "serial"
    buffer: int = DEFAULT_BUFFER
    daily_target: float | None = None
    output: tuple[str, ...] = ()
    finished: bool = True  # False: makes parts for other lines, not in plant totals

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.id)
        if not self.name_zh:
            object.__setattr__(self, "name_zh", self.name)
        if self.flow not in FLOWS:
            raise ValueError(f"line flow {self.flow!r} not in {FLOWS}")

    def buffer_after(self, machine: Machine) -> int:
        return self.buffer if machine.buffer is None else machine.buffer


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    calendar: str
    base_load_kw: float
    lines: tuple[Line, ...]
    name_zh: str = ""  # default: name

    def __post_init__(self) -> None:
        if not self.name_zh:
            object.__setattr__(self, "name_zh", self.name)


@dataclass(frozen=True)
class Plant:
    enterprise: str
    site: str
    name: str
    utc_offset_h: float  # the standard (winter) offset of the time zone
    types: Mapping[str, MachineType]
    calendars: Mapping[str, Calendar]
    areas: tuple[Area, ...]
    source: str = "<plant>"
    name_zh: str = ""  # default: name
    timezone: str = ""  # IANA name or UTC+hh:mm; default: from utc_offset_h
    technicians: tuple[Person, ...] = DEFAULT_TECHNICIANS
    business: Business = field(default_factory=Business)

    def __post_init__(self) -> None:
        if not self.name_zh:
            object.__setattr__(self, "name_zh", self.name)
        if not self.timezone:
            object.__setattr__(self, "timezone", zone_for_offset(self.utc_offset_h))

    @property
    def tzinfo(self) -> dt.tzinfo:
        return tzinfo_for(self.timezone)

    @property
    def sales_orders_per_h(self) -> float:
        return self.business.sales_orders_per_h

    @property
    def machines(self) -> list[Machine]:
        """Every machine, in plant order (area, line, machine)."""
        return [m for a in self.areas for ln in a.lines for m in ln.machines]

    @property
    def lines(self) -> list[tuple[Area, Line]]:
        return [(a, ln) for a in self.areas for ln in a.lines]

    @property
    def output_machines(self) -> list[Machine]:
        """The output machines of every line whose output is finished goods (all lines
        unless some say ``finished: false``), in plant order: plant totals add these."""
        return [m for _, ln in self.lines if ln.finished
                for m in ln.machines if m.id in ln.output]

    def machine(self, machine_id: str) -> Machine:
        for m in self.machines:
            if m.id == machine_id:
                return m
        raise KeyError(machine_id)


_PLANT_KEYS = ("enterprise", "site", "name", "name_zh", "timezone", "utc_offset_h", "types",
               "calendars", "areas", "technicians", "business", "sales_orders_per_h")
_AREA_KEYS = ("id", "name", "name_zh", "calendar", "base_load_kw", "lines")
_LINE_KEYS = ("id", "name", "name_zh", "flow", "buffer", "daily_target", "output",
              "finished", "machines")


def _pos(ctx: Ctx, raw: Any, path: str) -> tuple[float, float]:
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool)
                       and math.isfinite(v) for v in raw)):
        raise ctx.fail(path, f"must be [x, y] numbers, got {show(raw)}")
    return float(raw[0]), float(raw[1])


def _count(ctx: Ctx, m: Mapping[str, Any], key: str, path: str, lo: int, hi: int) -> int:
    v = m[key]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ctx.fail(join(path, key), f"must be an integer {lo}-{hi}, got {show(v)}")
    return v


def _machines(ctx: Ctx, raw: Any, path: str, area: str, line: str,
              types: Mapping[str, MachineType]) -> list[Machine]:
    m = as_map(ctx, raw, path)
    known(ctx, m, path, ("id", "type", "pos", "count", "pos_step", "buffer"))
    mid = ident(ctx, m, "id", path, "machine")
    tid = text(ctx, m, "type", path)
    if tid not in types:
        names = ", ".join(sorted(types)[:12]) + (" ..." if len(types) > 12 else "")
        raise ctx.fail(join(path, "type"), f"unknown machine type {tid!r} (known: {names})")
    pos = _pos(ctx, m["pos"], join(path, "pos")) if m.get("pos") is not None else None
    buf = _count(ctx, m, "buffer", path, 1, MAX_BUFFER) if m.get("buffer") is not None else None
    if "count" not in m:
        return [Machine(mid, area, line, tid, pos, buf)]
    count = _count(ctx, m, "count", path, 1, 999)
    step = (_pos(ctx, m["pos_step"], join(path, "pos_step"))
            if m.get("pos_step") is not None else (1.0, 0.0))
    out = []
    for i in range(count):
        p = None if pos is None else (pos[0] + step[0] * i, pos[1] + step[1] * i)
        name = f"{mid}-{i + 1:02d}"
        try:
            check_id("machine", name)
        except ValueError as exc:
            raise ctx.fail(join(path, "id"), f"{exc} (after numbering)") from exc
        out.append(Machine(name, area, line, tid, p, buf))
    return out


def _line(ctx: Ctx, raw: Any, lp: str, aid: str, types: Mapping[str, MachineType],
          seen_machines: dict[str, str]) -> Line:
    lm = as_map(ctx, raw, lp)
    known(ctx, lm, lp, _LINE_KEYS)
    lid = ident(ctx, lm, "id", lp, "line")
    machines: list[Machine] = []
    for mi, mraw in enumerate(as_list(ctx, lm.get("machines"), join(lp, "machines"))):
        mp = f"{lp}.machines[{mi}]"
        for mach in _machines(ctx, mraw, mp, aid, lid, types):
            if mach.id in seen_machines:
                raise ctx.fail(join(mp, "id"), f"duplicate machine id {mach.id!r} "
                               f"(first at {seen_machines[mach.id]})")
            seen_machines[mach.id] = mp
            machines.append(mach)
    flow = text(ctx, lm, "flow", lp, "serial")
    if flow not in FLOWS:
        raise ctx.fail(join(lp, "flow"), f"must be one of {', '.join(FLOWS)}, got {flow!r}")
    producing = [m.id for m in machines if types[m.type].producing]
    if lm.get("output") is None:
        output = tuple(producing[-1:] if flow == "serial" else producing)
    else:
        opath = join(lp, "output")
        output = tuple(as_list(ctx, lm["output"], opath))
        for i, o in enumerate(output):
            if not isinstance(o, str):
                raise ctx.fail(f"{opath}[{i}]", f"must be a machine id, got {show(o)}")
            if o not in producing:
                what = ("not a machine of this line" if o not in {m.id for m in machines}
                        else "a machine that makes no parts (ideal_cycle_s 0)")
                raise ctx.fail(f"{opath}[{i}]", f"{o!r} is {what}")
        if len(set(output)) != len(output):
            raise ctx.fail(opath, "lists a machine twice")
    target = num(ctx, lm, "daily_target", lp, -1.0, lo=-1.0)
    if target != -1.0 and target <= 0:
        raise ctx.fail(join(lp, "daily_target"), f"must be > 0, got {target:g}")
    name = text(ctx, lm, "name", lp, lid)
    return Line(lid, tuple(machines), name=name, name_zh=text(ctx, lm, "name_zh", lp, name),
                flow=flow,
                buffer=(_count(ctx, lm, "buffer", lp, 1, MAX_BUFFER)
                        if lm.get("buffer") is not None else DEFAULT_BUFFER),
                daily_target=None if target == -1.0 else target, output=output,
                finished=flag(ctx, lm, "finished", lp, True))


def _area(ctx: Ctx, raw: Any, ap: str, calendars: Mapping[str, Calendar],
          types: Mapping[str, MachineType], seen_machines: dict[str, str]) -> Area:
    am = as_map(ctx, raw, ap)
    known(ctx, am, ap, _AREA_KEYS)
    aid = ident(ctx, am, "id", ap, "area")
    cal = text(ctx, am, "calendar", ap, next(iter(calendars)))
    if cal not in calendars:
        raise ctx.fail(join(ap, "calendar"),
                       f"unknown calendar {cal!r} (known: {', '.join(calendars)})")
    lines: list[Line] = []
    for li, lraw in enumerate(as_list(ctx, am.get("lines"), join(ap, "lines"))):
        lp = f"{ap}.lines[{li}]"
        line = _line(ctx, lraw, lp, aid, types, seen_machines)
        if line.id in {ln.id for ln in lines}:
            raise ctx.fail(join(lp, "id"), f"duplicate line id {line.id!r} in area {aid!r}")
        lines.append(line)
    name = text(ctx, am, "name", ap, aid)
    return Area(aid, name, cal, num(ctx, am, "base_load_kw", ap, 0.0), tuple(lines),
                name_zh=text(ctx, am, "name_zh", ap, name))


def _types(ctx: Ctx, raw: Any, base_dir: Path | None) -> dict[str, MachineType]:
    if isinstance(raw, str):
        return _types_file(ctx, raw, "types", base_dir)
    if not isinstance(raw, list):
        return parse_types(raw, ctx.source, "types")
    types: dict[str, MachineType] = {}
    for i, item in enumerate(raw):
        p = f"types[{i}]"
        if isinstance(item, str):
            types.update(_types_file(ctx, item, p, base_dir))
        else:
            types.update(parse_types(item, ctx.source, p))
    if not types:
        raise ctx.fail("types", "must define at least one machine type")
    return types


def parse_plant(raw: Any, source: str = "<plant>", base_dir: Path | None = None,
                scale: int = 1) -> Plant:
    """Validate a parsed plant document; raise PlantError naming the path of a problem."""
    ctx = Ctx(source)
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise PlantError(f"--scale must be an integer 1-{MAX_SCALE}, got {scale!r}")
    m = as_map(ctx, raw, "")
    known(ctx, m, "", _PLANT_KEYS)
    enterprise = ident(ctx, m, "enterprise", "", "enterprise")
    site = ident(ctx, m, "site", "", "site")
    zone, offset = parse_zone(ctx, m)
    types = _types(ctx, m.get("types", "types.yaml"), base_dir)
    cal_raw = as_map(ctx, m.get("calendars", {"always": {"shifts": ["00:00-24:00"]}}),
                     "calendars")
    calendars = {cid: parse_calendar(ctx, cid, body, join("calendars", cid))
                 for cid, body in cal_raw.items()}
    if not calendars:
        raise ctx.fail("calendars", "must define at least one calendar")
    areas: list[Area] = []
    seen_machines: dict[str, str] = {}
    for ai, araw in enumerate(as_list(ctx, m.get("areas"), "areas")):
        area = _area(ctx, araw, f"areas[{ai}]", calendars, types, seen_machines)
        if area.id in {a.id for a in areas}:
            raise ctx.fail(join(f"areas[{ai}]", "id"), f"duplicate area id {area.id!r}")
        areas.append(area)
    name = text(ctx, m, "name", "", site)
    plant = Plant(enterprise=enterprise, site=site, name=name, utc_offset_h=offset,
                  types=types, calendars=calendars, areas=tuple(areas), source=source,
                  name_zh=text(ctx, m, "name_zh", "", name), timezone=zone,
                  technicians=parse_technicians(ctx, m.get("technicians")),
                  business=parse_business(ctx, m.get("business"),
                                          m.get("sales_orders_per_h")))
    return scale_plant(plant, scale) if scale > 1 else plant


def _types_file(ctx: Ctx, name: str, path: str,
                base_dir: Path | None) -> dict[str, MachineType]:
    """Types from a file named in the plant: next to the plant file, else shipped data.

    The name must stay inside the folder it is looked up in (`../../etc/passwd` and
    absolute paths are refused): a plant file reads no other file of the machine.
    """
    folders = [base_dir or DATA_DIR, DATA_DIR]
    candidates = [f / name for f in folders if (f / name).resolve().is_relative_to(f.resolve())]
    if name.strip() and not candidates:
        raise ctx.fail(path, f"{name!r} leaves the plant file's folder: name a types file "
                             "in that folder (or in simulator/data)")
    for tp in candidates:
        if name.strip() and tp.is_file():
            return parse_types(read_yaml(tp), str(tp), "types")
    raise ctx.fail(path, f"no such types file {name!r} (looked in "
                   f"{', '.join(sorted({str(f) for f in folders}))})")


def scale_plant(plant: Plant, scale: int) -> Plant:
    """Grow a plant N-fold: every line is repeated N times (copies get an ``-sK`` suffix).

    Copies keep no floor-plan position (the plan shows the original machines); targets
    and the sales rate grow with the plant.
    """
    areas = []
    for a in plant.areas:
        lines = list(a.lines)
        for k in range(2, scale + 1):
            for ln in a.lines:
                lid = f"{ln.id}-s{k}"
                lines.append(replace(
                    ln, id=lid, name=f"{ln.name} #{k}", name_zh=f"{ln.name_zh} #{k}",
                    machines=tuple(replace(m, id=_suffix(m.id, k), line=lid, pos=None)
                                   for m in ln.machines),
                    output=tuple(_suffix(o, k) for o in ln.output)))
        areas.append(replace(a, base_load_kw=a.base_load_kw * scale, lines=tuple(lines)))
    b = plant.business
    return replace(plant, areas=tuple(areas), business=replace(
        b, sales_orders_per_h=b.sales_orders_per_h * scale,
        daily_output_target=b.daily_output_target * scale))


def _suffix(mid: str, k: int) -> str:
    tail = f"-s{k}"
    return mid[: 64 - len(tail)] + tail


def load_plant(path: str | Path | None = None, scale: int = 1, *,
               enterprise: str | None = None, site: str | None = None) -> Plant:
    """Load and validate a plant file (default: the shipped demo plant).

    ``enterprise`` / ``site`` override the file's ids (the first topic levels).
    """
    p = Path(path) if path is not None else DEFAULT_PLANT
    if p.is_dir():
        raise PlantError(f"{p}: is a directory, expected a plant YAML file")
    plant = parse_plant(read_yaml(p), str(p), p.parent, scale)
    try:
        if enterprise is not None:
            plant = replace(plant, enterprise=check_id("enterprise", enterprise))
        if site is not None:
            plant = replace(plant, site=check_id("site", site))
    except ValueError as exc:
        raise PlantError(str(exc)) from exc
    return plant

