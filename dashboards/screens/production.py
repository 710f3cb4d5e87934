"""4. OEE & production: availability / performance / quality / OEE with thresholds, the
OEE trend, output by shift and line, scrap rate and a downtime Pareto."""

from __future__ import annotations

from grafana_foundation_sdk.builders import barchart
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.i18n import DOWNTIME_REASON_NAMES, Lang
from dashboards.influxql import datasource_ref
from dashboards.screens.base import frame, plant_variables

SLUG = "oee-production"
#: Shift length for "output by shift" (the default plant's three 8-hour shifts).
SHIFT = "8h"


def build(lang: Lang) -> dash.Dashboard:
    t = lang.t
    d = frame(SLUG, lang, t("OEE & production", "OEE 与生产"), time_from="now-24h",
              description=t("Overall equipment effectiveness from the counts: availability x "
                            "performance x quality.",
                            "设备综合效率 = 时间开动率 x 性能开动率 x 合格品率。"),
              variables=plant_variables(lang))
    names = (("availability", t("Availability", "时间开动率")),
             ("performance", t("Performance", "性能开动率")),
             ("quality", t("Quality", "合格品率")), ("oee", t("OEE", "OEE 综合效率")))
    for i, (fieldname, title) in enumerate(names):
        limits = p.OEE_STEPS if fieldname == "oee" else (
            (None, p.RED), (80.0, p.YELLOW), (95.0 if fieldname == "quality" else 90.0, p.GREEN))
        d.with_panel(p.gauge_panel(1 + i, title, p.at(6 * i, 0, 6, 6), p.targets(q.OEE_PLANT),
                                   thresholds=p.steps(*limits))
                     .reduce_options(p.reduce_last().fields(f"/^{fieldname}$/")))
    d.with_panel(p.timeseries_panel(5, t("OEE trend", "OEE 趋势"), p.at(0, 6, 16, 8),
                                    p.targets(q.OEE_TREND), "percent", min_val=0,
                                    interval="5m", thresholds=p.steps(*p.OEE_STEPS))
                 .overrides([p.rename(f, n) for f, n in names]))
    d.with_panel(p.timeseries_panel(6, t("Scrap rate", "废品率"), p.at(16, 6, 8, 8),
                                    p.targets(q.SCRAP_RATE, alias=t("scrap", "废品率")),
                                    "percent", min_val=0, interval="15m",
                                    thresholds=p.steps((None, p.GREEN), (2.0, p.ORANGE),
                                                       (5.0, p.RED))))
    d.with_panel(p.timeseries_panel(7, t("Output by shift and line", "各线各班产量"),
                                    p.at(0, 14, 10, 13), p.targets(q.OUTPUT_BY_LINE), "short",
                                    bars=True, stacked=True, interval=SHIFT, min_val=0))
    d.with_panel(
        p.table_panel(8, t("OEE by line", "各线 OEE"), p.at(10, 14, 7, 13),
                      p.targets(q.OEE_BY_LINE))
        .transformations([p.transformation("merge", {}),
                          p.transformation("organize", {"excludeByName": {"Time": True}}),
                          p.transformation("sortBy", {"sort": [{"field": "oee"}]})])
        .overrides([
            p.field_props("area", displayName=t("Area", "车间")),
            p.field_props("line", displayName=t("Line", "产线")),
            *[p.field_props(f, displayName=n, unit="percent", decimals=0,
                            custom__cellOptions={"type": "color-background", "mode": "basic"},
                            thresholds={"mode": "absolute", "steps": [
                                {"value": None, "color": p.RED},
                                {"value": 60, "color": p.YELLOW},
                                {"value": 85, "color": p.GREEN}]})
              for f, n in names],
        ]))
    d.with_panel(
        barchart.Panel().id(9).title(t("Downtime reasons (Pareto)", "停机原因排列图"))
        .description(t("Planned downtime by reason in the window, hours, largest first; "
                       "fault codes while waiting for the technician, then repair.",
                       "时间范围内计划停机时长（小时）按原因排序；故障代码为等待维修时间，"
                       "其后为维修时间。"))
        .grid_pos(p.at(17, 14, 7, 13)).datasource(datasource_ref())
        .targets(list(p.targets(q.DOWNTIME_PARETO)))
        .unit("h").decimals(1)
        .orientation(cm.VizOrientation.HORIZONTAL).show_value(cm.VisibilityMode.AUTO)
        .x_field("reason").thresholds(p.steps((None, p.RED)))
        .transformations([
            p.transformation("organize", {"excludeByName": {"Time": True}}),
            p.transformation("sortBy", {"sort": [{"field": "hours", "desc": True}]}),
        ])
        .overrides([
            p.field_props("hours", displayName=t("Hours", "小时")),
            # No displayName on `reason`: the x field is matched by its name.
            p.field_props("reason", mappings=[{"type": "value", "options": {
                reason: {"text": lang.t(*names), "index": i}
                for i, (reason, names) in enumerate(DOWNTIME_REASON_NAMES.items())}}]),
        ])
        .color_scheme(dash.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS)))
    return d
