"""1. Plant overview (the home screen): the KPIs in big exact numerals, the whole plant on
a floor plan zoned by area, the current faults in red, hourly output and the work orders."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import canvas, common, table
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import canvas as cv
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.floorplan import canvas_elements, zones
from dashboards.i18n import state_name
from dashboards.influxql import datasource_ref
from dashboards.screens import pdm
from dashboards.screens.base import BODY_TOP, frame, plant_variables
from dashboards.screens.machine import machine_link
from dashboards.screens.tables import work_order_table
from dashboards.wall import FRESH_WINDOW, Wall
from telemetry.contract import STATE_COLOURS, MachineState

SLUG = "plant-overview"
FLOOR = p.at(0, BODY_TOP + 4, 16, 13)


def build(wall: Wall) -> dash.Dashboard:
    t = wall.t
    d = frame(SLUG, wall, t("Plant overview", "工厂总览"), time_from="now-24h",
              description=t("From production to sales: every figure and problem at a glance.",
                            "从生产端到销售端，所有数据和问题一目了然。"),
              variables=plant_variables(wall, output=True, all_areas=True))
    today = "now/d"
    y = BODY_TOP
    d.with_panel(p.stat_panel(1, t("Output today (units)", "今日产量（台）"), p.at(0, y, 4, 4),
                              p.targets(q.OUTPUT_TODAY), "locale", decimals=0,
                              time_from=today, no_value="0"))
    d.with_panel(p.gauge_panel(2, t("Output vs daily target", "产量完成率"), p.at(4, y, 3, 4),
                               p.targets(q.OUTPUT_VS_TARGET_PCT), time_from=today,
                               max_val=120,
                               thresholds=p.steps((None, p.RED), (80.0, p.AMBER),
                                                  (100.0, p.GREEN))))
    d.with_panel(p.gauge_panel(3, t("OEE", "设备综合效率 OEE"), p.at(7, y, 3, 4),
                               p.targets(q.OEE_PLANT)).reduce_options(
        p.reduce_last().fields("/^oee$/")))
    d.with_panel(p.stat_panel(4, t(f"Machines running (of {len(wall.machines)})",
                                   f"运行设备（共 {len(wall.machines)} 台）"),
                              p.at(10, y, 4, 4), p.targets(q.MACHINES_RUNNING), "locale",
                              decimals=0, time_from=FRESH_WINDOW, no_value="0",
                              thresholds=p.steps((None, p.GREEN)))
                 .reduce_options(p.reduce_last().fields("/^running$/")))
    d.with_panel(p.stat_panel(5, t("Active alarms", "当前报警"), p.at(14, y, 3, 4),
                              p.targets(q.ACTIVE_ALARMS), "locale", decimals=0,
                              time_from=q.ALARM_WINDOW,
                              color_mode=cm.BigValueColorMode.BACKGROUND, no_value="0",
                              thresholds=p.steps((None, p.GREEN), (1.0, p.RED))))
    d.with_panel(pdm.failures_expected(12, wall, p.at(17, y, 3, 4)))
    d.with_panel(p.stat_panel(6, t("Energy today (kWh)", "今日能耗（kWh）"), p.at(20, y, 4, 4),
                              p.targets(q.ENERGY_TODAY), "locale", decimals=0,
                              time_from=today, no_value="0"))
    d.with_panel(floor_plan(7, wall))
    d.with_panel(current_faults(8, wall, p.at(16, BODY_TOP + 4, 8, 9)))
    d.with_panel(work_order_table(10, t("Maintenance work orders", "设备检修工单"),
                                  p.at(16, BODY_TOP + 13, 8, 11), q.WORK_ORDERS, wall,
                                  compact=True))
    d.with_panel(p.bargauge_panel(11, t(f"Sales by region, 24 h ({wall.currency})",
                                        f"近 24 小时各区销售（{wall.currency_zh}）"),
                                  p.at(10, BODY_TOP + 17, 6, 7),
                                  p.targets(q.SALES_BY_REGION), "locale",
                                  thresholds=p.steps((None, p.CYAN)))
                 .display_mode(cm.BarGaugeDisplayMode.BASIC).decimals(0)
                 .overrides(p.renames(wall.region_names())))
    d.with_panel(p.timeseries_panel(9, t("Hourly output (units)", "每小时产量（台）"),
                                    p.at(0, BODY_TOP + 17, 10, 7),
                                    p.targets(q.HOURLY_OUTPUT, alias=t("output", "产量")),
                                    "locale", bars=True, interval="1h", min_val=0))
    return d


def floor_plan(pid: int, wall: Wall) -> canvas.Panel:
    """The whole plant, a box per machine; states over the freshness window only."""
    t = wall.t
    width, height = p.body_px(FLOOR)
    legend = [(state_name(s, wall.lang), STATE_COLOURS[s]) for s in MachineState
              if s != MachineState.OFF]
    legend.append((f'{state_name(MachineState.OFF, wall.lang)} / {t("Offline", "离线")}',
                   STATE_COLOURS[MachineState.OFF]))
    elements = canvas_elements(zones(wall.plant.areas, wall.area_name, wall.line_name),
                               width, height, t("Offline", "离线"), legend)
    return (canvas.Panel().id(pid).title(t("Plant floor: live machine states",
                                           "全厂设备实时状态"))
            .grid_pos(FLOOR).datasource(datasource_ref())
            .targets(list(p.targets(q.FLOOR_PLAN_STATES))).unit("none")
            .time_from(FRESH_WINDOW).hide_time_override(True)
            .mappings(p.state_mappings(wall.lang)).inline_editing(False)
            .show_advanced_types(True).data_links([machine_link(wall.lang)])
            .root(canvas.CanvasOptionsRoot().name("floor").elements(
                [_element(e) for e in elements])))


def current_faults(pid: int, wall: Wall, pos: dm.GridPos) -> table.Panel:
    """Machines whose alarm is active now (in fault or in repair), with the fault's message
    and the time it was raised, newest first, in red: the alarms "Active alarms" counts."""
    t = wall.t
    return (p.table_panel(pid, t("Current faults (incl. in repair)", "当前故障（含维修中）"),
                          pos, p.targets(q.CURRENT_FAULTS))
            .time_from(q.ALARM_WINDOW).hide_time_override(True).no_value(t("None", "无"))
            .transformations([
                p.transformation("sortBy", {"sort": [{"field": "Time", "desc": True}]}),
                p.transformation("organize", {"excludeByName": {"active": True,
                                                                 "severity": True},
                                              "indexByName": {"machine": 0, "line": 1,
                                                              "code": 2, "Time": 3}}),
                p.limit_rows(pos),
            ])
            .overrides([
                p.field_props("machine", displayName=t("Machine", "设备"),
                              mappings=wall.machine_mappings(),
                              color={"mode": "fixed", "fixedColor": p.RED},
                              custom__cellOptions={"type": "color-background",
                                                   "mode": "basic"}),
                p.field_props("line", displayName=t("Line", "产线"),
                              mappings=wall.line_mappings()),
                p.field_props("code", displayName=t("Fault", "故障"),
                              mappings=wall.fault_mappings(),
                              color={"mode": "fixed", "fixedColor": p.RED},
                              custom__cellOptions={"type": "color-text"}),
                p.field_props("Time", displayName=t("Since", "发生时间"),
                              unit="time:MM-DD HH:mm"),
            ]))


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

