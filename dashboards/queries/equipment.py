"""2. Equipment status of one area: tiles, state timeline, availability, signals."""

from __future__ import annotations

from dashboards.queries.core import (
    GROUP_BY_TIME,
    MACHINE_WHERE,
    TIME_FILTER,
    _q,
)

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
