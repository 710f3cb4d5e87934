"""2. Hardware workshop equipment status (五金车间设备运行情况): a tile per machine, the
shift's state timeline, utilisation per machine and current load/temperature/vibration."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common, statetimeline, table
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.annotations import fault_annotation
from dashboards.i18n import Lang
from dashboards.influxql import datasource_ref
from dashboards.screens.base import frame, plant_variables
from dashboards.screens.machine import machine_link

SLUG = "equipment-status"
#: Tiles per row of the repeated machine tile (24 columns / 2).
TILES_PER_ROW = 12
TILE_W = 2
TILE_H = 3


def tile_rows(machines: int) -> int:
    """Grid rows the repeated tiles take for `machines` machines."""
    return -(-machines // TILES_PER_ROW) * TILE_H


def build(lang: Lang, machines: int) -> dash.Dashboard:
    t = lang.t
    d = frame(SLUG, lang, t("Hardware workshop equipment status", "五金车间设备运行情况"),
              time_from="now-8h",
              description=t("Every machine of the hardware (sheet-metal) workshop, live.",
                            "五金车间每台设备的实时运行状态。"),
              variables=plant_variables(lang, machine=True))
    d.annotation(fault_annotation(lang, q.MACHINE_WHERE))
    d.with_panel(p.stat_panel(1, "$machine", p.at(0, 0, TILE_W, TILE_H),
                              p.targets(q.MACHINE_TILE_STATE), "none",
                              color_mode=cm.BigValueColorMode.BACKGROUND,
                              mappings=p.state_mappings(lang))
                 .data_links([machine_link(lang, "${machine}")])
                 .repeat(q.VAR_MACHINE).repeat_direction("h").max_per_row(TILES_PER_ROW))
    y = tile_rows(machines)
    d.with_panel(
        statetimeline.Panel().id(2).title(t("State timeline (shift)", "本班设备状态时间线"))
        .grid_pos(p.at(0, y, 14, 27 - y)).datasource(datasource_ref())
        .targets(list(p.targets(q.STATE_TIMELINE))).unit("none")
        .data_links([machine_link(lang)])
        .mappings(p.state_mappings(lang)).show_value(cm.VisibilityMode.NEVER)
        .merge_values(True).row_height(0.8).fill_opacity(90).line_width(0)
        .legend(common.VizLegendOptions().show_legend(True)
                .display_mode(cm.LegendDisplayMode.LIST).placement(cm.LegendPlacement.BOTTOM))
        .thresholds(p.steps((None, p.GREY))))
    half = (27 - y) // 2
    d.with_panel(p.bargauge_panel(3, t("Utilisation (run / planned time)", "设备利用率"),
                                  p.at(14, y, 10, half), p.targets(q.UTILISATION), "percent",
                                  max_val=100).decimals(0))
    d.with_panel(_signals_table(4, p.at(14, y + half, 10, 27 - y - half), lang))
    return d


def _signals_table(pid: int, pos: dm.GridPos, lang: Lang) -> table.Panel:
    t = lang.t
    return (p.table_panel(pid, t("Current load, temperature, vibration", "当前负载、温度、振动"),
                          pos, p.targets(q.MACHINE_SIGNALS))
            .transformations([p.transformation("merge", {}),
                              p.transformation("organize", {"excludeByName": {"Time": True}})])
            .overrides([
                p.field_props("machine", displayName=t("Machine", "设备")),
                p.field_props("load_pct", displayName=t("Load", "负载"), unit="percent",
                              min=0, max=100, decimals=0,
                              custom__cellOptions={"type": "gauge", "mode": "basic"}),
                p.field_props("temp_c", displayName=t("Temp", "温度"), unit="celsius",
                              decimals=1),
                p.field_props("vibration_mm_s", displayName=t("Vibration", "振动"),
                              unit="velocitymms", decimals=2,
                              custom__cellOptions={"type": "color-text"},
                              thresholds={"mode": "absolute", "steps": [
                                  {"value": None, "color": p.GREEN},
                                  {"value": 4.5, "color": p.ORANGE},
                                  {"value": 7.1, "color": p.RED}]}),
                p.field_props("power_kw", displayName=t("Power", "功率"), unit="kwatt",
                              decimals=1),
            ]))
