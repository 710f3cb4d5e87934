"""Tables more than one screen shows."""

from __future__ import annotations

from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import panels as p
from dashboards.queries import PanelQuery
from dashboards.wall import Wall

#: The columns of the compact work-order table (a third of the screen wide).
COMPACT = ("machine", "status_code", "progress_pct", "technician")


def work_order_table(pid: int, title: str, pos: dm.GridPos, query: PanelQuery,
                     wall: Wall, *, compact: bool = False) -> table.Panel:
    """Work orders, open and in progress first: a coloured status column and a 0-100 %
    progress gauge column. `compact` keeps the four columns a narrow panel can show."""
    t = wall.t
    columns = {"wo_id": t("Work order", "工单号"), "machine": t("Machine", "设备"),
               "area": t("Area", "车间"), "status_code": t("Status", "状态"),
               "progress_pct": t("Progress", "进度"), "technician": t("Technician", "维修员"),
               "fault_code": t("Fault", "故障"), "opened_ts": t("Opened", "开单时间")}
    hidden = {k: True for k in columns if compact and k not in COMPACT}
    return (p.table_panel(pid, title, pos, p.targets(query))
            .no_value(t("None", "无"))
            .transformations([
                p.transformation("merge", {}),
                p.transformation("organize", {
                    "excludeByName": {"Time": True, **hidden},
                    "indexByName": {k: i for i, k in enumerate(columns)},
                }),
                p.transformation("sortBy", {"sort": [{"field": "status_code"}]}),
                p.limit_rows(pos),
            ])
            .overrides([
                *[p.field_props(k, displayName=v) for k, v in columns.items()
                  if k not in ("status_code", "progress_pct", "opened_ts", "area",
                               "fault_code", "technician")],
                # The technician's name in the wall's language, from the plant's crew.
                p.field_props("technician", displayName=columns["technician"],
                              mappings=wall.technician_mappings()),
                p.field_props("area", displayName=columns["area"],
                              mappings=wall.area_mappings()),
                p.field_props("fault_code", displayName=columns["fault_code"],
                              mappings=wall.fault_mappings()),
                p.field_props("status_code", displayName=columns["status_code"],
                              mappings=p.work_order_mappings(wall.lang),
                              custom__cellOptions={"type": "color-background",
                                                   "mode": "basic"}),
                p.field_props("progress_pct", displayName=columns["progress_pct"],
                              unit="percent", min=0, max=100, decimals=0,
                              custom__cellOptions={"type": "gauge", "mode": "gradient",
                                                   "valueDisplayMode": "text"},
                              thresholds={"mode": "absolute", "steps": [
                                  {"value": None, "color": p.RED},
                                  {"value": 50, "color": p.AMBER},
                                  {"value": 100, "color": p.GREEN}]}),
                p.field_props("opened_ts", displayName=columns["opened_ts"],
                              unit="dateTimeAsLocal"),
            ]))


#: Alarm severities by name, English and Chinese.
SEVERITY_NAMES = {"info": ("Info", "提示"), "warning": ("Warning", "警告"),
                  "critical": ("Critical", "严重")}


def alarm_event_columns(wall: Wall, active_title: tuple[str, str] = ("Active", "状态")
                        ) -> list[p.Override]:
    """An alarm table's ``active`` (raised / cleared) and ``severity`` columns, coloured
    the same on every screen."""
    t = wall.t
    return [
        p.field_props("active", displayName=t(*active_title), mappings=[
            dm.ValueMap(options={
                "true": dm.ValueMappingResult(text=t("raised", "报警"), color=p.RED),
                "false": dm.ValueMappingResult(text=t("cleared", "已解除"),
                                                 color=p.GREEN)})],
                      custom__cellOptions={"type": "color-text"}),
        p.field_props("severity", displayName=t("Severity", "级别"), mappings=[
            dm.ValueMap(options={
                s: dm.ValueMappingResult(text=t(*SEVERITY_NAMES[s]), color=c)
                for s, c in p.SEVERITY_COLOURS.items()})],
                      custom__cellOptions={"type": "color-background", "mode": "basic"}),
    ]
