"""The layout of a plant: its areas, their lines and the machines of each, and their parsing.

:func:`parse_area` validates one ``areas[i]`` entry of a plant file (its lines, their flow,
buffers and output machines, the machines with ``count``/``pos_step`` numbering) into the
frozen dataclasses below; :func:`simulator.plant.parse_plant` calls it once per area.
Every name is re-exported by :mod:`simulator.plant`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.machine_types import MachineType
from simulator.plant_check import Ctx, as_list, as_map, flag, ident, join, known, num, show, text
from simulator.shifts import Calendar
from telemetry.topics import check_id

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
    serves: tuple[str, ...] | None = None  # support equipment: area/line ids; None: the line's


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
    serves: tuple[str, ...] = ()  # its support machines serve these areas/lines

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


_AREA_KEYS = ("id", "name", "name_zh", "calendar", "base_load_kw", "lines")
_LINE_KEYS = ("id", "name", "name_zh", "flow", "buffer", "daily_target", "output",
              "finished", "serves", "machines")


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
    known(ctx, m, path, ("id", "type", "pos", "count", "pos_step", "buffer", "serves"))
    mid = ident(ctx, m, "id", path, "machine")
    tid = text(ctx, m, "type", path)
    if tid not in types:
        names = ", ".join(sorted(types)[:12]) + (" ..." if len(types) > 12 else "")
        raise ctx.fail(join(path, "type"), f"unknown machine type {tid!r} (known: {names})")
    pos = _pos(ctx, m["pos"], join(path, "pos")) if m.get("pos") is not None else None
    buf = _count(ctx, m, "buffer", path, 1, MAX_BUFFER) if m.get("buffer") is not None else None
    serves = _serves(ctx, m, path)
    if serves is not None and types[tid].producing:
        raise ctx.fail(join(path, "serves"), "only machines that make no parts "
                       "(ideal_cycle_s 0) serve others")
    if "count" not in m:
        return [Machine(mid, area, line, tid, pos, buf, serves)]
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
        out.append(Machine(name, area, line, tid, p, buf, serves))
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
                finished=flag(ctx, lm, "finished", lp, True),
                serves=_serves(ctx, lm, lp) or ())


def parse_area(ctx: Ctx, raw: Any, ap: str, calendars: Mapping[str, Calendar],
          types: Mapping[str, MachineType], seen_machines: dict[str, str]) -> Area:
    """One ``areas[i]`` entry; ``seen_machines`` (id -> path) spans the whole plant."""
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



# -- support equipment (`serves:`) ---------------------------------------------------------
def _serves(ctx: Ctx, m: Mapping[str, Any], path: str) -> tuple[str, ...] | None:
    if m.get("serves") is None:
        return None
    spath = join(path, "serves")
    out = []
    for i, v in enumerate(as_list(ctx, m["serves"], spath)):
        if not isinstance(v, str) or not v.strip():
            raise ctx.fail(f"{spath}[{i}]", f"must be an area or line id, got {show(v)}")
        out.append(v.strip())
    return tuple(out)


def served_lines(areas: tuple[Area, ...] | list[Area], ref: str) -> list[Line]:
    """The lines a ``serves:`` entry names: an area id (all its lines), a line id (every
    line with it) or ``area/line``. Raises ValueError saying what is wrong."""
    if "/" in ref:
        aid, _, lid = ref.partition("/")
        found = [ln for a in areas if a.id == aid for ln in a.lines if ln.id == lid]
    else:
        by_area = [ln for a in areas if a.id == ref for ln in a.lines]
        by_line = [ln for a in areas for ln in a.lines if ln.id == ref]
        if by_area and by_line:
            raise ValueError(f"{ref!r} is both an area and a line id: write area/line "
                             "for the line")
        found = by_area or by_line
    if not found:
        raise ValueError(f"{ref!r} is no area id, line id or area/line of this plant")
    return found


def check_serves(ctx: Ctx, areas: list[Area], types: Mapping[str, MachineType]) -> None:
    """Every ``serves:`` entry names lines with at least one machine that makes parts."""
    for ai, area in enumerate(areas):
        for li, line in enumerate(area.lines):
            lp = f"areas[{ai}].lines[{li}]"
            refs = [(f"{lp}.serves", line.serves)] + [
                (f"{lp}.machines[id {m.id}].serves", m.serves)
                for m in line.machines if m.serves is not None]
            for path, group in refs:
                for k, ref in enumerate(group):
                    try:
                        lines = served_lines(areas, ref)
                    except ValueError as exc:
                        raise ctx.fail(f"{path}[{k}]", str(exc)) from None
                    if not any(types[m.type].producing for ln in lines
                               for m in ln.machines):
                        raise ctx.fail(f"{path}[{k}]", f"{ref!r} has no machine that makes "
                                       "parts to serve")
