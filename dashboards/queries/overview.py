"""1. Plant overview (the home screen) and the banner every screen carries."""

from __future__ import annotations

from dashboards.queries.core import (
    AREA_WHERE,
    COLUMN_ALIAS,
    GROUP_BY_TIME,
    OUTPUT_WHERE,
    SITE_WHERE,
    TIME_FILTER,
    VAR_DAILY_TARGET,
    _oee,
    _q,
)

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
#: How far back an alarm raised and not yet cleared still counts as active (panel window
#: of "Active alarms" and "Current faults"): a repair waiting days for parts stays on the
#: wall, which the dashboard's 24 h would drop.
ALARM_WINDOW = "7d"
#: The latest alarm event of every machine (and severity), with its code: an alarm is
#: active now when that event raised it. "Active alarms" counts these rows and "Current
#: faults" lists them, so the two always agree.
_LATEST_ALARM = ('SELECT last("active") AS "active", "code" FROM "alarm" WHERE '
                 f'{SITE_WHERE} AND {TIME_FILTER} GROUP BY "machine", "line", "severity"')
ACTIVE_ALARMS = _q(
    "overview.active_alarms",
    f'SELECT count("active") AS "active_alarms" FROM ({_LATEST_ALARM}) WHERE "active" = true',
    description="Alarms active now: machine/severity pairs whose latest alarm event (panel "
                "window: 7 days) raised the alarm; a fault in repair stays active until "
                "the repair clears it.")
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
    f'SELECT "code", "active" FROM ({_LATEST_ALARM}) WHERE "active" = true '
    'GROUP BY "machine", "line", "severity"',
    result_format="table",
    description="Machines whose alarm is active now (waiting for a technician or in repair), "
                "with the fault code and the time it was raised: the rows "
                "'Active alarms' counts.")
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
