"""3. Maintenance progress: work orders, MTTR, MTBF."""

from __future__ import annotations

from dashboards.queries.core import SITE_WHERE, TIME_FILTER, PanelQuery, _q
from dashboards.queries.equipment import RANKED
from telemetry.contract import WorkOrderStatus


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
