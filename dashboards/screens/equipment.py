"""2. Equipment status of one area (the plant's first: 五金车间设备运行情况 for the demo
plant): a tile per machine, the area's state timeline, the machines with the lowest
availability and the machines with the highest vibration with their load, temperature
and power."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common, statetimeline, table
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.annotations import fault_annotation
from dashboards.influxql import datasource_ref
from dashboards.screens.base import BODY_ROWS, BODY_TOP, frame, plant_variables
from dashboards.screens.machine import machine_link
from dashboards.wall import FRESH_WINDOW, Wall

SLUG = "equipment-status"
#: Tile layouts, largest first: (tiles per row, tile width, tile height).
TILE_LAYOUTS = ((12, 2, 3), (12, 2, 2), (24, 1, 3), (24, 1, 2))
#: Rows the ranked bar gauge needs for its bars (10 bars of 26 px).
BARS_ROWS = 8
#: At most this many rows of the body go to tiles; more machines get no tiles.
MAX_TILE_ROWS = 9


def tile_layout(machines: int) -> tuple[int, int, int] | None:
    """The largest tiles that fit `machines` in :data:`MAX_TILE_ROWS`, else None."""
    for per_row, w, h in TILE_LAYOUTS:
        if -(-machines // per_row) * h <= MAX_TILE_ROWS:
            return per_row, w, h
    return None


def tile_rows(machines: int) -> int:
    """Grid rows the repeated tiles take for `machines` machines."""
    layout = tile_layout(machines)
    return 0 if layout is None else -(-machines // layout[0]) * layout[2]


def build(wall: Wall) -> dash.Dashboard:
    t = wall.t
    area = wall.first_area()
    name = wall.area_name(area)
    n = sum(len(ln.machines) for ln in area.lines)
    d = frame(SLUG, wall, t(f"{name} equipment status", f"{name}设备运行情况"),
              time_from="now-8h", area=area,
              description=t(f"Every machine of the {name}, live.",
                            f"{name}每台设备的实时运行状态。"),
              variables=plant_variables(wall, area=area, machine=True))
    d.annotation(fault_annotation(wall.lang, q.MACHINE_WHERE))
    layout = tile_layout(n)
    y = BODY_TOP
    if layout is not None:
        per_row, w, h = layout
        d.with_panel(p.stat_panel(1, "$machine", p.at(0, y, w, h),
                                  p.targets(q.MACHINE_TILE_STATE), "none",
                                  color_mode=cm.BigValueColorMode.BACKGROUND,
                                  time_from=FRESH_WINDOW, mappings=p.state_mappings(wall.lang),
                                  thresholds=p.steps((None, p.GREY)),
                                  no_value=t("Offline", "离线"))
                     .data_links([machine_link(wall.lang, "${machine}")])
                     .repeat(q.VAR_MACHINE).repeat_direction("h").max_per_row(per_row))
        y += tile_rows(n)
    rest = BODY_TOP + BODY_ROWS - y
    d.with_panel(
        statetimeline.Panel().id(2).title(t("Machine states, last 8 h", "近 8 小时设备状态"))
        .grid_pos(p.at(0, y, 14, rest)).datasource(datasource_ref())
        .targets(list(p.targets(q.STATE_TIMELINE))).unit("none").interval("2m")
        .data_links([machine_link(wall.lang)])
        .no_value(p.NO_DATA)
        .mappings(p.state_mappings(wall.lang)).show_value(cm.VisibilityMode.NEVER)
        .merge_values(True).row_height(0.8).fill_opacity(90).line_width(0)
        .legend(common.VizLegendOptions().show_legend(True)
                .display_mode(cm.LegendDisplayMode.LIST).placement(cm.LegendPlacement.BOTTOM))
        .thresholds(p.steps((None, p.GREY))))
    half = max(rest // 2, BARS_ROWS)
    d.with_panel(p.bargauge_panel(3, t(f"Lowest availability ({q.RANKED} machines)",
                                       f"时间开动率最低的 {q.RANKED} 台设备"),
                                  p.at(14, y, 10, half), p.targets(q.UTILISATION), "percent",
                                  max_val=100).decimals(0)
                 .reduce_options(p.reduce_last().values(True))
                 .transformations([p.transformation("sortBy", {
                     "sort": [{"field": "availability"}]})]))
    d.with_panel(_signals_table(4, p.at(14, y + half, 10, rest - half), wall))
    return d


def _signals_table(pid: int, pos: dm.GridPos, wall: Wall) -> table.Panel:
    t = wall.t
    return (p.table_panel(pid, t("Highest vibration now", "当前振动最高的设备"),
                          pos, p.targets(q.MACHINE_SIGNALS))
            .time_from(FRESH_WINDOW).hide_time_override(True).no_value(t("None", "无"))
            .transformations([p.transformation("merge", {}),
                              p.transformation("organize", {"excludeByName": {"Time": True}}),
                              p.transformation("sortBy", {"sort": [
                                  {"field": "vibration_mm_s", "desc": True}]}),
                              p.limit_rows(pos)])
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
                                  {"value": 4.5, "color": p.AMBER},
                                  {"value": 7.1, "color": p.RED}]}),
                p.field_props("power_kw", displayName=t("Power", "功率"), unit="kwatt",
                              decimals=1),
            ]))
