"""The terminal plant overview: the plant-overview dashboard's figures, drawn with rich.

It runs the very InfluxQL the dashboard runs (:data:`dashboards.queries.OVERVIEW`, plus
the latest-alarms query of the alarms screen), expanded by
:func:`dashboards.queries.substitute` over the same windows the dashboard's panels use
(``today`` for output and energy, the dashboard's last 24 h for the rest).

Three layers: :func:`fetch` (I/O: run the queries), :func:`build` (pure: query results ->
:class:`Overview`), :func:`render` (pure: :class:`Overview` -> a rich renderable).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from dashboards import queries as q
from simulator.oee import FACTORS, oee_from_sums
from telemetry.contract import (
    DEFAULT_ENTERPRISE,
    DEFAULT_SITE,
    HARDWARE_AREA,
    STATE_COLOURS,
    MachineState,
    WorkOrderStatus,
)
from telemetry.influx import InfluxClient, series_rows

#: Which window each overview query uses, as the plant-overview dashboard's panels do
#: ("today" = the panel's relative time ``now/d``; "dashboard" = the dashboard's range).
PANEL_WINDOWS: dict[str, str] = {
    "output_today": "today",
    "output_vs_target_pct": "today",
    "energy_today": "today",
}
#: Panels with a relative time of their own (the wall's ``timeFrom``): active alarms read
#: alarms raised and not cleared over the last 7 days.
PANEL_SPANS_MS: dict[str, int] = {"active_alarms": q.parse_interval(q.ALARM_WINDOW)}
#: The plant-overview dashboard's time range (``now-24h``).
DASHBOARD_RANGE_MS = 24 * 3_600_000
#: The hourly-output panel's min interval.
HOURLY_MIN_INTERVAL = "1h"
SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Scope:
    """Which plant the overview shows: its enterprise and site (the dashboards' variables)
    and the area drawn as the floor (the plant file's first area, as on the wall)."""

    enterprise: str = DEFAULT_ENTERPRISE
    site: str = DEFAULT_SITE
    floor_area: str = HARDWARE_AREA
    floor_title: str = "Hardware workshop"
    #: The plant's time zone: "today" starts at its local midnight (None: this machine's).
    tzinfo: dt.tzinfo | None = None

    @classmethod
    def of(cls, plant: Any) -> Scope:
        """The scope of a loaded plant (:class:`simulator.plant.Plant`)."""
        first = plant.areas[0]
        name = str(getattr(first, "name", "") or first.id)
        name_zh = str(getattr(first, "name_zh", "") or "")
        title = f"{name} ({name_zh})" if name_zh and name_zh != name else name
        return cls(plant.enterprise, plant.site, first.id, title, plant.tzinfo)

    def variables(self, all_areas: bool = False) -> dict[str, q.Variable]:
        return {q.VAR_ENTERPRISE: q.single(self.enterprise), q.VAR_SITE: q.single(self.site),
                q.VAR_AREA: q.ALL if all_areas else q.single(self.floor_area)}


@dataclass(frozen=True)
class WorkOrderRow:
    wo_id: str
    machine: str
    status: str
    progress_pct: float
    technician: str


@dataclass(frozen=True)
class AlarmRow:
    time_ms: int
    machine: str
    code: str
    severity: str
    message: str


@dataclass(frozen=True)
class Overview:
    """Everything the terminal overview shows; ``None`` where no data arrived yet."""

    now_ms: int
    today_from_ms: int
    range_from_ms: int
    output_today: int | None = None
    daily_target: int = q.DEFAULT_DAILY_TARGET
    output_pct: float | None = None
    availability_pct: float | None = None
    performance_pct: float | None = None
    quality_pct: float | None = None
    oee_pct: float | None = None
    machines_running: int | None = None
    machines_total: int | None = None
    states: dict[str, int] = field(default_factory=dict)
    #: machine -> state of the floor area (:attr:`Scope.floor_area`)
    floor_states: dict[str, str] = field(default_factory=dict)
    active_alarms: int | None = None
    alarms: tuple[AlarmRow, ...] = ()
    energy_kwh: float | None = None
    sales_share_pct: dict[str, float] = field(default_factory=dict)
    sales_total_cny: float | None = None
    hourly_output: tuple[float, ...] = ()
    work_orders: tuple[WorkOrderRow, ...] = ()
    latest_data_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- I/O: run the dashboard's queries ----------------------------------------------------
def windows(now: dt.datetime, tz: dt.tzinfo | None = None) -> tuple[int, int, int]:
    """(now_ms, start of today in the plant's local time, start of the dashboard's range),
    in ms (``tz`` None: this machine's time zone)."""
    now_ms = int(now.timestamp() * 1000)
    local = now.astimezone(tz)
    # With a zone (summer time included) the offset is midnight's own, not now's.
    midnight = dt.datetime(local.year, local.month, local.day, tzinfo=tz or local.tzinfo)
    return now_ms, int(midnight.timestamp() * 1000), now_ms - DASHBOARD_RANGE_MS


def planned_queries(now_ms: int, today_ms: int, range_ms: int,
                    scope: Scope | None = None) -> dict[str, str]:
    """Every query the overview runs, expanded for this moment (name -> InfluxQL)."""
    scope = scope or Scope()
    plant = scope.variables()
    out: dict[str, str] = {}
    for name, pq in q.OVERVIEW.items():
        start = today_ms if PANEL_WINDOWS.get(name) == "today" else range_ms
        if name in PANEL_SPANS_MS:
            start = now_ms - PANEL_SPANS_MS[name]
        min_interval = HOURLY_MIN_INTERVAL if name == "hourly_output" else None
        out[name] = q.substitute(pq.influxql, from_ms=start, to_ms=now_ms,
                                 min_interval=min_interval, variables=plant)
    # The floor: the wall's floor plan shows every machine, too many for a terminal; the
    # overview draws the floor area's machines, with the equipment-status screen's query.
    out["floor_plan_states"] = q.substitute(q.FLOOR_PLAN_STATES.influxql, from_ms=range_ms,
                                            to_ms=now_ms, variables=plant)
    # Extra queries: every machine's state (the floor plan's query over all areas) and the
    # latest alarm events (the alarms screen's table).
    out["all_states"] = q.substitute(q.FLOOR_PLAN_STATES.influxql, from_ms=range_ms,
                                     to_ms=now_ms, variables=scope.variables(all_areas=True))
    out["latest_alarms"] = q.substitute(q.LATEST_ALARMS.influxql, from_ms=range_ms,
                                        to_ms=now_ms, variables=plant)
    # The OEE sums, so an undefined ratio (nothing planned, run or made) shows as absent:
    # InfluxQL answers x / 0 with 0.
    out["oee_sums"] = q.substitute(
        'SELECT sum("run_s") AS "run_s", sum("planned_s") AS "planned_s", '
        'sum("ideal_s") AS "ideal_s", sum("good") AS "good", sum("scrap") AS "scrap" '
        f'FROM "counts" WHERE {q.SITE_WHERE} AND $timeFilter', from_ms=range_ms, to_ms=now_ms,
        variables=plant)
    # Freshness of the data (not a dashboard figure): the newest telemetry sample.
    out["latest_data"] = q.substitute(
        f'SELECT last("power_kw") FROM "telemetry" WHERE {q.SITE_WHERE} AND $timeFilter',
        from_ms=range_ms, to_ms=now_ms, variables=plant)
    return out


def fetch(client: InfluxClient, now: dt.datetime | None = None,
          scope: Scope | None = None) -> Overview:
    """Run every query against InfluxDB and build the overview."""
    now_ms, today_ms, range_ms = windows(now or dt.datetime.now(dt.UTC),
                                         scope.tzinfo if scope else None)
    planned = planned_queries(now_ms, today_ms, range_ms, scope)
    results = {name: client.query(influxql) for name, influxql in planned.items()}
    return build(results, now_ms=now_ms, today_ms=today_ms, range_ms=range_ms)


# -- pure: results -> figures ------------------------------------------------------------
def _rows(results: Mapping[str, list[dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    statements = results.get(name) or []
    return series_rows(statements[0]) if statements else []


# Stored values are not trusted: any field may hold any type or size (a hostile publisher,
# a field type conflict across shards, a plant with its own codes). Each reader below turns
# what it cannot use into "absent" instead of raising.
def _num(value: Any) -> float | None:
    """A finite number, else None (bools, strings, NaN and infinities are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        out = float(value)
    except OverflowError:  # an int too big for a float
        return None
    return out if math.isfinite(out) else None


def _state(code: Any) -> str | None:
    """The state name of a stored state_code, None when it is not a known state."""
    n = _num(code)
    if n is None or n != int(n) or int(n) not in STATE_CODES:
        return None
    return MachineState(int(n)).name


STATE_CODES = {s.value for s in MachineState}
#: Shown for a machine whose newest state_code is not a known state (never a colour that
#: reads as "fine").
UNKNOWN_STATE = "UNKNOWN"


def _first(results: Mapping[str, list[dict[str, Any]]], name: str,
           column: str) -> float | None:
    for row in _rows(results, name):
        value = _num(row.get(column))
        if value is not None:
            return value
    return None


def _oee_pct(results: Mapping[str, list[dict[str, Any]]]) -> dict[str, float]:
    """OEE factors in percent from the summed counts; an undefined one is left out. Without
    the sums (an older caller), the dashboard's own OEE query."""
    if "oee_sums" not in results:
        return {k: v for k in FACTORS if (v := _first(results, "oee", k)) is not None}
    rows = _rows(results, "oee_sums")
    if not rows:
        return {}
    sums = [_num(rows[0].get(k)) for k in ("run_s", "planned_s", "ideal_s", "good", "scrap")]
    if any(v is None or v < 0 for v in sums):
        return {}
    run, planned, ideal, good, scrap = (float(v or 0.0) for v in sums)
    return {k: 100 * v for k, v in oee_from_sums(run, planned, ideal, round(good),
                                                  round(scrap)).items()}


def _int(value: float | None) -> int | None:
    return None if value is None else round(value)


def _time_ms(value: Any) -> int | None:
    n = _num(value)
    return None if n is None else int(n)


def build(results: Mapping[str, list[dict[str, Any]]], *, now_ms: int, today_ms: int,
          range_ms: int) -> Overview:
    """Turn the statement results of :func:`planned_queries` into an :class:`Overview`."""
    states: Counter[str] = Counter()
    for row in _rows(results, "all_states"):
        if row.get("state_code") is not None:
            states[_state(row.get("state_code")) or UNKNOWN_STATE] += 1
    floor = {str(r["machine"]): _state(r.get("state_code")) or UNKNOWN_STATE
             for r in _rows(results, "floor_plan_states")
             if r.get("state_code") is not None and r.get("machine")}
    sales = {}
    for r in _rows(results, "sales_by_region"):
        amount = _num(r.get("amount_cny"))
        if r.get("region") and amount is not None and amount >= 0:
            sales[str(r["region"])] = amount
    total = sum(sales.values())
    if not math.isfinite(total):
        sales, total = {}, 0.0
    shares = {k: v / total * 100 for k, v in sorted(sales.items(), key=lambda kv: -kv[1])} \
        if total > 0 else {}
    orders = []
    statuses = {s.value: s for s in WorkOrderStatus}
    for r in _rows(results, "work_orders"):
        code = _num(r.get("status_code"))
        if code is None or code != int(code) or int(code) not in statuses \
                or int(code) == WorkOrderStatus.DONE:
            continue
        progress = _num(r.get("progress_pct"))
        orders.append(WorkOrderRow(
            wo_id=str(r.get("wo_id", "")), machine=str(r.get("machine", "")),
            status=statuses[int(code)].name.lower(),
            progress_pct=min(100.0, max(0.0, progress or 0.0)),
            technician=str(r.get("technician") or "")))
    orders.sort(key=lambda w: (-w.progress_pct, w.wo_id))
    alarms, seen = [], set()
    for r in _rows(results, "latest_alarms"):  # newest first
        key = (str(r.get("machine")), str(r.get("code")))
        if key in seen:
            continue
        seen.add(key)
        if r.get("active") is True:
            alarms.append(AlarmRow(time_ms=_time_ms(r.get("time")) or 0,
                                   machine=str(r.get("machine", "")),
                                   code=str(r.get("code", "")),
                                   severity=str(r.get("severity") or "info"),
                                   message=str(r.get("message") or "")))
    hourly = tuple(max(0.0, _num(r.get("output")) or 0.0)
                   for r in _rows(results, "hourly_output"))
    latest = [_time_ms(r.get("time")) for r in _rows(results, "latest_data")]
    active = _int(_first(results, "active_alarms", "active_alarms"))
    if active is None and latest:  # count() over no active alarm returns no row at all
        active = 0
    oee = _oee_pct(results)
    return Overview(
        now_ms=now_ms, today_from_ms=today_ms, range_from_ms=range_ms,
        output_today=_int(_first(results, "output_today", "output")),
        output_pct=_first(results, "output_vs_target_pct", "of_target"),
        availability_pct=oee.get("availability"),
        performance_pct=oee.get("performance"),
        quality_pct=oee.get("quality"),
        oee_pct=oee.get("oee"),
        machines_running=_int(_first(results, "machines_running", "running")),
        machines_total=_int(_first(results, "machines_running", "total")),
        states=dict(states),
        floor_states=dict(sorted(floor.items())),
        active_alarms=active,
        alarms=tuple(alarms),
        energy_kwh=_first(results, "energy_today", "kwh"),
        sales_share_pct=shares,
        sales_total_cny=total if sales else None,
        hourly_output=hourly,
        work_orders=tuple(orders),
        latest_data_ms=latest[0] if latest else None,
    )


# -- pure: figures -> rich ------------------------------------------------------------------
def _state_style(name: str) -> str:
    if name not in MachineState.__members__:
        return "dim"
    return f"bold {STATE_COLOURS[MachineState[name]]}"


def _clock(ms: int, fmt: str) -> str:
    """Local time of an epoch-ms value; "?" for one no calendar can show."""
    try:
        return dt.datetime.fromtimestamp(ms / 1000).strftime(fmt)
    except (OverflowError, OSError, ValueError):
        return "?"


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f} %"


def _grade(value: float | None, good: float, fair: float) -> str:
    if value is None:
        return "dim"
    return "green" if value >= good else "yellow" if value >= fair else "red"


def sparkline(values: tuple[float, ...], width: int = 24) -> str:
    vals = list(values)[-width:]
    top = max(vals, default=0.0)
    if top <= 0:
        return SPARK[0] * len(vals)
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1)))] for v in vals)


def _headline(o: Overview) -> Table:
    grid = Table.grid(expand=True, padding=(0, 2))
    for _ in range(4):
        grid.add_column(ratio=1)
    out = Text()
    out.append(f"{o.output_today:,}" if o.output_today is not None else "—", "bold white")
    out.append(f" / {o.daily_target:,} units\n", "dim")
    out.append(f"{_pct(o.output_pct, 0)} of target  ", _grade(o.output_pct, 90, 60))
    out.append(sparkline(o.hourly_output), "cyan")
    oee = Text()
    oee.append(f"OEE {_pct(o.oee_pct)}\n", f"bold {_grade(o.oee_pct, 85, 60)}")
    oee.append(f"A {_pct(o.availability_pct, 0)}  P {_pct(o.performance_pct, 0)}  "
               f"Q {_pct(o.quality_pct, 0)}", "dim")
    running = Text()
    running.append(f"{o.machines_running if o.machines_running is not None else '—'}",
                   _state_style("RUNNING"))
    running.append(f" / {o.machines_total if o.machines_total is not None else '—'} "
                   "running\n", "dim")
    for state in MachineState:
        n = o.states.get(state.name, 0)
        if n:
            running.append(f"■ {state.name.lower()} {n}  ", _state_style(state.name))
    if o.states.get(UNKNOWN_STATE):
        running.append(f"■ unknown state {o.states[UNKNOWN_STATE]}  ", "dim")
    energy = Text()
    energy.append("—" if o.energy_kwh is None else f"{o.energy_kwh:,.0f}", "bold white")
    energy.append(" kWh today\n", "dim")
    alarms = o.active_alarms
    energy.append(f"{alarms if alarms is not None else '—'} active alarms",
                  "bold red" if alarms else "green")
    grid.add_row(Panel(out, title="Output today vs target"), Panel(oee, title="OEE (24 h)"),
                 Panel(running, title="Machines"), Panel(energy, title="Energy & alarms"))
    return grid


SHORT_STATE = {"OFF": "off", "IDLE": "idle", "RUNNING": "run", "SETUP": "setup",
               "FAULT": "FAULT", "MAINTENANCE": "maint", UNKNOWN_STATE: "?"}


def _floor(o: Overview, title: str) -> Panel:
    text = Text()
    for machine, state in o.floor_states.items():
        text.append(f"■ {machine} {SHORT_STATE.get(state, state)}  ", _state_style(state))
    if not o.floor_states:
        text.append("waiting for machine states…", "dim")
    return Panel(text, title=f"{title} equipment status")


def _alarms(o: Overview, rows: int) -> Panel:
    t = Table(expand=True, box=None, show_edge=False, pad_edge=False)
    t.add_column("time", no_wrap=True, min_width=5)
    t.add_column("machine", no_wrap=True, min_width=8)
    t.add_column("alarm", no_wrap=True, overflow="ellipsis", ratio=1)
    colour = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
    for a in o.alarms[:rows]:
        when = _clock(a.time_ms, "%H:%M")
        label = Text(f"{a.severity[:4]} ", colour.get(a.severity, ""))
        label.append(f"{a.code} {a.message}")
        t.add_row(when, a.machine, label)
    if not o.alarms:
        t.add_row("", "no active alarms", "")
    return Panel(t, title="Active alarms")


def _maintenance(o: Overview, rows: int) -> Panel:
    t = Table(expand=True, box=None, show_edge=False, pad_edge=False)
    t.add_column("work order", no_wrap=True, overflow="ellipsis")
    t.add_column("machine", no_wrap=True, overflow="ellipsis")
    t.add_column("progress", ratio=1)
    t.add_column("", justify="right", no_wrap=True)
    for w in o.work_orders[:rows]:
        bar = ProgressBar(total=100, completed=w.progress_pct, width=None,
                          complete_style="orange1", finished_style="green")
        t.add_row(w.wo_id, w.machine, bar, f"{w.progress_pct:3.0f} %")
    if not o.work_orders:
        t.add_row("", "no open work orders", "", "")
    return Panel(t, title="Maintenance progress (设备检修进度)")


def _sales(o: Overview) -> Panel:
    t = Table(expand=True, box=None, show_edge=False, pad_edge=False)
    t.add_column("region", no_wrap=True)
    t.add_column("share", ratio=1)
    t.add_column("", justify="right", no_wrap=True)
    for region, share in o.sales_share_pct.items():
        t.add_row(region, ProgressBar(total=100, completed=share, width=None,
                                      complete_style="cyan"), f"{share:4.1f} %")
    if not o.sales_share_pct:
        t.add_row("no sales yet", "", "")
    else:
        t.add_row(Text("total 24 h", "dim"), "", Text(f"¥{o.sales_total_cny or 0:,.0f}", "dim"))
    return Panel(t, title="Sales share by region (各区销售占比)")


def render(o: Overview, *, title: str = "Plant overview", status: str = "",
           rows: int = 6, scope: Scope | None = None) -> RenderableType:
    """The whole screen as one renderable (for rich.live or a text export)."""
    head = Text()
    head.append(f" {title} ", "bold black on bright_white")
    head.append(f"  {_clock(o.now_ms, '%Y-%m-%d %H:%M:%S')}", "bold")
    if o.latest_data_ms is not None:
        age_s = max(0.0, (o.now_ms - o.latest_data_ms) / 1000)
        head.append(f"   newest data {age_s:.0f} s old", "green" if age_s < 120 else "red")
    else:
        head.append("   no data yet", "red")
    lower = Table.grid(expand=True, padding=(0, 1))
    lower.add_column(ratio=1)
    lower.add_column(ratio=1)
    lower.add_column(ratio=1)
    lower.add_row(_alarms(o, rows), _maintenance(o, rows), _sales(o))
    floor_title = (scope or Scope()).floor_title
    parts: list[RenderableType] = [head, _headline(o), _floor(o, floor_title), lower]
    if status:
        parts.append(Text(status, "dim"))
    return Group(*parts)


def render_text(o: Overview, width: int = 160, **kwargs: Any) -> str:
    """The screen as plain text (headless mode, tests)."""
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None,
                      force_terminal=False, legacy_windows=False)
    console.print(render(o, **kwargs))
    return console.export_text()
