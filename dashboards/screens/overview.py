"""1. Plant overview (the home screen): output, OEE, machines, alarms, energy, floor plan,
sales by region, hourly output and maintenance work orders, at a glance."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import canvas, common
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import canvas as cv
from grafana_foundation_sdk.models import common as cm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.floorplan import PlacedMachine, canvas_elements
from dashboards.i18n import Lang
from dashboards.influxql import datasource_ref
from dashboards.screens.base import frame, plant_variables
from dashboards.screens.machine import machine_link
from dashboards.screens.tables import work_order_table

SLUG = "plant-overview"
#: Pixel size of the floor-plan panel body (14 columns x 13 rows on a 1920 px screen).
FLOOR_W_PX = 1100
FLOOR_H_PX = 450


def build(lang: Lang, floor: list[PlacedMachine]) -> dash.Dashboard:
    t = lang.t
    d = frame(SLUG, lang, t("Plant overview", "工厂总览"), time_from="now-24h",
              description=t("From production to sales: every figure and problem at a glance.",
                            "从生产端到销售端，所有数据和问题一目了然。"),
              variables=plant_variables(lang, area=True, output=True))
    today = "now/d"
    d.with_panel(p.stat_panel(1, t("Output today", "今日产量"), p.at(0, 0, 4, 4),
                              p.targets(q.OUTPUT_TODAY), "short", decimals=0, time_from=today))
    d.with_panel(p.gauge_panel(2, t("Output vs daily target", "产量完成率"), p.at(4, 0, 4, 4),
                               p.targets(q.OUTPUT_VS_TARGET_PCT), time_from=today,
                               max_val=120,
                               thresholds=p.steps((None, p.RED), (80.0, p.YELLOW),
                                                  (100.0, p.GREEN))))
    d.with_panel(p.gauge_panel(3, t("OEE", "设备综合效率 OEE"), p.at(8, 0, 4, 4),
                               p.targets(q.OEE_PLANT)).reduce_options(
        p.reduce_last().fields("/^oee$/")))
    d.with_panel(p.stat_panel(4, t("Machines running / total", "运行设备 / 总数"),
                              p.at(12, 0, 4, 4), p.targets(q.MACHINES_RUNNING), "short",
                              decimals=0, thresholds=p.steps((None, p.GREEN)))
                 .overrides([p.rename("running", t("Running", "运行")),
                             p.rename("total", t("Total", "总数"))]))
    d.with_panel(p.stat_panel(5, t("Active alarms", "当前报警"), p.at(16, 0, 4, 4),
                              p.targets(q.ACTIVE_ALARMS), "short", decimals=0,
                              color_mode=cm.BigValueColorMode.BACKGROUND,
                              thresholds=p.steps((None, p.GREEN), (1.0, p.ORANGE),
                                                 (5.0, p.RED))).no_value("0"))
    d.with_panel(p.stat_panel(6, t("Energy today", "今日能耗"), p.at(20, 0, 4, 4),
                              p.targets(q.ENERGY_TODAY), "kwatth", decimals=0,
                              time_from=today))
    d.with_panel(
        canvas.Panel().id(7).title(t("Hardware workshop floor plan", "五金车间设备布局"))
        .grid_pos(p.at(0, 4, 14, 13)).datasource(datasource_ref())
        .targets(list(p.targets(q.FLOOR_PLAN_STATES))).unit("none")
        .mappings(p.state_mappings(lang)).inline_editing(False).show_advanced_types(True)
        .data_links([machine_link(lang)])
        .root(canvas.CanvasOptionsRoot().name("floor").elements(
            [_element(e) for e in canvas_elements(floor, FLOOR_W_PX, FLOOR_H_PX)])))
    d.with_panel(p.pie_panel(8, t("Sales share by region", "各区销售占比"), p.at(14, 4, 10, 13),
                             p.targets(q.SALES_BY_REGION), "currencyCNY",
                             p.region_overrides(lang)))
    d.with_panel(p.timeseries_panel(9, t("Hourly output", "每小时产量"), p.at(0, 17, 12, 10),
                                    p.targets(q.HOURLY_OUTPUT, alias=t("output", "产量")),
                                    "short", bars=True, interval="1h", min_val=0))
    d.with_panel(work_order_table(10, t("Maintenance work orders", "设备检修工单"),
                                  p.at(12, 17, 12, 10), q.WORK_ORDERS, lang))
    return d


def _element(e: dict[str, Any]) -> canvas.CanvasElementOptions:
    """One element from :func:`canvas_elements`' JSON, through the SDK's canvas builders."""
    bg = e["background"]["color"]
    colour = common.ColorDimensionConfig().fixed(bg["fixed"])
    if "field" in bg:
        colour.field(bg["field"])
    pl = e["placement"]
    return (canvas.CanvasElementOptions().name(e["name"]).type(e["type"]).config(e["config"])
            .constraint(canvas.Constraint().horizontal(cv.HorizontalConstraint.LEFT)
                        .vertical(cv.VerticalConstraint.TOP))
            .placement(canvas.Placement().left(pl["left"]).top(pl["top"])
                       .width(pl["width"]).height(pl["height"]))
            .background(canvas.BackgroundConfig().color(colour))
            .border(canvas.LineConfig()
                    .color(common.ColorDimensionConfig().fixed(e["border"]["color"]["fixed"]))
                    .width(e["border"]["width"])))
