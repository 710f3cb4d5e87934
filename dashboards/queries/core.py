"""What every query of the wall shares: :class:`PanelQuery`, the template variables' names,
the tag filters in Grafana's regex form, the OEE ratio of sums, and the variable queries.

The queries use Grafana's InfluxQL macros (``$timeFilter``, ``$__interval``) and the
dashboards' template variables (``$enterprise``, ``$site``, ``$area``, ``$machine``, ...),
always in the regex form ``"tag" =~ /^($var)$/`` so single values, multi-values and "All"
work alike. Measurements, tags and fields are the wire contract's (docs/contract.md). OEE
is the contract's ratio of sums over the window: availability = Σrun_s/Σplanned_s,
performance = Σideal_s/Σrun_s, quality = Σgood/(Σgood+Σscrap), OEE = Σideal_s/Σplanned_s
x quality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from telemetry.contract import COLLECTOR_STATS

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
#: The plant's time zone (a hidden constant): InfluxQL buckets aligned to its local clock,
#: daylight saving included. Used raw (``${plant_tz:raw}``): Grafana would regex-escape the
#: ``/`` of ``Europe/Paris``, which InfluxQL refuses inside a string.
VAR_PLANT_TZ = "plant_tz"
TZ_CLAUSE = f"tz('${{{VAR_PLANT_TZ}:raw}}')"

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
