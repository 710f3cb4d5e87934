"""5. Sales & energy / alarms: sales share by region and channel, today and month to date;
kW by area, kWh per unit, alarms by severity and the latest alarms."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.chinamap import china_map_panel
from dashboards.i18n import Lang
from dashboards.screens.base import frame, plant_variables

SLUG = "sales-energy"
SEVERITY_COLOURS = {"info": p.BLUE, "warning": p.ORANGE, "critical": p.RED}
SEVERITY_NAMES = {"info": ("Info", "提示"), "warning": ("Warning", "警告"),
                  "critical": ("Critical", "严重")}


def build(lang: Lang) -> dash.Dashboard:
    t = lang.t
    d = frame(SLUG, lang, t("Sales, energy & alarms", "销售、能耗与报警"), time_from="now-24h",
              description=t("Sales by region and channel; energy by area; alarms.",
                            "各区域、各渠道销售；各车间能耗；报警。"),
              variables=plant_variables(lang, output=True))
    today, month = "now/d", "now/M"
    d.with_panel(p.stat_panel(1, t("Sales today", "今日销售额"), p.at(0, 0, 6, 4),
                              p.targets(q.SALES_TOTAL), "currencyCNY", decimals=0,
                              time_from=today)
                 .reduce_options(p.reduce_last().fields("/^amount_cny$/")))
    d.with_panel(p.stat_panel(2, t("Sales month to date", "本月累计销售额"), p.at(6, 0, 6, 4),
                              p.targets(q.SALES_TOTAL), "currencyCNY", decimals=0,
                              time_from=month)
                 .reduce_options(p.reduce_last().fields("/^amount_cny$/")))
    d.with_panel(p.stat_panel(3, t("Units sold today", "今日销量"), p.at(12, 0, 6, 4),
                              p.targets(q.SALES_TOTAL), "short", decimals=0, time_from=today)
                 .reduce_options(p.reduce_last().fields("/^units$/")))
    d.with_panel(p.stat_panel(4, t("Energy per unit today", "今日单台能耗"), p.at(18, 0, 6, 4),
                              p.targets(q.ENERGY_TODAY, q.OUTPUT_TODAY,
                                        result_format="table"), "kwatth",
                              decimals=2, time_from=today)
                 .transformations([
                     p.transformation("merge", {}),  # one row: Time, kwh, output
                     p.transformation("calculateField", {
                         "mode": "binary", "alias": "kwh_per_unit", "replaceFields": True,
                         "binary": {"left": "kwh", "operator": "/", "right": "output"}}),
                 ]))
    d.with_panel(china_map_panel(5, t("Sales by region", "各区销售分布"), p.at(0, 4, 8, 11),
                                 lang))
    d.with_panel(p.pie_panel(6, t("Sales by channel", "各渠道销售占比"), p.at(8, 4, 8, 11),
                             p.targets(q.SALES_BY_CHANNEL), "currencyCNY",
                             p.channel_overrides(lang)))
    d.with_panel(p.bargauge_panel(7, t("Alarms by severity", "各级别报警数"), p.at(16, 4, 8, 11),
                                  p.targets(q.ALARMS_BY_SEVERITY), "short",
                                  thresholds=p.steps((None, p.BLUE)))
                 .reduce_options(common.ReduceDataOptions().calcs(["sum"]).values(False))
                 .overrides([p.field_props(s, displayName=t(*SEVERITY_NAMES[s]),
                                           color={"mode": "fixed", "fixedColor": c})
                             for s, c in SEVERITY_COLOURS.items()]))
    d.with_panel(p.timeseries_panel(8, t("Power by area", "各车间功率"), p.at(0, 15, 12, 12),
                                    p.targets(q.POWER_BY_AREA), "kwatt", min_val=0,
                                    stacked=True, interval="1m"))
    d.with_panel(
        p.table_panel(9, t("Latest alarms", "最新报警"), p.at(12, 15, 12, 12),
                      p.targets(q.LATEST_ALARMS))
        .overrides([
            p.field_props("Time", displayName=t("Time", "时间"), unit="dateTimeAsLocal"),
            p.field_props("machine", displayName=t("Machine", "设备")),
            p.field_props("area", displayName=t("Area", "车间")),
            p.field_props("code", displayName=t("Code", "代码")),
            p.field_props("message", displayName=t("Message", "内容")),
            p.field_props("wo_id", displayName=t("Work order", "工单号")),
            p.field_props("active", displayName=t("Active", "状态"), mappings=[
                dm.ValueMap(options={
                    "true": dm.ValueMappingResult(text=t("raised", "报警"), color=p.RED),
                    "false": dm.ValueMappingResult(text=t("cleared", "已解除"),
                                                     color=p.GREEN)})],
                          custom__cellOptions={"type": "color-text"}),
            p.field_props("severity", displayName=t("Severity", "级别"), mappings=[
                dm.ValueMap(options={
                    s: dm.ValueMappingResult(text=t(*SEVERITY_NAMES[s]), color=c)
                    for s, c in SEVERITY_COLOURS.items()})],
                          custom__cellOptions={"type": "color-background", "mode": "basic"}),
        ]))
    return d
