"""What every screen shares: uid, time zone, refresh, the plant's variables, the banner row
(plant, screen, clock, shift, data age) and the links between screens."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import text
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import text as tm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.i18n import Lang
from dashboards.influxql import datasource_ref
from dashboards.wall import DATA_AGE_LIMIT_S, Wall
from simulator.plant import Area

#: Refresh for the wall display (the issue asks for 5-10 s).
REFRESH = "10s"
TAG = "factory"
#: The banner row at the top of every screen: kiosk mode hides dashboard titles.
BANNER_ROWS = 3
BANNER_TEXT_ID, BANNER_SHIFT_ID, BANNER_AGE_ID = 101, 102, 103
#: Rows below the banner.
BODY_TOP = BANNER_ROWS
BODY_ROWS = p.SCREEN_ROWS - BANNER_ROWS


def uid(slug: str, lang: Lang) -> str:
    """``plant-overview`` (English) / ``plant-overview-zh``: stable, <= 40 characters."""
    value = slug if lang.code == "en" else f"{slug}-{lang.code}"
    if len(value) > 40:
        raise ValueError(f"dashboard uid {value!r} is longer than 40 characters")
    return value


def _current(value: str, text: str | None = None) -> dm.VariableOption:
    return dm.VariableOption(selected=True, text=text or value, value=value)


def tag_variable(name: str, label: str, default: str, *, multi: bool = False,
                 hide: bool = False) -> dash.QueryVariable:
    """A SHOW TAG VALUES variable (query text from queries.VARIABLE_QUERIES)."""
    v = (dash.QueryVariable(name).label(label).datasource(datasource_ref())
         .query(q.VARIABLE_QUERIES[name]).refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
         .sort(dm.VariableSort.ALPHABETICAL_ASC))
    if multi:
        v.multi(True).include_all(True).all_value(q.ALL_VALUE).current(
            dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
    else:
        v.current(_current(default))
    if hide:
        v.hide(dm.VariableHide.HIDE_VARIABLE)
    return v


def plant_variables(wall: Wall, *, area: Area | None = None, machine: bool = False,
                    output: bool = False, all_areas: bool = False
                    ) -> list[cogbuilder.Builder[dm.VariableModel]]:
    """enterprise and site (the plant's), the screen's area (or every area, hidden),
    machines, and the hidden variables generated from the plant: its output machines and
    shift offset."""
    t = wall.t
    plant = wall.plant
    out: list[cogbuilder.Builder[dm.VariableModel]] = [
        tag_variable(q.VAR_ENTERPRISE, t("Enterprise", "企业"), plant.enterprise),
        tag_variable(q.VAR_SITE, t("Site", "工厂"), plant.site),
    ]
    if area is not None:
        out.append(tag_variable(q.VAR_AREA, t("Area", "车间"), area.id, hide=True))
    elif all_areas:
        out.append(tag_variable(q.VAR_AREA, t("Area", "车间"), "", multi=True, hide=True))
    if machine:
        out.append(tag_variable(q.VAR_MACHINE, t("Machine", "设备"), "", multi=True))
    ids = [m.id for m in wall.output_machines]
    out.append(dash.CustomVariable(q.VAR_OUTPUT).label(t("Output machines", "产出设备"))
               .values(",".join(ids)).multi(True).hide(dm.VariableHide.HIDE_VARIABLE)
               .current(dm.VariableOption(selected=True, text=ids, value=ids)))
    out.append(dash.ConstantVariable(q.VAR_SHIFT_OFFSET).value(wall.shift_offset))
    out.append(dash.ConstantVariable(q.VAR_PLANT_TZ).value(wall.query_zone))
    if output:
        out.append(dash.TextBoxVariable(q.VAR_DAILY_TARGET)
                   .label(t("Daily target (units)", "日产量目标（台）"))
                   .default_value(str(wall.daily_target))
                   .current(_current(str(wall.daily_target))))
    return out


def frame(slug: str, wall: Wall, title: str, *, time_from: str, description: str,
          variables: Sequence[cogbuilder.Builder[dm.VariableModel]],
          refresh: str = REFRESH, area: Area | None = None) -> dash.Dashboard:
    """A read-only, auto-refreshing dashboard in the plant's time zone, linked to its
    sibling screens, with the banner row on top."""
    lang = wall.lang
    d = (dash.Dashboard(title).uid(uid(slug, lang)).description(description)
         .tags([TAG, f"{TAG}-{lang.code}"]).timezone(wall.timezone)
         .time(time_from, "now").refresh(refresh).readonly()
         .tooltip(dm.DashboardCursorSync.CROSSHAIR)
         .timepicker(dash.TimePicker().refresh_intervals(["5s", "10s", "30s", "1m"]))
         .variables(list(variables))
         .link(dash.DashboardLink(lang.t("Screens", "大屏"))
               .type(dm.DashboardLinkType.DASHBOARDS).tags([f"{TAG}-{lang.code}"])
               .as_dropdown(False).include_vars(True).keep_time(False)))
    for panel in banner(wall, title, area):
        d.with_panel(panel)
    return d


def banner(wall: Wall, screen: str, area: Area | None = None
           ) -> list[cogbuilder.Builder[dm.Panel]]:
    """Plant name, the screen's name and the clock (a text panel: Grafana fills in
    ``${__to:date:...}`` at every refresh); the current shift; the data age."""
    t = wall.t
    content = (
        '<div style="display:flex;align-items:center;justify-content:space-between;'
        'height:100%;padding:0 16px;border-bottom:2px solid #1f60c4">'
        f'<div style="font-size:24px;color:#8ab8ff">{html.escape(wall.plant_name)}</div>'
        '<div style="font-size:44px;font-weight:bold;color:#e6f4ff;letter-spacing:6px">'
        f'{html.escape(screen)}</div>'
        '<div style="font-size:30px;color:#33d6ff;font-variant-numeric:tabular-nums">'
        '${__to:date:YYYY-MM-DD HH:mm:ss}</div></div>')
    text_panel = (text.Panel().id(BANNER_TEXT_ID).title("").transparent(True)
                  .grid_pos(p.at(0, 0, 16, BANNER_ROWS)).mode(tm.TextMode.HTML)
                  .content(content))
    title = (t("Shift (most machines)", "班次（多数设备）")
             if area is None and wall.several_calendars else t("Shift", "班次"))
    shift = (p.stat_panel(BANNER_SHIFT_ID, title, p.at(16, 0, 4, BANNER_ROWS),
                          p.targets(q.CLOCK_TICKS), "none", time_from="1h",
                          mappings=shift_mappings(wall, area),
                          thresholds=p.steps((None, p.CYAN)),
                          no_value=t("No shift", "非生产时间"))
             .interval("1m")
             .reduce_options(p.reduce_last().fields(f"/^{LOCAL_FIELD}$/"))
             .transformations(local_week_time(wall)))
    age = (p.stat_panel(BANNER_AGE_ID, t("Latest data", "数据更新"),
                        p.at(20, 0, 4, BANNER_ROWS), p.targets(q.DATA_AGE), "time:HH:mm:ss",
                        time_from=f"{DATA_AGE_LIMIT_S}s",
                        color_mode=cm.BigValueColorMode.BACKGROUND,
                        thresholds=p.steps((None, p.RED), (1.0, p.GREEN)),
                        no_value=t(f"None for {DATA_AGE_LIMIT_S} s",
                                   f"{DATA_AGE_LIMIT_S} 秒无数据"))
           .reduce_options(p.reduce_last().fields("/^Time$/")))
    return [text_panel, shift, age]


#: The field the banner's shift is read from: the newest bucket's local weekday and time.
LOCAL_FIELD = "local"
#: moment.js format of that field: local date, weekday (0 = Sunday) and time, e.g.
#: ``2026-10-01 4 0614`` for Thursday 1 October 06:14.
LOCAL_FORMAT = "YYYY-MM-DD d HHmm"


def local_time_text(day: dt.date, minute: int) -> str:
    """:data:`LOCAL_FORMAT` for a local date and minute of the day."""
    return f"{day.isoformat()} {day.isoweekday() % 7} {minute // 60:02d}{minute % 60:02d}"


def minutes_regex(start: int, end: int) -> str:
    """A regex for ``HHmm`` from minute `start` to `end` (excluded) of the day."""
    parts = []
    for hour in range(start // 60, (end - 1) // 60 + 1):
        first, last = max(start, hour * 60) % 60, min(end - 1, hour * 60 + 59) % 60
        if (first, last) == (0, 59):
            parts.append(f"{hour:02d}\\d\\d")
        else:
            parts.append(f"{hour:02d}(?:{'|'.join(f'{m:02d}' for m in range(first, last + 1))})")
    return "(?:" + "|".join(parts) + ")"


def local_week_time(wall: Wall) -> list[dm.DataTransformerConfig]:
    """Transformations that turn the newest bucket's time into its local date, weekday and
    time of day (:data:`LOCAL_FORMAT`), in the plant's time zone with its daylight-saving
    rules (Grafana's "Format time" with an explicit IANA zone, never the browser's); a
    fixed ``UTC+hh:mm`` offset is added first and formatted as UTC."""
    tr = p.transformation
    zone = wall.iana_zone or "utc"
    offset_ms = 0 if wall.iana_zone else int(wall.utc_offset.total_seconds() * 1000)
    return [tr("calculateField", {"mode": "binary", "alias": LOCAL_FIELD,
                                  "replaceFields": False,
                                  "binary": {"left": "Time", "operator": "+",
                                             "right": str(offset_ms)}}),
            tr("convertFieldType", {"fields": {}, "conversions": [
                {"targetField": LOCAL_FIELD, "destinationType": "time"}]}),
            tr("formatTime", {"timeField": LOCAL_FIELD, "outputFormat": LOCAL_FORMAT,
                              "timezone": zone})]


def shift_mappings(wall: Wall, area: Area | None) -> list[dm.ValueMapping]:
    """Local date, weekday and time (:data:`LOCAL_FORMAT`) -> the shift's name: first the
    plant's holidays (the shift time of a holiday reads "Holiday"), then the calendar's
    week (its worked weekdays; Grafana takes the first mapping that matches)."""
    def regex(pattern: str, label: str) -> dm.ValueMapping:
        return dm.RegexMap(options=dm.DashboardRegexMapOptions(
            pattern=pattern, result=dm.ValueMappingResult(text=label, color=p.CYAN)))

    out = [regex(f"{day.isoformat()} \\d {minutes_regex(start, end)}", label)
           for label, day, start, end in wall.holiday_shifts(area)]
    out += [regex(f"\\d{{4}}-\\d\\d-\\d\\d {(weekday + 1) % 7} {minutes_regex(start, end)}",
                  label)
            for label, weekday, start, end in wall.week_shifts(area)]
    return out
