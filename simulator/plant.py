"""The plant description: enterprise / site / areas / lines / machines, read from YAML.

A plant is read from YAML (``simulator/data/plant.yaml`` by default) and validated into
frozen dataclasses. Every error is a :class:`PlantError` whose one-line message names the
file, the path inside it (``areas[1].lines[0].machines[3].type``) and what is wrong.
Areas, lines and machines (:mod:`simulator.plant_layout`), machine types
(:mod:`simulator.machine_types`), calendars and the time zone (:mod:`simulator.shifts`) and
the business block (:mod:`simulator.plant_business`) have their own modules; every name is
re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from simulator.ambient import Climate, parse_climate
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
    check_made_by,
    parse_business,
    parse_technicians,
)
from simulator.plant_check import (
    Ctx,
    PlantError,
    as_list,
    as_map,
    ident,
    join,
    known,
    load_yaml_text,
    read_yaml,
    text,
)
from simulator.plant_layout import (
    DEFAULT_BUFFER,
    FLOWS,
    Area,
    Line,
    Machine,
    check_serves,
    parse_area,
)
from simulator.plant_losses import (
    Maintenance,
    ShiftEffect,
    parse_maintenance,
    parse_shift_effects,
)
from simulator.sensors import SensorFaultRates, parse_sensor_faults
from simulator.shifts import (
    CAL_BREAK,
    CAL_DOWNTIME,
    CAL_HOLIDAY,
    CAL_OFF,
    CAL_ON,
    WEEKDAYS,
    Calendar,
    calendar_status,
    parse_calendar,
    parse_holidays,
    parse_zone,
    tzinfo_for,
    zone_for_offset,
)
from telemetry.topics import check_id

__all__ = [
    "BUILTIN_SIGNALS",
    "CAL_BREAK",
    "CAL_DOWNTIME",
    "CAL_HOLIDAY",
    "CAL_OFF",
    "CAL_ON",
    "COMMON_SIGNALS",
    "DATA_DIR",
    "DEFAULT_BUFFER",
    "DEFAULT_PLANT",
    "FLOWS",
    "MAX_SCALE",
    "SEVERITIES",
    "SIGNAL_MODELS",
    "STATE_KEYS",
    "TYPE_SIGNALS",
    "WEEKDAYS",
    "Area",
    "Business",
    "Calendar",
    "Climate",
    "FaultSpec",
    "Line",
    "Machine",
    "MachineType",
    "Maintenance",
    "Person",
    "Plant",
    "PlantError",
    "Product",
    "SensorFaultRates",
    "Share",
    "ShiftEffect",
    "SignalSpec",
    "calendar_status",
    "load_plant",
    "load_yaml_text",
    "parse_plant",
    "parse_types",
    "scale_plant",
]

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_PLANT = DATA_DIR / "plant.yaml"
MAX_SCALE = 1000

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
    climate: Climate = field(default_factory=Climate)  # workshop air (simulator.ambient)
    sensor_faults: SensorFaultRates = field(default_factory=SensorFaultRates)
    maintenance: Maintenance = field(default_factory=Maintenance)
    shift_effects: tuple[ShiftEffect, ...] = ()

    def __post_init__(self) -> None:
        if not self.name_zh:
            object.__setattr__(self, "name_zh", self.name)
        if not self.timezone:
            object.__setattr__(self, "timezone", zone_for_offset(self.utc_offset_h))

    @property
    def tzinfo(self) -> dt.tzinfo:
        return tzinfo_for(self.timezone)

    @property
    def sales_orders_per_h(self) -> float | None:
        """From older plant files; unused: orders follow production (simulator.stock)."""
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
               "calendars", "holidays", "areas", "technicians", "business",
               "sales_orders_per_h", "climate", "sensor_faults", "maintenance", "shift_effects")

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
    holidays = parse_holidays(ctx, m.get("holidays", []), "holidays")
    calendars = {cid: parse_calendar(ctx, cid, body, join("calendars", cid), holidays)
                 for cid, body in cal_raw.items()}
    if not calendars:
        raise ctx.fail("calendars", "must define at least one calendar")
    areas: list[Area] = []
    seen_machines: dict[str, str] = {}
    for ai, araw in enumerate(as_list(ctx, m.get("areas"), "areas")):
        area = parse_area(ctx, araw, f"areas[{ai}]", calendars, types, seen_machines)
        if area.id in {a.id for a in areas}:
            raise ctx.fail(join(f"areas[{ai}]", "id"), f"duplicate area id {area.id!r}")
        areas.append(area)
    check_serves(ctx, areas, types)
    name = text(ctx, m, "name", "", site)
    technicians = parse_technicians(ctx, m.get("technicians"))
    plant = Plant(enterprise=enterprise, site=site, name=name, utc_offset_h=offset,
                  types=types, calendars=calendars, areas=tuple(areas), source=source,
                  name_zh=text(ctx, m, "name_zh", "", name), timezone=zone,
                  technicians=technicians,
                  business=parse_business(ctx, m.get("business"),
                                          m.get("sales_orders_per_h")),
                  climate=parse_climate(ctx, m.get("climate")),
                  sensor_faults=parse_sensor_faults(ctx, m.get("sensor_faults")),
                  maintenance=parse_maintenance(ctx, m.get("maintenance"), len(technicians)),
                  shift_effects=parse_shift_effects(ctx, m.get("shift_effects"), calendars))
    check_made_by(ctx, plant.business, areas)
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
    and the sales rate grow with the plant. A copy's ``serves:`` names the copies of the
    lines the original serves (areas stay areas).
    """
    areas = []
    area_ids = {a.id for a in plant.areas}

    def serves(refs: tuple[str, ...] | None, k: int) -> tuple[str, ...] | None:
        return None if refs is None else tuple(
            r if r in area_ids else f"{r}-s{k}" for r in refs)

    for a in plant.areas:
        lines = list(a.lines)
        for k in range(2, scale + 1):
            for ln in a.lines:
                lid = f"{ln.id}-s{k}"
                lines.append(replace(
                    ln, id=lid, name=f"{ln.name} #{k}", name_zh=f"{ln.name_zh} #{k}",
                    machines=tuple(replace(m, id=_suffix(m.id, k), line=lid, pos=None,
                                           serves=serves(m.serves, k))
                                   for m in ln.machines),
                    output=tuple(_suffix(o, k) for o in ln.output),
                    serves=serves(ln.serves, k) or ()))
        areas.append(replace(a, base_load_kw=a.base_load_kw * scale, lines=tuple(lines)))
    b = plant.business
    products = tuple(replace(p, made_by=(*p.made_by, *(
        r if r in area_ids else f"{r}-s{k}" for k in range(2, scale + 1) for r in p.made_by
        if r not in area_ids))) for p in b.products)
    return replace(plant, areas=tuple(areas), business=replace(
        b, sales_orders_per_h=None if b.sales_orders_per_h is None
        else b.sales_orders_per_h * scale,
        daily_output_target=b.daily_output_target * scale, products=products))


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

