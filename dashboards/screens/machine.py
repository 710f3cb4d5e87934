"""7. Machine detail: one machine (variable ``machine``): its state now and over the shift,
every signal it sends with units, its alarms and work orders.

Not in the rotation: the floor plan and the equipment tiles open it with the machine
clicked (:func:`machine_link`). The signals are the plant's: every telemetry field any
machine type declares (custom ones included) gets its label and unit from the plant
file, and the panels show the fields the chosen machine actually sends (fields it does
not send are null and filtered out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common, table
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import statetimeline as st
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import detail_queries as dq
from dashboards import panels as p
from dashboards import queries as q
from dashboards.annotations import fault_annotation
from dashboards.i18n import Lang
from dashboards.influxql import datasource_ref
from dashboards.screens.base import BODY_TOP, frame, tag_variable, uid
from dashboards.screens.tables import alarm_event_columns, work_order_table
from dashboards.wall import FRESH_WINDOW, Wall
from simulator.plant import Plant

SLUG = "machine-detail"


@dataclass(frozen=True)
class Signal:
    """A telemetry field as the wall labels it."""

    field: str
    label: str
    label_zh: str
    unit: str  # as shown, e.g. "°C"

    def title(self, lang: Lang) -> str:
        unit = self.unit if lang.code == "en" else UNIT_ZH.get(self.unit, self.unit)
        label = lang.t(self.label, self.label_zh)
        return f"{label} ({unit})" if unit else label


#: Units as a Chinese screen writes them (others, e.g. a plant's own, stay as given).
UNIT_ZH = {"mm/s": "毫米/秒", "m/min": "米/分", "m³/min": "立方米/分", "bar": "巴", "t": "吨",
           "rpm": "转/分", "ml": "毫升", "kN": "千牛", "s": "秒", "min": "分钟", "h": "小时"}


#: Labels and units of the signals every machine sends (the types add their own).
COMMON: tuple[Signal, ...] = (
    Signal("temp_c", "Temperature", "温度", "°C"),
    Signal("vibration_mm_s", "Vibration", "振动", "mm/s"),
    Signal("power_kw", "Power", "功率", "kW"),
    Signal("current_a", "Current", "电流", "A"),
    Signal("load_pct", "Load", "负载", "%"),
    # peak / RMS of the vibration (~3 healthy, rising as a bearing defect develops); no unit
    Signal("vibration_crest", "Vibration crest factor", "振动峰值因子", ""),
)
#: Plant-file units written in ASCII, as a screen shows them.
UNIT_DISPLAY = {"degC": "°C", "m3/min": "m³/min", "m3/h": "m³/h", "m3": "m³"}


def plant_signals(plant: Plant) -> list[Signal]:
    """Every telemetry field of the plant: the common ones, then each type's own (its
    unit and labels from the plant file; built-in signals have them by default)."""
    out = {s.field: s for s in COMMON}
    for machine_type in plant.types.values():
        for spec in machine_type.signals:
            out.setdefault(spec.name, Signal(spec.name, spec.label or spec.name,
                                             spec.label_zh or spec.label or spec.name,
                                             UNIT_DISPLAY.get(spec.unit, spec.unit)))
    return list(out.values())


def machine_link(lang: Lang, machine: str = "${__field.labels.machine}") -> dash.DashboardLink:
    """A data link to this machine's detail screen; `machine` is Grafana's expression for
    the clicked machine (a series label by default; ``${machine}`` in a repeated tile)."""
    return (dash.DashboardLink(lang.t("Machine details", "设备详情"))
            .type(dm.DashboardLinkType.LINK)
            .url(f"/d/{uid(SLUG, lang)}?var-enterprise=${{enterprise}}&var-site=${{site}}"
                 f"&var-machine={machine}&${{__url_time_range}}"))


#: Where the demo director's presenter page answers (docs/booth.md; compose publishes the
#: simulator's control API on DIRECTOR_PORT 8090). A hidden text variable, so a booth whose
#: presenter page is elsewhere opens the wall with ``&var-presenter=http://HOST:PORT``.
PRESENTER_VAR = "presenter"
PRESENTER_DEFAULT = "http://localhost:8090"


def _presenter_variable() -> dash.TextBoxVariable:
    return (dash.TextBoxVariable(PRESENTER_VAR).default_value(PRESENTER_DEFAULT)
            .current(dm.VariableOption(selected=True, text=PRESENTER_DEFAULT,
                                       value=PRESENTER_DEFAULT))
            .hide(dm.VariableHide.HIDE_VARIABLE))


def presenter_link(lang: Lang) -> dash.DashboardLink:
    """A panel link to the presenter page with this machine selected: a presenter raises or
    clears its fault there with one click (the page asks for the director's token once;
    anonymous wall viewers get nothing unless visitor mode is on)."""
    return (dash.DashboardLink(lang.t("Presenter: raise or clear a fault",
                                      "演示控制：触发或清除故障"))
            .type(dm.DashboardLinkType.LINK)
            .url(f"${{{PRESENTER_VAR}}}/presenter#machine=${{{q.VAR_MACHINE}}}")
            .target_blank(True))


def _machine_variable(lang: Lang, default: str) -> dash.QueryVariable:
    """Single choice among every machine of the site (not only one area's)."""
    return (dash.QueryVariable(q.VAR_MACHINE).label(lang.t("Machine", "设备"))
            .datasource(datasource_ref())
            .query(f'SHOW TAG VALUES FROM "state" WITH KEY = "machine" WHERE {q.SITE_WHERE}')
            .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
            .sort(dm.VariableSort.ALPHABETICAL_ASC)
            .current(dm.VariableOption(selected=True, text=default, value=default)))


def _signal_series(signals: Sequence[Signal], lang: Lang) -> list[p.Override]:
    """Each signal's series: its label and unit (its own scale; the axes are hidden, so
    every line uses the panel's height and the tooltip gives the value with its unit)."""
    return [p.field_props(f"mean_{s.field}", displayName=s.title(lang),
                          unit=f"suffix: {s.unit}" if s.unit else "none") for s in signals]


def build(wall: Wall) -> dash.Dashboard:
    t, lang, plant = wall.t, wall.lang, wall.plant
    signals = plant_signals(plant)
    default_machine = plant.machines[0].id if plant.machines else ""
    variables = [tag_variable(q.VAR_ENTERPRISE, t("Enterprise", "企业"), plant.enterprise),
                 tag_variable(q.VAR_SITE, t("Site", "工厂"), plant.site),
                 _machine_variable(lang, default_machine), _presenter_variable()]
    d = frame(SLUG, wall, t("Machine details", "设备详情"), time_from="now-8h",
              description=t("One machine: state, signals with units, alarms, work orders.",
                            "单台设备：状态、各信号（含单位）、报警、工单。"),
              variables=variables)
    d.annotation(fault_annotation(lang, dq.MACHINE_WHERE))
    y = BODY_TOP
    d.with_panel(p.stat_panel(1, t("State now", "当前状态"), p.at(0, y, 6, 4),
                              p.targets(dq.STATE_NOW), "none", time_from=FRESH_WINDOW,
                              color_mode=cm.BigValueColorMode.BACKGROUND,
                              mappings=p.state_mappings(lang),
                              thresholds=p.steps((None, p.GREY)),
                              no_value=t("Offline", "离线"))
                 .links([presenter_link(lang)]))
    d.with_panel(p.stat_panel(2, t("Availability (run / planned)", "时间开动率"),
                              p.at(6, y, 6, 4), p.targets(dq.UTILISATION), "percent",
                              decimals=1, thresholds=p.steps(*p.OEE_STEPS)))
    d.with_panel(p.stat_panel(3, t("Good / scrap parts", "良品 / 废品"), p.at(12, y, 6, 4),
                              p.targets(dq.PARTS), "locale", decimals=0, no_value="0")
                 .reduce_options(common.ReduceDataOptions().calcs(["sum"]).values(False))
                 .overrides([p.rename("good", t("Good", "良品")),
                             p.rename("scrap", t("Scrap", "废品"))]))
    d.with_panel(
        st.Panel().id(4).title(t("State over the window", "状态时间线"))
        .grid_pos(p.at(18, y, 6, 4)).datasource(datasource_ref())
        .targets(list(p.targets(dq.STATE_TIMELINE))).unit("none").no_value(p.NO_DATA)
        .mappings(p.state_mappings(lang))
        .show_value(cm.VisibilityMode.NEVER).row_height(0.9)
        .legend(common.VizLegendOptions().show_legend(False)
                .display_mode(cm.LegendDisplayMode.HIDDEN)
                .placement(cm.LegendPlacement.BOTTOM))
        .thresholds(p.steps((None, p.GREY))))
    y += 4
    d.with_panel(
        p.timeseries_panel(5, t("Signals", "运行参数"), p.at(0, y, 16, 11),
                           p.targets(dq.SIGNALS), "none")
        .axis_placement(cm.AxisPlacement.HIDDEN).fill_opacity(0)
        .overrides(_signal_series(signals, lang)))
    now = p.at(16, y, 8, 11)
    d.with_panel(
        table.Panel().id(6).title(t("Signals now", "当前参数")).grid_pos(now)
        .datasource(datasource_ref()).targets(list(p.targets(dq.SIGNALS_NOW)))
        .unit("none").cell_height(cm.TableCellHeight.SM).decimals(1).no_value(t("None", "无"))
        .thresholds(p.steps((None, p.BLUE)))
        .transformations([
            # one row per field, then drop the fields this machine does not send
            p.transformation("reduce", {"mode": "seriesToRows", "reducers": ["lastNotNull"]}),
            p.transformation("filterByValue", {
                "type": "exclude", "match": "any",
                "filters": [{"fieldName": "Last *", "config": {"id": "isNull",
                                                                "options": {}}}]}),
            p.limit_rows(now),
        ])
        .overrides([
            p.field_props("Field", displayName=t("Signal", "参数"), mappings=[
                dm.ValueMap(options={f"last_{s.field}": dm.ValueMappingResult(
                    text=s.title(lang)) for s in signals})]),
            p.rename("Last *", t("Now", "当前值")),
        ]))
    y += 11
    message, other = t("message", "message_zh"), t("message_zh", "message")
    alarms = p.at(0, y, 12, 9)
    d.with_panel(
        p.table_panel(7, t("Alarms", "报警记录"), alarms, p.targets(dq.ALARMS))
        .no_value(t("No alarms", "无报警"))
        .transformations([
            # the alarm's text in the screen's language (alarms carry both)
            p.transformation("organize", {"excludeByName": {other: True, "code": True}}),
            p.limit_rows(alarms)])
        .overrides([
            p.field_props("Time", displayName=t("Time", "时间"), unit="dateTimeAsLocal"),
            p.field_props(message, displayName=t("Message", "内容")),
            *alarm_event_columns(wall, ("Event", "事件")),
        ]))
    orders = p.at(12, y, 12, 9)
    d.with_panel(work_order_table(8, t("Work orders", "维修工单"), orders, dq.WORK_ORDERS, wall))
    return d
