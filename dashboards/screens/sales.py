"""5. Sales & energy / alarms: sales by region on a map of China with their ranking, by
channel, today and month to date; kW by area, kWh per unit, alarms by severity and the
latest alarms."""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, common
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.chinamap import china_map_panel
from dashboards.screens.base import BODY_TOP, frame, plant_variables
from dashboards.screens.tables import SEVERITY_NAMES, alarm_event_columns
from dashboards.wall import Wall

SLUG = "sales-energy"


def build(wall: Wall) -> dash.Dashboard:
    t = wall.t
    y = BODY_TOP
    cur = wall.currency
    d = frame(SLUG, wall, t("Sales, energy & alarms", "销售、能耗与报警"), time_from="now-24h",
              description=t("Sales by region and channel; energy by area; alarms.",
                            "各区域、各渠道销售；各车间能耗；报警。"),
              variables=plant_variables(wall, output=True))
    today, month = "now/d", "now/M"
    d.with_panel(p.stat_panel(1, t(f"Sales today ({cur})", f"今日销售额（{wall.currency_zh}）"),
                              p.at(0, y, 6, 4), p.targets(q.SALES_TOTAL), "locale",
                              decimals=0, time_from=today, no_value="0")
                 .reduce_options(p.reduce_last().fields("/^amount_cny$/")))
    d.with_panel(p.stat_panel(2, t(f"Sales month to date ({cur})",
                                   f"本月累计销售额（{wall.currency_zh}）"),
                              p.at(6, y, 6, 4), p.targets(q.SALES_TOTAL), "locale",
                              decimals=0, time_from=month, no_value="0")
                 .reduce_options(p.reduce_last().fields("/^amount_cny$/")))
    d.with_panel(p.stat_panel(3, t("Units sold today", "今日销量（台）"), p.at(12, y, 6, 4),
                              p.targets(q.SALES_TOTAL), "locale", decimals=0,
                              time_from=today, no_value="0")
                 .reduce_options(p.reduce_last().fields("/^units$/")))
    d.with_panel(p.stat_panel(4, t("Energy per unit today (kWh)", "今日单台能耗（kWh）"),
                              p.at(18, y, 6, 4),
                              p.targets(q.ENERGY_TODAY, q.OUTPUT_TODAY,
                                        result_format="table"), "locale",
                              decimals=2, time_from=today)
                 .transformations([
                     p.transformation("merge", {}),  # one row: Time, kwh, output
                     # No units yet today: no value, never Infinity.
                     p.transformation("filterByValue", {
                         "type": "include", "match": "any",
                         "filters": [{"fieldName": "output",
                                      "config": {"id": "greater", "options": {"value": 0}}}]}),
                     p.transformation("calculateField", {
                         "mode": "binary", "alias": "kwh_per_unit", "replaceFields": True,
                         "binary": {"left": "kwh", "operator": "/", "right": "output"}}),
                 ]))
    d.with_panel(china_map_panel(5, t(f"Sales by region ({cur})",
                                      f"各区销售分布（{wall.currency_zh}）"),
                                 p.at(0, y + 4, 8, 10), wall.lang, unit="locale"))
    d.with_panel(region_ranking(10, wall, p.at(8, y + 4, 5, 10)))
    d.with_panel(p.pie_panel(6, t("Sales by channel", "各渠道销售占比"), p.at(13, y + 4, 6, 10),
                             p.targets(q.SALES_BY_CHANNEL), "locale",
                             p.renames(wall.channel_names())))
    d.with_panel(p.bargauge_panel(7, t("Alarms by severity", "各级别报警数"),
                                  p.at(19, y + 4, 5, 10),
                                  p.targets(q.ALARMS_BY_SEVERITY), "short",
                                  thresholds=p.steps((None, p.BLUE)))
                 .reduce_options(common.ReduceDataOptions().calcs(["sum"]).values(False))
                 .overrides([p.field_props(s, displayName=t(*SEVERITY_NAMES[s]),
                                           color={"mode": "fixed", "fixedColor": c})
                             for s, c in p.SEVERITY_COLOURS.items()]))
    d.with_panel(p.timeseries_panel(8, t("Power by area", "各车间功率"), p.at(0, y + 14, 12, 10),
                                    p.targets(q.POWER_BY_AREA), "kwatt", min_val=0,
                                    stacked=True, interval="1m")
                 .overrides([p.rename(a.id, wall.area_name(a)) for a in wall.plant.areas]))
    alarms = p.at(12, y + 14, 12, 10)
    d.with_panel(
        p.table_panel(9, t("Latest alarms", "最新报警"), alarms, p.targets(q.LATEST_ALARMS))
        .no_value(t("None", "无"))
        .transformations([
            # The alarm's text in the wall's language: English as sent, Chinese as the
            # plant's fault list gives it for the alarm's code.
            p.transformation("organize", {"excludeByName": {
                "wo_id": True, "area": True, t("code", "message"): True},
                "indexByName": {"Time": 0, "machine": 1, "severity": 2,
                                t("message", "code"): 3, "active": 4}}),
            p.limit_rows(alarms),
        ])
        .overrides([
            p.field_props("Time", displayName=t("Time", "时间"), unit="dateTimeAsLocal"),
            p.field_props("machine", displayName=t("Machine", "设备")),
            p.field_props("message", displayName="Message") if wall.lang.code == "en" else
            p.field_props("code", displayName="内容", mappings=wall.fault_mappings()),
            *alarm_event_columns(wall),
        ]))
    return d


def region_ranking(pid: int, wall: Wall, pos: dm.GridPos) -> bargauge.Panel:
    """Beside the map: every region's sales, largest first (the ranking also lists the
    regions the map leaves off, e.g. Overseas)."""
    t = wall.t
    return (p.bargauge_panel(pid, t(f"Ranking ({wall.currency})",
                                    f"销售排名（{wall.currency_zh}）"), pos,
                             p.targets(q.SALES_BY_REGION), "locale",
                             thresholds=p.steps((None, p.CYAN)))
            .display_mode(cm.BarGaugeDisplayMode.BASIC).decimals(0).no_value(t("None", "无"))
            .reduce_options(p.reduce_last().values(True).fields("/^Total$/"))
            .transformations([
                # one row per region with its total, largest first
                p.transformation("reduce", {"mode": "seriesToRows", "reducers": ["sum"]}),
                p.transformation("sortBy", {"sort": [{"field": "Total", "desc": True}]}),
            ])
            .overrides([p.field_props("Field", mappings=[dm.ValueMap(options={
                en: dm.ValueMappingResult(text=name)
                for en, name in wall.region_names().items()})])]))
