"""What every screen shares: uid, dark theme, refresh, variables and the links between screens."""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import queries as q
from dashboards.i18n import Lang
from dashboards.influxql import datasource_ref
from telemetry.contract import DEFAULT_ENTERPRISE, DEFAULT_SITE, HARDWARE_AREA

#: Refresh for the wall display (the issue asks for 5-10 s).
REFRESH = "10s"
TAG = "factory"


def uid(slug: str, lang: Lang) -> str:
    """``plant-overview`` (English) / ``plant-overview-zh``: stable, <= 40 characters."""
    value = slug if lang.code == "en" else f"{slug}-{lang.code}"
    if len(value) > 40:
        raise ValueError(f"dashboard uid {value!r} is longer than 40 characters")
    return value


def _current(value: str, text: str | None = None) -> dm.VariableOption:
    return dm.VariableOption(selected=True, text=text or value, value=value)


def tag_variable(name: str, label: str, default: str, *, multi: bool = False) -> dash.QueryVariable:
    """A SHOW TAG VALUES variable (query text from queries.VARIABLE_QUERIES)."""
    v = (dash.QueryVariable(name).label(label).datasource(datasource_ref())
         .query(q.VARIABLE_QUERIES[name]).refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
         .sort(dm.VariableSort.ALPHABETICAL_ASC))
    if multi:
        v.multi(True).include_all(True).all_value(q.ALL_VALUE).current(
            dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
    else:
        v.current(_current(default))
    return v


def plant_variables(lang: Lang, *, area: bool = False, machine: bool = False,
                    output: bool = False) -> list[cogbuilder.Builder[dm.VariableModel]]:
    out: list[cogbuilder.Builder[dm.VariableModel]] = [
        tag_variable(q.VAR_ENTERPRISE, lang.t("Enterprise", "企业"),
                     DEFAULT_ENTERPRISE),
        tag_variable(q.VAR_SITE, lang.t("Site", "工厂"), DEFAULT_SITE),
    ]
    if area or machine:
        out.append(tag_variable(q.VAR_AREA, lang.t("Area", "车间"),
                                HARDWARE_AREA))
    if machine:
        out.append(tag_variable(q.VAR_MACHINE, lang.t("Machine", "设备"), "", multi=True))
    if output:
        out.append(dash.TextBoxVariable(q.VAR_DAILY_TARGET)
                   .label(lang.t("Daily target (units)", "日产量目标（台）"))
                   .default_value(str(q.DEFAULT_DAILY_TARGET))
                   .current(_current(str(q.DEFAULT_DAILY_TARGET))))
    return out


def frame(slug: str, lang: Lang, title: str, *, time_from: str, description: str,
          variables: Sequence[cogbuilder.Builder[dm.VariableModel]],
          refresh: str = REFRESH) -> dash.Dashboard:
    """A dark, auto-refreshing, read-only dashboard linked to its sibling screens."""
    return (dash.Dashboard(title).uid(uid(slug, lang)).description(description)
            .tags([TAG, f"{TAG}-{lang.code}"]).timezone("browser")
            .time(time_from, "now").refresh(refresh).readonly()
            .tooltip(dm.DashboardCursorSync.CROSSHAIR)
            .timepicker(dash.TimePicker().refresh_intervals(["5s", "10s", "30s", "1m"]))
            .variables(list(variables))
            .link(dash.DashboardLink(lang.t("Screens", "大屏"))
                  .type(dm.DashboardLinkType.DASHBOARDS).tags([f"{TAG}-{lang.code}"])
                  .as_dropdown(False).include_vars(True).keep_time(False)))
