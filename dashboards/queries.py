"""Every InfluxQL query the dashboards run, in one pure module, and Grafana's macro expansion.

The queries use Grafana's InfluxQL macros (``$timeFilter``, ``$__interval``) and the
dashboards' template variables (``$enterprise``, ``$site``, ``$area``, ``$machine``, ...),
always in the regex form ``"tag" =~ /^$var$/`` so single values, multi-values and "All"
work alike. The dashboards put these strings into their panels verbatim; the terminal
overview and the query contract tests run the very same strings against InfluxDB after
:func:`substitute` has expanded them the way Grafana's InfluxQL data source does.

Measurements, tags and fields are the wire contract's (docs/contract.md). OEE is the
contract's ratio of sums over the window: availability = Σrun_s/Σplanned_s, performance
= Σideal_s/Σrun_s, quality = Σgood/(Σgood+Σscrap), OEE = Σideal_s/Σplanned_s x quality.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from telemetry.contract import (
    COLLECTOR_DEADLETTERS,
    COLLECTOR_STATS,
    DEFAULT_ENTERPRISE,
    DEFAULT_SITE,
    HARDWARE_AREA,
    WorkOrderStatus,
)

ResultFormat = Literal["time_series", "table"]

TIME_FILTER = "$timeFilter"
INTERVAL = "$__interval"
GROUP_BY_TIME = "GROUP BY time($__interval)"
#: Also accepted: an offset to align buckets (output by shift).
GROUP_BY_TIME_RE = re.compile(r"GROUP BY time\(\$__interval(, (-?\d+[smhd]|\$shift_offset))?\)")

#: Template variable names the queries use (dashboards define them; see DEFAULT_VARIABLES).
VAR_ENTERPRISE = "enterprise"
VAR_SITE = "site"
VAR_AREA = "area"
VAR_LINE = "line"
VAR_MACHINE = "machine"
VAR_DAILY_TARGET = "daily_target"
VAR_COLLECTOR = "collector"
#: The plant's output machines (a hidden multi-value variable generated from the plant:
#: every line's `output`), and the offset that aligns 8 h buckets to shift changes.
VAR_OUTPUT = "output"
VAR_SHIFT_OFFSET = "shift_offset"

#: Daily output target in units when the plant names none; a dashboard text box the plant
#: manager edits.
DEFAULT_DAILY_TARGET = 5000

#: Values the terminal overview and tests use when no dashboard picks them: the default
#: plant, "All" (``.*``) for the rest.
ALL_VALUE = ".*"
#: Grafana's InfluxQL alias for "the column name": multi-column time-series queries use
#: it so each field is called `oee`, `running`, ... rather than `counts.oee`.
COLUMN_ALIAS = "$col"


@dataclass(frozen=True)
class PanelQuery:
    """One InfluxQL query of one panel.

    `alias` is Grafana's InfluxQL alias pattern (``$tag_machine``); `result_format` is the
    target's ``resultFormat``. A query that groups by time must group by
    ``time($__interval)`` so Grafana picks the resolution; every query is bounded by
    ``$timeFilter`` (inside its innermost subquery when it has one).
    """

    key: str
    influxql: str
    result_format: ResultFormat = "time_series"
    alias: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if TIME_FILTER not in self.influxql:
            raise ValueError(f"query {self.key!r} has no {TIME_FILTER}: {self.influxql!r}")
        if "GROUP BY time(" in self.influxql and not GROUP_BY_TIME_RE.search(self.influxql):
            raise ValueError(f"query {self.key!r} must group by time({INTERVAL})")
        if self.influxql != self.influxql.strip() or "\n" in self.influxql:
            raise ValueError(f"query {self.key!r} must be one line without outer blanks")

    @property
    def is_time_series(self) -> bool:
        return GROUP_BY_TIME_RE.search(self.influxql) is not None


def tag_match(tag: str, var: str) -> str:
    """``"tag" =~ /^($var)$/``: one value, several, or All (``.*``).

    The group matters: recent Grafana joins several values as ``a|b`` without
    parentheses, and ``/^a|b$/`` would match any id starting with ``a``.
    """
    return f'"{tag}" =~ /^(${var})$/'


SITE_WHERE = f"{tag_match('enterprise', VAR_ENTERPRISE)} AND {tag_match('site', VAR_SITE)}"
AREA_WHERE = f"{SITE_WHERE} AND {tag_match('area', VAR_AREA)}"
MACHINE_WHERE = f"{AREA_WHERE} AND {tag_match('machine', VAR_MACHINE)}"
#: Output counts the good units of the plant's output machines only (a line's finished
#: units), never every machine's parts.
OUTPUT_WHERE = f"{SITE_WHERE} AND {tag_match('machine', VAR_OUTPUT)}"
COLLECTOR_WHERE = tag_match("collector", VAR_COLLECTOR)


def _oee(where: str, group_by: str = "", fill: str = "") -> str:
    """A/P/Q/OEE in percent from the sums of the counts, absent where nothing was planned.

    InfluxQL divides by zero as 0, so the ratios are taken over a subquery of sums and
    the rows whose planned time is 0 are dropped: no value rather than a false 0 %.
    `group_by` is the inner GROUP BY (``time($__interval)``, tags), tags kept outside.
    """
    inner = ('SELECT sum("run_s") AS "run", sum("planned_s") AS "planned", '
             'sum("ideal_s") AS "ideal", sum("good") AS "good", '
             'sum("good") + sum("scrap") AS "units" '
             f'FROM "counts" WHERE {where} AND {TIME_FILTER}'
             f'{" GROUP BY " + group_by if group_by else ""}{" " + fill if fill else ""}')
    tags = [g.strip() for g in group_by.split(", ") if g.strip().startswith('"')]
    outer_group = f' GROUP BY {", ".join(tags)}' if tags else ""
    return ('SELECT "run" / "planned" * 100 AS "availability", '
            '"ideal" / "run" * 100 AS "performance", "good" / "units" * 100 AS "quality", '
            '"ideal" / "planned" * "good" / "units" * 100 AS "oee" '
            f'FROM ({inner}) WHERE "planned" > 0{outer_group}')


def _q(key: str, influxql: str, result_format: ResultFormat = "time_series", alias: str = "",
       description: str = "") -> PanelQuery:
    return PanelQuery(key, influxql, result_format, alias, description)


# -- 1. plant overview --------------------------------------------------------------------
OUTPUT_TODAY = _q(
    "overview.output_today",
    f'SELECT sum("good") AS "output" FROM "counts" WHERE {OUTPUT_WHERE} AND {TIME_FILTER}',
    description="Good units from the output machines in the window (panel window: today).")
OUTPUT_VS_TARGET_PCT = _q(
    "overview.output_vs_target_pct",
    f'SELECT sum("good") / ${VAR_DAILY_TARGET} * 100 AS "of_target" FROM "counts" '
    f"WHERE {OUTPUT_WHERE} AND {TIME_FILTER}",
    description="Output so far today as a percentage of the daily target.")
OEE_PLANT = _q(
    "overview.oee",
    _oee(SITE_WHERE),
    alias=COLUMN_ALIAS,
    description="Plant availability, performance, quality and OEE in percent.")
MACHINES_RUNNING = _q(
    "overview.machines_running",
    'SELECT sum("running") AS "running", count("running") AS "total" FROM '
    f'(SELECT last("running") AS "running" FROM "state" WHERE {SITE_WHERE} AND {TIME_FILTER} '
    'GROUP BY "machine")',
    alias=COLUMN_ALIAS,
    description="Machines whose latest state is RUNNING, and machines reporting a state.")
ACTIVE_ALARMS = _q(
    "overview.active_alarms",
    'SELECT count("active") AS "active_alarms" FROM '
    f'(SELECT last("active") AS "active" FROM "alarm" WHERE {SITE_WHERE} AND {TIME_FILTER} '
    'GROUP BY "machine", "severity") WHERE "active" = true',
    description="Machine/severity pairs whose latest alarm event is active.")
ENERGY_TODAY = _q(
    "overview.energy_today",
    f'SELECT sum("kwh") AS "kwh" FROM "energy" WHERE {SITE_WHERE} AND {TIME_FILTER}',
    description="kWh used by all areas in the window (panel window: today).")
SALES_BY_REGION = _q(
    "overview.sales_by_region",
    f'SELECT sum("amount_cny") AS "amount_cny" FROM "sales" WHERE {SITE_WHERE} AND '
    f'{TIME_FILTER} GROUP BY "region"',
    alias="$tag_region",
    description="Sales amount per region; the pie chart shows shares.")
HOURLY_OUTPUT = _q(
    "overview.hourly_output",
    f'SELECT sum("good") AS "output" FROM "counts" WHERE {OUTPUT_WHERE} AND {TIME_FILTER} '
    f"{GROUP_BY_TIME} fill(0)",
    alias="output",
    description="Good units per interval (the panel's min interval is 1h).")
WORK_ORDERS = _q(
    "overview.work_orders",
    'SELECT last("status_code") AS "status_code", last("progress_pct") AS "progress_pct", '
    'last("technician") AS "technician", last("fault_code") AS "fault_code" '
    f'FROM "workorder" WHERE {SITE_WHERE} AND {TIME_FILTER} GROUP BY "wo_id", "machine"',
    result_format="table",
    description="Latest status and progress of every work order touched in the window.")
CURRENT_FAULTS = _q(
    "overview.current_faults",
    'SELECT "state_code", "reason" FROM (SELECT last("state_code") AS "state_code", '
    f'last("reason") AS "reason" FROM "state" WHERE {SITE_WHERE} AND {TIME_FILTER} '
    'GROUP BY "machine", "line") WHERE "state_code" = 4 GROUP BY "machine", "line"',
    result_format="table",
    description="Machines whose latest state (within the freshness window) is FAULT, with "
                "the fault code (the state's reason).")
DATA_AGE = _q(
    "banner.data_age",
    f'SELECT last("power_kw") AS "power_kw" FROM "telemetry" WHERE {SITE_WHERE} AND '
    f"{TIME_FILTER}",
    description="The newest telemetry point (run over the last minute: no value = stale).")
CLOCK_TICKS = _q(
    "banner.clock",
    f'SELECT count("state_code") AS "n" FROM "state" WHERE {SITE_WHERE} AND {TIME_FILTER} '
    f"{GROUP_BY_TIME} fill(0)",
    description="One row per interval up to now: the banner's shift is read from the "
                "newest bucket's time.")
FLOOR_PLAN_STATES = _q(
    "overview.floor_plan_states",
    f'SELECT last("state_code") AS "state_code" FROM "state" WHERE {AREA_WHERE} AND '
    f'{TIME_FILTER} GROUP BY "machine"',
    alias="$tag_machine",
    description="Latest state code per machine of $area: the home floor plan runs it for "
                "every area (All) over the freshness window only, so a silent machine has no "
                "value (Offline); the terminal overview for the first area.")

# -- 2. hardware workshop equipment status --------------------------------------------------
MACHINE_TILE_STATE = _q(
    "equipment.tile_state",
    f'SELECT last("state_code") AS "state_code" FROM "state" WHERE {MACHINE_WHERE} AND '
    f"{TIME_FILTER}",
    description="Latest state of the machine(s) in $machine (a repeated tile per machine).")
STATE_TIMELINE = _q(
    "equipment.state_timeline",
    f'SELECT last("state_code") AS "state_code" FROM "state" WHERE {MACHINE_WHERE} AND '
    f'{TIME_FILTER} {GROUP_BY_TIME}, "machine" fill(null)',
    alias="$tag_machine",
    description="State code per machine per interval: one series per machine; no value "
                "where no state arrived (never the last state carried past the data).")
#: How many machines the ranked bar gauges show (each bar sized to be read from 4 m).
RANKED = 10
UTILISATION = _q(
    "equipment.utilisation",
    f'SELECT bottom("availability", "machine", {RANKED}) AS "availability" FROM '
    '(SELECT "run" / "planned" * 100 AS "availability" FROM (SELECT sum("run_s") AS "run", '
    f'sum("planned_s") AS "planned" FROM "counts" WHERE {MACHINE_WHERE} AND {TIME_FILTER} '
    'GROUP BY "machine") WHERE "planned" > 0 GROUP BY "machine")',
    result_format="table",
    description=f"The {RANKED} machines with the lowest availability (run / planned time).")
MACHINE_SIGNALS = _q(
    "equipment.signals",
    'SELECT last("load_pct") AS "load_pct", last("temp_c") AS "temp_c", '
    'last("vibration_mm_s") AS "vibration_mm_s", last("power_kw") AS "power_kw" '
    f'FROM "telemetry" WHERE {MACHINE_WHERE} AND {TIME_FILTER} GROUP BY "machine"',
    result_format="table",
    description="Current load, temperature, vibration and power per machine.")


# -- 3. maintenance progress ----------------------------------------------------------------
def work_orders_with_status(status: WorkOrderStatus) -> PanelQuery:
    """Number of work orders whose latest status in the window is `status`."""
    return _q(
        f"maintenance.count_{status.name.lower()}",
        'SELECT count("status_code") AS "work_orders" FROM '
        f'(SELECT last("status_code") AS "status_code" FROM "workorder" WHERE {SITE_WHERE} '
        f'AND {TIME_FILTER} GROUP BY "wo_id") WHERE "status_code" = {int(status)}',
        description=f"Work orders currently {status.name.lower()}.")


WO_OPEN = work_orders_with_status(WorkOrderStatus.OPEN)
WO_IN_PROGRESS = work_orders_with_status(WorkOrderStatus.IN_PROGRESS)
WO_DONE = work_orders_with_status(WorkOrderStatus.DONE)
WORK_ORDER_TABLE = _q(
    "maintenance.work_orders",
    'SELECT last("status_code") AS "status_code", last("progress_pct") AS "progress_pct", '
    'last("technician") AS "technician", last("fault_code") AS "fault_code", '
    'last("opened_ts") AS "opened_ts" '
    f'FROM "workorder" WHERE {SITE_WHERE} AND {TIME_FILTER} GROUP BY "wo_id", "machine", "area"',
    result_format="table",
    description="One row per work order: latest status, progress, technician, fault.")
LONGEST_REPAIRS = _q(
    "maintenance.longest_repairs",
    f'SELECT top("mttr_min", "machine", {RANKED}) AS "mttr_min" FROM (SELECT mean("repair_s") '
    '/ 60 AS "mttr_min" FROM (SELECT sum("gap_s") AS "repair_s" FROM (SELECT '
    'elapsed("progress_pct", 1s) AS "gap_s" FROM "workorder" WHERE '
    f'{SITE_WHERE} AND {TIME_FILTER} GROUP BY "wo_id", "machine") GROUP BY "wo_id", '
    '"machine") GROUP BY "machine")',
    result_format="table",
    description=f"The {RANKED} machines with the longest mean repair, minutes.")
MTTR_BY_MACHINE = _q(
    "maintenance.mttr",
    'SELECT mean("repair_s") / 60 AS "mttr_min" FROM (SELECT sum("gap_s") AS "repair_s" FROM '
    '(SELECT elapsed("progress_pct", 1s) AS "gap_s" FROM "workorder" WHERE '
    f'{SITE_WHERE} AND {TIME_FILTER} GROUP BY "wo_id", "machine") GROUP BY "wo_id", "machine") '
    'GROUP BY "machine"',
    result_format="table",
    description="Mean time from a work order's first to its latest update, minutes.")
FAILURES_BY_MACHINE = _q(
    "maintenance.failures",
    'SELECT count("opened_ts") AS "failures" FROM (SELECT first("opened_ts") AS "opened_ts" '
    f'FROM "workorder" WHERE {SITE_WHERE} AND {TIME_FILTER} GROUP BY "wo_id", "machine") '
    'GROUP BY "machine"',
    result_format="table",
    description="Work orders opened per machine (one per failure).")
RUN_HOURS_BY_MACHINE = _q(
    "maintenance.run_hours",
    f'SELECT sum("run_s") / 3600 AS "run_h" FROM "counts" WHERE {SITE_WHERE} AND '
    f'{TIME_FILTER} GROUP BY "machine"',
    result_format="table",
    description="Run hours per machine; MTBF = run hours / failures (a transformation).")

# -- 4. OEE & production --------------------------------------------------------------------
OEE_TREND = _q(
    "oee.trend",
    _oee(SITE_WHERE, f"time({INTERVAL})"),
    alias=COLUMN_ALIAS,
    description="Plant A/P/Q/OEE per interval.")
OEE_BY_LINE = _q(
    "oee.by_line",
    _oee(SITE_WHERE, '"area", "line"'),
    result_format="table",
    description="A/P/Q/OEE per line.")
OUTPUT_BY_LINE = _q(
    "oee.output_by_line",
    f'SELECT sum("good") AS "good" FROM "counts" WHERE {OUTPUT_WHERE} AND {TIME_FILTER} '
    f'GROUP BY time({INTERVAL}, ${VAR_SHIFT_OFFSET}), "line" fill(0)',
    alias="$tag_line",
    description="Finished units per line (its output machines) per interval; with the "
                "panel's shift-length min interval and the shift offset, one bar per shift.")
SCRAP_RATE = _q(
    "oee.scrap_rate",
    'SELECT "scrap" / "units" * 100 AS "scrap_pct" FROM (SELECT sum("scrap") AS "scrap", '
    'sum("good") + sum("scrap") AS "units" FROM "counts" '
    f'WHERE {SITE_WHERE} AND {TIME_FILTER} {GROUP_BY_TIME}) WHERE "units" > 0',
    alias="scrap",
    description="Scrap as a percentage of all units per interval; no value where no unit "
                "was made (never a false 0 %).")


DOWNTIME_PARETO = _q(
    "oee.downtime_pareto",
    f'SELECT sum("duration_s") / 3600 AS "hours" FROM "downtime" WHERE {SITE_WHERE} AND '
    f'{TIME_FILTER} GROUP BY "reason"',
    result_format="table",
    description="Lost hours of planned time by reason (the Pareto; the panel sorts "
                "descending). Σduration_s = Σplanned_s - Σrun_s of the counts: the "
                "availability loss.")

# -- 5. sales & energy / alarms -------------------------------------------------------------
SALES_BY_CHANNEL = _q(
    "sales.by_channel",
    f'SELECT sum("amount_cny") AS "amount_cny" FROM "sales" WHERE {SITE_WHERE} AND '
    f'{TIME_FILTER} GROUP BY "channel"',
    alias="$tag_channel",
    description="Sales amount per channel.")
SALES_TOTAL = _q(
    "sales.total",
    f'SELECT sum("amount_cny") AS "amount_cny", sum("units") AS "units" FROM "sales" WHERE '
    f"{SITE_WHERE} AND {TIME_FILTER}",
    alias=COLUMN_ALIAS,
    description="Sales amount and units in the window (panels: today, month to date).")
POWER_BY_AREA = _q(
    "energy.power_by_area",
    f'SELECT mean("power_kw") AS "power_kw" FROM "energy" WHERE {SITE_WHERE} AND '
    f'{TIME_FILTER} {GROUP_BY_TIME}, "area" fill(none)',
    alias="$tag_area",
    description="Mean power per area per interval.")
ALARMS_BY_SEVERITY = _q(
    "alarms.by_severity",
    f'SELECT count("code") AS "alarms" FROM "alarm" WHERE {SITE_WHERE} AND {TIME_FILTER} '
    'AND "active" = true GROUP BY "severity"',
    alias="$tag_severity",
    description="Alarms raised per severity in the window.")
LATEST_ALARMS = _q(
    "alarms.latest",
    'SELECT "code", "message", "active", "wo_id", "severity", "machine", "area" FROM "alarm" '
    f"WHERE {SITE_WHERE} AND {TIME_FILTER} ORDER BY time DESC LIMIT 20",
    result_format="table",
    description="The 20 latest alarm events.")

# -- 6. pipeline health ---------------------------------------------------------------------
PIPELINE_RATES = _q(
    "pipeline.rates",
    'SELECT mean("msgs_per_s") AS "msgs_per_s", mean("points_per_s") AS "points_per_s" '
    f'FROM "{COLLECTOR_STATS}" WHERE {COLLECTOR_WHERE} AND {TIME_FILTER} '
    f'{GROUP_BY_TIME}, "collector" fill(none)',
    alias="$tag_collector $col",
    description="Messages in and points written per second.")
PIPELINE_DEADLETTERS = _q(
    "pipeline.deadletters",
    f'SELECT last("count") AS "count" FROM "{COLLECTOR_DEADLETTERS}" WHERE {COLLECTOR_WHERE} '
    f'AND {TIME_FILTER} GROUP BY "reason"',
    alias="$tag_reason",
    description="Dead letters per reason (totals since collector start).")
PIPELINE_SPOOL = _q(
    "pipeline.spool",
    'SELECT max("spool_depth") AS "spool_depth" '
    f'FROM "{COLLECTOR_STATS}" WHERE {COLLECTOR_WHERE} AND {TIME_FILTER} '
    f'{GROUP_BY_TIME}, "collector" fill(none)',
    alias="$tag_collector",
    description="Points waiting in the disk spool.")
PIPELINE_LATENCY = _q(
    "pipeline.write_latency",
    'SELECT max("write_latency_p50_ms") AS "p50", max("write_latency_p99_ms") AS "p99" '
    f'FROM "{COLLECTOR_STATS}" WHERE {COLLECTOR_WHERE} AND {TIME_FILTER} '
    f'{GROUP_BY_TIME}, "collector" fill(none)',
    alias="$tag_collector $col",
    description="InfluxDB write latency percentiles.")
PIPELINE_LAG = _q(
    "pipeline.lag",
    'SELECT max("lag_p50_ms") AS "p50", max("lag_p99_ms") AS "p99" '
    f'FROM "{COLLECTOR_STATS}" WHERE {COLLECTOR_WHERE} AND {TIME_FILTER} '
    f'{GROUP_BY_TIME}, "collector" fill(none)',
    alias="$tag_collector $col",
    description="End-to-end lag from message timestamp to stored point.")
PIPELINE_NOW = _q(
    "pipeline.now",
    'SELECT last("msgs_in") AS "msgs_in", last("points_written") AS "points_written", '
    'last("dead_letters") AS "dead_letters", last("retries") AS "retries", '
    'last("reconnects") AS "reconnects", last("spool_depth") AS "spool_depth", '
    'last("spool_oldest_age_s") AS "spool_oldest_age_s", last("paused") AS "paused", '
    'last("write_blocked") AS "write_blocked", last("write_failing") AS "write_failing", '
    'last("write_errors") AS "write_errors" '
    f'FROM "{COLLECTOR_STATS}" WHERE {COLLECTOR_WHERE} AND {TIME_FILTER} GROUP BY "collector"',
    result_format="table",
    description="Latest totals and flags per collector.")

#: The plant-overview queries the terminal overview (``make demo`` without Grafana) runs.
OVERVIEW: dict[str, PanelQuery] = {q.key.split(".", 1)[1]: q for q in (
    OUTPUT_TODAY, OUTPUT_VS_TARGET_PCT, OEE_PLANT, MACHINES_RUNNING, ACTIVE_ALARMS,
    ENERGY_TODAY, SALES_BY_REGION, HOURLY_OUTPUT, WORK_ORDERS, FLOOR_PLAN_STATES)}


# -- template variable queries (no time filter: SHOW TAG VALUES) ---------------------------
VARIABLE_QUERIES: dict[str, str] = {
    VAR_ENTERPRISE: 'SHOW TAG VALUES FROM "state" WITH KEY = "enterprise"',
    VAR_SITE: f'SHOW TAG VALUES FROM "state" WITH KEY = "site" WHERE '
              f'{tag_match("enterprise", VAR_ENTERPRISE)}',
    VAR_AREA: f'SHOW TAG VALUES FROM "state" WITH KEY = "area" WHERE {SITE_WHERE}',
    VAR_LINE: f'SHOW TAG VALUES FROM "state" WITH KEY = "line" WHERE {AREA_WHERE}',
    VAR_MACHINE: f'SHOW TAG VALUES FROM "state" WITH KEY = "machine" WHERE {AREA_WHERE}',
    VAR_COLLECTOR: f'SHOW TAG VALUES FROM "{COLLECTOR_STATS}" WITH KEY = "collector"',
}


# -- Grafana's macro and variable expansion -------------------------------------------------
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


_VAR_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def substitute(query: str, *, from_ms: int, to_ms: int,
               variables: Mapping[str, str | Sequence[str] | Variable] | None = None,
               interval_ms: int | None = None, max_data_points: int = 1_000,
               min_interval: str | None = None) -> str:
    """Expand Grafana's InfluxQL macros and template variables in `query`.

    ``$timeFilter`` / ``$__timeFilter`` -> ``time >= {from}ms and time <= {to}ms``;
    ``$__interval`` / ``$interval`` -> e.g. ``10s``; ``$__interval_ms`` -> e.g. ``10000``;
    ``$var``, ``${var}`` and ``[[var]]`` -> the variable's value as :class:`Variable`
    formats it: a plain string is a single-value variable, a sequence a multi-value one;
    variables not given take :data:`DEFAULT_VARIABLES` and the default plant's output
    machines and shift offset. Unknown variables are left
    alone, as Grafana does.
    """
    if interval_ms is None:
        interval_ms = interval_ms_for(from_ms, to_ms, max_data_points, min_interval)
    values: dict[str, str] = {}
    given = {**DEFAULT_VARIABLES, **_default_plant_variables(), **(variables or {})}
    for name, value in given.items():
        if isinstance(value, Variable):
            values[name] = value.format()
        elif isinstance(value, str):
            values[name] = single(value).format()
        else:
            values[name] = multi(*value).format()
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
        name = m.group(1) or m.group(2) or m.group(3)
        if name in macros:
            return macros[name]
        if name in values:
            return values[name]
        return m.group(0)

    return _VAR_RE.sub(repl, query)


#: Modules beside this one whose PanelQuery constants count as the dashboards' queries.
MORE_QUERY_MODULES = ("dashboards.detail_queries",)


def all_queries() -> dict[str, PanelQuery]:
    """Every query defined here and in :data:`MORE_QUERY_MODULES`, by key."""
    found: dict[str, PanelQuery] = {}
    spaces = [globals()] + [vars(importlib.import_module(m)) for m in MORE_QUERY_MODULES]
    for value in (v for space in spaces for v in space.values()):
        for q in value if isinstance(value, tuple) else (value,):
            if isinstance(q, PanelQuery):
                found[q.key] = q
    return found


__all__ = [
    "ALL",
    "DEFAULT_VARIABLES",
    "GROUP_BY_TIME",
    "INTERVAL",
    "OVERVIEW",
    "TIME_FILTER",
    "PanelQuery",
    "Variable",
    "all_queries",
    "format_interval",
    "interval_ms_for",
    "multi",
    "regex_escape",
    "single",
    "substitute",
    "tag_match",
]
