"""6. Pipeline health: the collector's own metrics."""

from __future__ import annotations

from dashboards.queries.core import (
    COLLECTOR_WHERE,
    GROUP_BY_TIME,
    TIME_FILTER,
    _q,
)
from telemetry.contract import COLLECTOR_DEADLETTERS, COLLECTOR_STATS

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
