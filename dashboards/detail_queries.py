"""Queries of the wall's machine-detail screen and its China map, beside queries.py.

Same rules as ``queries.py`` (Grafana's macros, variables in the regex form, one line
each); ``queries.all_queries()`` lists these too, so the static checks and the query
contract test against a real influxd cover them.
"""

from __future__ import annotations

from dashboards import queries as q

MACHINE_WHERE = f'{q.SITE_WHERE} AND {q.tag_match("machine", q.VAR_MACHINE)}'


def _q(key: str, influxql: str, result_format: q.ResultFormat = "time_series",
       alias: str = "", description: str = "") -> q.PanelQuery:
    return q.PanelQuery(f"machine.{key}", influxql, result_format, alias, description)


STATE_NOW = _q("state_now", f'SELECT last("state_code") AS "state_code" FROM "state" WHERE '
                            f"{MACHINE_WHERE} AND {q.TIME_FILTER}",
               description="Latest state in the freshness window (older: off-line).")
STATE_TIMELINE = _q("state_timeline",
                    f'SELECT last("state_code") AS "state_code" FROM "state" WHERE '
                    f"{MACHINE_WHERE} AND {q.TIME_FILTER} "
                    f'{q.GROUP_BY_TIME}, "machine" fill(previous)',
                    alias="$tag_machine", description="The machine's state per interval.")
UTILISATION = _q("utilisation", 'SELECT sum("run_s") / sum("planned_s") * 100 AS '
                                f'"utilisation" FROM "counts" WHERE {MACHINE_WHERE} AND '
                                f"{q.TIME_FILTER}",
                 description="Run time over planned time in the window, percent.")
PARTS = _q("parts", 'SELECT sum("good") AS "good", sum("scrap") AS "scrap" FROM "counts" '
                    f"WHERE {MACHINE_WHERE} AND {q.TIME_FILTER}", alias=q.COLUMN_ALIAS,
           description="Good and scrap parts in the window.")
SIGNALS = _q("signals", f'SELECT mean(*) FROM "telemetry" WHERE {MACHINE_WHERE} AND '
                        f"{q.TIME_FILTER} {q.GROUP_BY_TIME}", alias=q.COLUMN_ALIAS,
             description="Every telemetry field of the machine, mean per interval.")
SIGNALS_NOW = _q("signals_now", f'SELECT last(*) FROM "telemetry" WHERE {MACHINE_WHERE} AND '
                                f"{q.TIME_FILTER}", alias=q.COLUMN_ALIAS,
                 description="Latest value of every telemetry field of the machine.")
ALARMS = _q("alarms", 'SELECT "severity", "code", "message", "message_zh", "active" FROM '
                      f'"alarm" WHERE {MACHINE_WHERE} AND {q.TIME_FILTER} '
                      "ORDER BY time DESC LIMIT 50", result_format="table",
            description="The machine's alarm events, newest first.")
WORK_ORDERS = _q("work_orders", 'SELECT last("status_code") AS "status_code", '
                                'last("progress_pct") AS "progress_pct", '
                                'last("technician") AS "technician", '
                                'last("technician_zh") AS "technician_zh", '
                                'last("fault_code") AS "fault_code" FROM "workorder" WHERE '
                                f'{MACHINE_WHERE} AND {q.TIME_FILTER} GROUP BY "wo_id"',
                 result_format="table",
                 description="Latest status and progress of the machine's work orders.")


# -- sales screen: the China map ---------------------------------------------------------
SALES_BY_REGION_TABLE = q.PanelQuery(
    "sales.region_map",
    f'SELECT sum("amount_cny") AS "amount" FROM "sales" WHERE {q.SITE_WHERE} AND '
    f'{q.TIME_FILTER} GROUP BY "region"',
    result_format="table",
    description="Sales amount per region (the China map's markers).")
