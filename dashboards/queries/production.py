"""4. OEE & production: trend, by line, output by shift, scrap, downtime Pareto."""

from __future__ import annotations

from dashboards.queries.core import (
    COLUMN_ALIAS,
    GROUP_BY_TIME,
    INTERVAL,
    OUTPUT_WHERE,
    SITE_WHERE,
    TIME_FILTER,
    TZ_CLAUSE,
    VAR_SHIFT_OFFSET,
    _oee,
    _q,
)

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
    f'GROUP BY time({INTERVAL}, ${VAR_SHIFT_OFFSET}), "line" fill(0) {TZ_CLAUSE}',
    alias="$tag_line",
    description="Finished units per line (its output machines) per interval; with the "
                "panel's shift-length min interval, the shift offset and the plant's time "
                "zone (buckets on the local clock, summer time included), one bar per shift.")
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
