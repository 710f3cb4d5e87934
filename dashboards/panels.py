"""Building blocks the six screens share: grid positions, targets, mappings, panel kinds.

Grafana's grid is 24 columns wide; one row unit is 30 px plus an 8 px gap, so a 1080 px
kiosk screen holds :data:`SCREEN_ROWS` rows without scrolling.
"""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import bargauge, common, gauge, piechart, stat, table
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import timeseries as ts
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import piechart as pm

from dashboards.i18n import Lang, state_name, work_order_name
from dashboards.influxql import InfluxQLTarget, ResultFormat, datasource_ref
from dashboards.queries import PanelQuery
from telemetry.contract import STATE_COLOURS, MachineState, WorkOrderStatus

GRID_COLUMNS = 24

Override = cogbuilder.Builder[dm.DashboardFieldConfigSourceOverrides]
#: Rows of the grid that fit a 1920x1080 kiosk screen: 1080 px less the kiosk padding
#: (2 x 16 px) holds 27 rows of 30 px + 8 px gap (27 x 38 = 1026 px).
SCREEN_ROWS = 27
#: Pixels per grid column and per row on a 1920 px wide kiosk screen (16 px padding).
COLUMN_PX = (1920 - 32) / GRID_COLUMNS
ROW_PX = 38
#: Grafana's minimum table column width: a table shows at most width / 150 columns.
MIN_COLUMN_PX = 150
#: Height of a panel's title bar.
TITLE_PX = 32

#: The wall's palette: one colour per meaning, the same on every screen.
GREEN = "#56a64b"
YELLOW = "#f2cc0c"
AMBER = "#ff9830"
ORANGE = "#ff780a"
RED = "#e02f44"
BLUE = "#3274d9"
CYAN = "#33d6ff"
GREY = "#5a5a5a"
PALETTE = frozenset({GREEN, YELLOW, AMBER, ORANGE, RED, BLUE, CYAN, GREY, "transparent",
                     *STATE_COLOURS.values()})
#: Alarm severity colours, everywhere: critical red, warning amber.
SEVERITY_COLOURS = {"info": BLUE, "warning": AMBER, "critical": RED}
WO_COLOURS = {WorkOrderStatus.OPEN: RED, WorkOrderStatus.IN_PROGRESS: AMBER,
              WorkOrderStatus.DONE: GREEN}
#: What a chart says when it has no data: a dash, the same in both languages.
NO_DATA = "-"
#: Units that show a number exactly (no "4 K", no "¥36M"): KPI stats use one of these.
EXACT_UNITS = frozenset({"locale", "none", "percent", "bool_yes_no"})


def body_px(pos: dm.GridPos) -> tuple[int, int]:
    """Width and height in pixels of a panel's body (below its title) on the wall."""
    w = int((pos.w or 1) * COLUMN_PX - 8)
    h = int((pos.h or 1) * ROW_PX - 8 - TITLE_PX)
    return w, h


def at(x: int, y: int, w: int, h: int) -> dm.GridPos:
    """A grid position; checked to lie inside the 24 columns and one screen."""
    if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > GRID_COLUMNS or y + h > SCREEN_ROWS:
        raise ValueError(f"gridPos x={x} y={y} w={w} h={h} leaves the 24x{SCREEN_ROWS} screen")
    return dm.GridPos(x=x, y=y, w=w, h=h)


def targets(*queries: PanelQuery, alias: str | None = None,
            result_format: ResultFormat | None = None) -> list[InfluxQLTarget]:
    """One InfluxQL target per query, refIds A, B, C...

    `result_format` overrides the queries' own: transformations that name fields need
    ``table`` (columns keep their names); bar gauges per tag need ``time_series``.
    """
    out = []
    for i, q in enumerate(queries):
        t = InfluxQLTarget(q).ref_id(chr(ord("A") + i))
        if alias is not None:
            t.alias(alias)
        if result_format is not None:
            t.result_format(result_format)
        out.append(t)
    return out


def steps(*pairs: tuple[float | None, str]) -> dash.ThresholdsConfig:
    return dash.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(
        [dm.Threshold(value=v, color=c) for v, c in pairs])


#: OEE world-class targets: red below 60 %, yellow below 85 %, green above.
OEE_STEPS = ((None, RED), (60.0, YELLOW), (85.0, GREEN))


def state_mappings(lang: Lang) -> list[dm.ValueMapping]:
    """Every machine state code -> its name and the contract's colour."""
    return [dm.ValueMap(options={
        str(int(s)): dm.ValueMappingResult(text=state_name(s, lang), color=STATE_COLOURS[s],
                                           index=int(s))
        for s in MachineState})]


def no_data(lang: Lang) -> dm.ValueMapping:
    """No value at all -> grey "No data": never a colour that reads as fine."""
    return dm.SpecialValueMap(options=dm.DashboardSpecialValueMapOptions(
        match=dm.SpecialValueMatch.NULL_AND_NAN,
        result=dm.ValueMappingResult(text=lang.t("No data", "无数据"), color=GREY)))


def work_order_mappings(lang: Lang) -> list[dm.ValueMapping]:
    return [dm.ValueMap(options={
        str(int(s)): dm.ValueMappingResult(text=work_order_name(s, lang), color=WO_COLOURS[s],
                                           index=int(s))
        for s in WorkOrderStatus})]


def rename(name: str, display: str) -> Override:
    return (dash.DashboardFieldConfigSourceOverrides()
            .matcher(dm.MatcherConfig(id_val="byName", options=name))
            .properties([dm.DynamicConfigValue(id_val="displayName", value=display)]))


def field_props(name: str, **props: object) -> Override:
    return (dash.DashboardFieldConfigSourceOverrides()
            .matcher(dm.MatcherConfig(id_val="byName", options=name))
            .properties([dm.DynamicConfigValue(id_val=k.replace("__", "."), value=v)
                         for k, v in props.items()]))


def renames(names: dict[str, str]) -> list[Override]:
    """Series named by a tag value (``$tag_region``) -> its name, where they differ."""
    return [rename(value, name) for value, name in names.items() if value != name]


def reduce_last() -> common.ReduceDataOptions:
    return common.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def reduce_all_values() -> common.ReduceDataOptions:
    return common.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields("")


def stat_panel(pid: int, title: str, pos: dm.GridPos, tgts: Sequence[InfluxQLTarget],
               unit: str, *, thresholds: dash.ThresholdsConfig | None = None,
               decimals: int | None = None, time_from: str | None = None,
               color_mode: cm.BigValueColorMode = cm.BigValueColorMode.VALUE,
               mappings: list[dm.ValueMapping] | None = None,
               no_value: str = "-") -> stat.Panel:
    p = (stat.Panel().id(pid).title(title).grid_pos(pos).datasource(datasource_ref())
         .targets(list(tgts)).unit(unit).reduce_options(reduce_last())
         .graph_mode(cm.BigValueGraphMode.NONE).color_mode(color_mode)
         .text_mode(cm.BigValueTextMode.AUTO).no_value(no_value)
         .thresholds(thresholds or steps((None, BLUE))))
    if decimals is not None:
        p.decimals(decimals)
    if time_from:
        p.time_from(time_from).hide_time_override(True)
    if mappings:
        p.mappings(mappings)
    return p


def gauge_panel(pid: int, title: str, pos: dm.GridPos, tgts: Sequence[InfluxQLTarget],
                unit: str = "percent", *, min_val: float = 0, max_val: float = 100,
                thresholds: dash.ThresholdsConfig | None = None,
                time_from: str | None = None) -> gauge.Panel:
    p = (gauge.Panel().id(pid).title(title).grid_pos(pos).datasource(datasource_ref())
         .targets(list(tgts)).unit(unit).min(min_val).max(max_val).decimals(1)
         .reduce_options(reduce_last()).show_threshold_markers(True).no_value("-")
         .thresholds(thresholds or steps(*OEE_STEPS)))
    if time_from:
        p.time_from(time_from).hide_time_override(True)
    return p


def bargauge_panel(pid: int, title: str, pos: dm.GridPos, tgts: Sequence[InfluxQLTarget],
                   unit: str, *, min_val: float = 0, max_val: float | None = None,
                   thresholds: dash.ThresholdsConfig | None = None) -> bargauge.Panel:
    p = (bargauge.Panel().id(pid).title(title).grid_pos(pos).datasource(datasource_ref())
         .targets(list(tgts)).unit(unit).min(min_val)
         .display_mode(cm.BarGaugeDisplayMode.GRADIENT).no_value("-")
         .orientation(cm.VizOrientation.HORIZONTAL)
         .reduce_options(reduce_last()).thresholds(thresholds or steps(*OEE_STEPS)))
    if max_val is not None:
        p.max(max_val)
    return p


def pie_panel(pid: int, title: str, pos: dm.GridPos, tgts: Sequence[InfluxQLTarget],
              unit: str, overrides: list[Override],
              *, time_from: str | None = None) -> piechart.Panel:
    p = (piechart.Panel().id(pid).title(title).grid_pos(pos).datasource(datasource_ref())
         .targets(list(tgts)).unit(unit).pie_type(pm.PieChartType.DONUT).no_value(NO_DATA)
         .reduce_options(common.ReduceDataOptions().calcs(["sum"]).values(False))
         .display_labels([pm.PieChartLabels.PERCENT])
         .legend(piechart.PieChartLegendOptions().display_mode(cm.LegendDisplayMode.LIST)
                 .placement(cm.LegendPlacement.RIGHT).show_legend(True)
                 .values([pm.PieChartLegendValues.PERCENT]))
         .color_scheme(dash.FieldColor().mode(dm.FieldColorModeId.PALETTE_CLASSIC))
         .overrides(overrides))
    if time_from:
        p.time_from(time_from).hide_time_override(True)
    return p


def timeseries_panel(pid: int, title: str, pos: dm.GridPos, tgts: Sequence[InfluxQLTarget],
                     unit: str, *, bars: bool = False, stacked: bool = False,
                     interval: str | None = None, min_val: float | None = None,
                     max_val: float | None = None,
                     thresholds: dash.ThresholdsConfig | None = None) -> ts.Panel:
    p = (ts.Panel().id(pid).title(title).grid_pos(pos).datasource(datasource_ref())
         .targets(list(tgts)).unit(unit).no_value(NO_DATA)
         .legend(common.VizLegendOptions().display_mode(cm.LegendDisplayMode.LIST)
                 .placement(cm.LegendPlacement.BOTTOM).show_legend(True))
         .tooltip(common.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI)
                  .sort(cm.SortOrder.DESCENDING))
         .line_width(2).fill_opacity(60 if bars else 15)
         .draw_style(cm.GraphDrawStyle.BARS if bars else cm.GraphDrawStyle.LINE)
         .thresholds(thresholds or steps((None, GREEN))))
    if stacked:
        p.stacking(common.StackingConfig().mode(cm.StackingMode.NORMAL))
    if interval:
        p.interval(interval)
    if min_val is not None:
        p.min(min_val)
    if max_val is not None:
        p.max(max_val)
    return p


def table_panel(pid: int, title: str, pos: dm.GridPos, tgts: Sequence[InfluxQLTarget],
                unit: str = "none") -> table.Panel:
    return (table.Panel().id(pid).title(title).grid_pos(pos).datasource(datasource_ref())
            .targets(list(tgts)).unit(unit).cell_height(cm.TableCellHeight.SM)
            .thresholds(steps((None, BLUE))))


#: Height of one table row (cell height "sm") and of the header row.
TABLE_ROW_PX = 36


def table_rows_fit(pos: dm.GridPos) -> int:
    """How many rows a table at `pos` shows without scrolling."""
    return max(1, (body_px(pos)[1] - TABLE_ROW_PX) // TABLE_ROW_PX)


def limit_rows(pos: dm.GridPos) -> dm.DataTransformerConfig:
    """Keep the rows the table can show (after sorting: the most important ones)."""
    return transformation("limit", {"limitField": table_rows_fit(pos)})


def transformation(id_val: str, options: object) -> dm.DataTransformerConfig:
    return dm.DataTransformerConfig(id_val=id_val, options=options)
