"""5. Sales, energy & alarms."""

from __future__ import annotations

from dashboards.queries.core import (
    COLUMN_ALIAS,
    GROUP_BY_TIME,
    SITE_WHERE,
    TIME_FILTER,
    _q,
)

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
