"""3. Maintenance progress (设备检修进度): open / in-progress / done, the predictive-
maintenance scorecard, the work-order table with status colours and progress gauges, the
longest repairs, MTTR and MTBF by machine, and the failures expected in the next 8 h."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as cm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.i18n import work_order_name
from dashboards.screens import pdm
from dashboards.screens.base import BODY_TOP, frame, plant_variables
from dashboards.screens.tables import work_order_table
from dashboards.wall import Wall
from telemetry.contract import WorkOrderStatus

SLUG = "maintenance-progress"


def build(wall: Wall) -> dash.Dashboard:
    t = wall.t
    lang = wall.lang
    y = BODY_TOP
    d = frame(SLUG, wall, t("Maintenance progress", "设备检修进度"), time_from="now-24h",
              description=t("Maintenance work orders from open to done, and repair figures.",
                            "设备检修工单从开单到完工的进度与维修指标。"),
              variables=plant_variables(wall))
    for i, (status, query) in enumerate(((WorkOrderStatus.OPEN, q.WO_OPEN),
                                         (WorkOrderStatus.IN_PROGRESS, q.WO_IN_PROGRESS),
                                         (WorkOrderStatus.DONE, q.WO_DONE))):
        colour = p.WO_COLOURS[status]
        d.with_panel(p.stat_panel(1 + i, work_order_name(status, lang), p.at(3 * i, y, 3, 4),
                                  p.targets(query), "locale", decimals=0,
                                  color_mode=cm.BigValueColorMode.BACKGROUND,
                                  thresholds=p.steps((None, colour)), no_value="0"))
    d.with_panel(work_order_table(4, t("Work orders: open and in progress first",
                                       "检修工单（待处理、进行中在前）"), p.at(0, y + 4, 16, 10),
                                  q.WORK_ORDER_TABLE, wall))
    d.with_panel(pdm.scorecard(7, wall, p.at(9, y, 15, 4)))
    d.with_panel(pdm.predicted_failures(8, wall, p.at(12, y + 14, 12, 10)))
    mtbf = p.at(0, y + 14, 12, 10)
    d.with_panel(
        p.table_panel(5, t("MTBF and MTTR by machine", "各设备 MTBF / MTTR"),
                      mtbf,
                      p.targets(q.RUN_HOURS_BY_MACHINE, q.FAILURES_BY_MACHINE,
                                q.MTTR_BY_MACHINE))
        .no_value(t("None", "无"))
        .transformations([
            # Drop each table's Time first so the merge joins the rows on the machine tag.
            p.transformation("organize", {"excludeByName": {"Time": True}}),
            p.transformation("merge", {}),
            # Only machines that failed: run hours / failures, never a division by 0.
            p.transformation("filterByValue", {
                "type": "include", "match": "any",
                "filters": [{"fieldName": "failures",
                             "config": {"id": "greater", "options": {"value": 0}}}]}),
            p.transformation("calculateField", {
                "mode": "binary", "alias": "mtbf_h", "replaceFields": False,
                "binary": {"left": "run_h", "operator": "/", "right": "failures"}}),
            p.transformation("sortBy", {"sort": [{"field": "mtbf_h"}]}),
            p.limit_rows(mtbf),
        ])
        .overrides([
            p.field_props("machine", displayName=t("Machine", "设备")),
            p.field_props("run_h", displayName=t("Run time", "运行时间"), unit="h", decimals=1),
            p.field_props("failures", displayName=t("Failures", "故障次数"), unit="short",
                          decimals=0),
            p.field_props("mttr_min", displayName="MTTR", unit="m", decimals=0),
            p.field_props("mtbf_h", displayName="MTBF", unit="h", decimals=1,
                          custom__cellOptions={"type": "color-text"},
                          thresholds={"mode": "absolute", "steps": [
                              {"value": None, "color": p.RED}, {"value": 8, "color": p.AMBER},
                              {"value": 24, "color": p.GREEN}]}),
        ]))
    d.with_panel(p.bargauge_panel(6, t(f"Longest mean repair ({q.RANKED} machines)",
                                       f"平均修复时间最长的 {q.RANKED} 台设备"),
                                  p.at(16, y + 4, 8, 10), p.targets(q.LONGEST_REPAIRS),
                                  "m", thresholds=p.steps((None, p.GREEN), (30.0, p.AMBER),
                                                          (60.0, p.RED)))
                 .decimals(0).reduce_options(p.reduce_last().values(True))
                 .transformations([p.transformation("sortBy", {
                     "sort": [{"field": "mttr_min", "desc": True}]})]))
    return d
