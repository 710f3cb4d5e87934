"""4. OEE & production: availability / performance / quality / OEE with thresholds, the
OEE trend, output by shift and line, scrap rate and a downtime Pareto."""

from __future__ import annotations

from grafana_foundation_sdk.builders import barchart
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.influxql import datasource_ref
from dashboards.screens.base import BODY_TOP, frame, plant_variables
from dashboards.wall import Wall

SLUG = "oee-production"
#: Bars of the lost-time Pareto (the largest reasons; each bar readable).
PARETO_BARS = 8


def build(wall: Wall) -> dash.Dashboard:
    t = wall.t
    y = BODY_TOP
    d = frame(SLUG, wall, t("OEE & production", "OEE 与生产"), time_from="now-24h",
              description=t("Overall equipment effectiveness from the counts: availability × "
                            "performance × quality.",
                            "设备综合效率 = 时间开动率 × 性能开动率 × 合格品率。"),
              variables=plant_variables(wall))
    names = (("availability", t("Availability", "时间开动率")),
             ("performance", t("Performance", "性能开动率")),
             ("quality", t("Quality", "合格品率")), ("oee", t("OEE", "OEE 综合效率")))
    for i, (fieldname, title) in enumerate(names):
        limits = p.OEE_STEPS if fieldname == "oee" else (
            (None, p.RED), (80.0, p.AMBER), (95.0 if fieldname == "quality" else 90.0, p.GREEN))
        d.with_panel(p.gauge_panel(1 + i, title, p.at(6 * i, y, 6, 5), p.targets(q.OEE_PLANT),
                                   thresholds=p.steps(*limits))
                     .reduce_options(p.reduce_last().fields(f"/^{fieldname}$/")))
    d.with_panel(p.timeseries_panel(5, t("OEE trend", "OEE 趋势"), p.at(0, y + 5, 16, 8),
                                    p.targets(q.OEE_TREND), "percent", min_val=0,
                                    interval="5m", thresholds=p.steps(*p.OEE_STEPS))
                 .overrides([p.rename(f, n) for f, n in names]))
    d.with_panel(p.timeseries_panel(6, t("Scrap rate", "废品率"), p.at(16, y + 5, 8, 8),
                                    p.targets(q.SCRAP_RATE, alias=t("scrap", "废品率")),
                                    "percent", min_val=0, interval="15m",
                                    thresholds=p.steps((None, p.GREEN), (2.0, p.AMBER),
                                                       (5.0, p.RED))))
    d.with_panel(p.timeseries_panel(7, t("Finished units by shift and line", "各线各班产量（台）"),
                                    p.at(0, y + 13, 8, 11), p.targets(q.OUTPUT_BY_LINE),
                                    "locale", bars=True, stacked=True,
                                    interval=f"{wall.shift_length_min}m", min_val=0)
                 .overrides([p.rename(m.line, wall.line_name(wall.line_of(m)))
                             for m in wall.output_machines]))
    oee_by_line = p.at(8, y + 13, 10, 11)
    d.with_panel(
        p.table_panel(8, t("OEE by line", "各线 OEE"), oee_by_line, p.targets(q.OEE_BY_LINE))
        .no_value("-")
        .transformations([p.transformation("merge", {}),
                          p.transformation("organize", {"excludeByName": {"Time": True,
                                                                           "area": True},
                                                        "indexByName": {"line": 0, "oee": 1}}),
                          p.transformation("sortBy", {"sort": [{"field": "oee"}]}),
                          p.limit_rows(oee_by_line)])
        .overrides([
            p.field_props("line", displayName=t("Line", "产线"),
                          mappings=wall.line_mappings()),
            *[p.field_props(f, displayName=n, unit="percent", decimals=0,
                            custom__cellOptions={"type": "color-background", "mode": "basic"},
                            thresholds={"mode": "absolute", "steps": [
                                {"value": None, "color": p.RED},
                                {"value": 60, "color": p.AMBER},
                                {"value": 85, "color": p.GREEN}]})
              for f, n in names],
        ]))
    d.with_panel(
        barchart.Panel().id(9).title(t("Lost time by reason (h)", "停机损失原因（小时）"))
        .description(t("Planned time lost by reason in the window, hours, largest first: "
                       "a fault while waiting for the technician, then repair.",
                       "时间范围内计划生产时间的损失按原因排序（小时）：故障为等待维修的时间，"
                       "其后为维修时间。"))
        .grid_pos(p.at(18, y + 13, 6, 11)).datasource(datasource_ref())
        .targets(list(p.targets(q.DOWNTIME_PARETO)))
        .unit("h").decimals(1).no_value(p.NO_DATA)
        .orientation(cm.VizOrientation.HORIZONTAL).show_value(cm.VisibilityMode.AUTO)
        .x_field("reason").thresholds(p.steps((None, p.RED)))
        .transformations([
            p.transformation("organize", {"excludeByName": {"Time": True}}),
            p.transformation("sortBy", {"sort": [{"field": "hours", "desc": True}]}),
            p.transformation("limit", {"limitField": PARETO_BARS}),
        ])
        .overrides([
            p.field_props("hours", displayName=t("Hours", "小时")),
            # No displayName on `reason`: the x field is matched by its name.
            p.field_props("reason", mappings=wall.reason_mappings()),
        ])
        .color_scheme(dash.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS)))
    return d
