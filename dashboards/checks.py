"""Static checks over built dashboard JSON: what can be proven without a Grafana.

Each check returns human-readable problems (empty when fine), naming dashboard and panel.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboards.influxql import DATASOURCE_UID
from dashboards.panels import GRID_COLUMNS, SCREEN_ROWS
from dashboards.queries import GROUP_BY_TIME, GROUP_BY_TIME_RE, TIME_FILTER, all_queries
from dashboards.wallchecks import check_wall
from simulator.plant import Plant
from telemetry.contract import STATE_COLOURS, MachineState

MAX_UID_LEN = 40
#: Panel types that show numbers and so must declare a unit.
NUMERIC_TYPES = {"stat", "gauge", "bargauge", "timeseries", "piechart", "barchart",
                 "state-timeline", "canvas", "table"}
#: Panel types whose queries must be time series grouped by time($__interval).
TIME_SERIES_TYPES = {"timeseries", "state-timeline"}
MIN_REFRESH_S, MAX_REFRESH_S = 5, 10


def _where(model: dict[str, Any], panel: dict[str, Any] | None = None) -> str:
    base = f"{model.get('uid')}"
    return f"{base} panel {panel.get('id')} {panel.get('title')!r}" if panel else base


def _refresh_s(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text and text[-1] in units else -1


def panel_rows(panel: dict[str, Any], repeat_counts: dict[str, int]) -> int:
    """Grid rows a panel takes, counting the rows a horizontal repeat expands into."""
    h = int(panel["gridPos"]["h"])
    var = panel.get("repeat")
    if var and panel.get("repeatDirection", "h") == "h":
        per_row = int(panel.get("maxPerRow") or GRID_COLUMNS // int(panel["gridPos"]["w"]))
        n = repeat_counts.get(var, 1)
        return -(-n // per_row) * h
    return h


def check_dashboard(model: dict[str, Any], repeat_counts: dict[str, int] | None = None
                    ) -> list[str]:
    problems: list[str] = []
    repeat_counts = repeat_counts or {}
    uid = model.get("uid")
    if not isinstance(uid, str) or not 1 <= len(uid) <= MAX_UID_LEN:
        problems.append(f"{uid!r}: uid must be 1-{MAX_UID_LEN} characters")
    refresh = _refresh_s(str(model.get("refresh", "")))
    if not MIN_REFRESH_S <= refresh <= MAX_REFRESH_S:
        problems.append(f"{_where(model)}: refresh {model.get('refresh')!r} is not 5-10 s")
    known = {q.influxql for q in all_queries().values()}
    ids: set[int] = set()
    cells: dict[tuple[int, int], Any] = {}
    for var in model.get("templating", {}).get("list", []):
        ds = var.get("datasource")
        if ds is not None and ds.get("uid") != DATASOURCE_UID:
            problems.append(f"{_where(model)} variable {var['name']}: datasource {ds}")
    for panel in model.get("panels", []):
        where = _where(model, panel)
        pid = panel.get("id")
        if not isinstance(pid, int) or pid in ids:
            problems.append(f"{where}: panel id missing or duplicated")
        else:
            ids.add(pid)
        pos = panel.get("gridPos") or {}
        x, y, w = int(pos.get("x", -1)), int(pos.get("y", -1)), int(pos.get("w", 0))
        rows = panel_rows(panel, repeat_counts) if pos else 0
        if x < 0 or y < 0 or w <= 0 or rows <= 0 or x + w > GRID_COLUMNS:
            problems.append(f"{where}: gridPos {pos} outside the {GRID_COLUMNS}-column grid")
        elif y + rows > SCREEN_ROWS:
            problems.append(f"{where}: ends at row {y + rows}, below one 1080p screen "
                            f"({SCREEN_ROWS} rows)")
        for cx in range(max(x, 0), max(x, 0) + max(w, 0)):
            for cy in range(max(y, 0), max(y, 0) + max(rows, 0)):
                if (cx, cy) in cells:
                    problems.append(f"{where}: overlaps panel {cells[(cx, cy)]}")
                    break
                cells[(cx, cy)] = pid
            else:
                continue
            break
        if panel.get("type") == "text":
            continue
        ds = panel.get("datasource") or {}
        if ds.get("uid") != DATASOURCE_UID:
            problems.append(f"{where}: datasource {ds} is not {DATASOURCE_UID!r}")
        defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
        if panel.get("type") in NUMERIC_TYPES and not defaults.get("unit"):
            problems.append(f"{where}: numeric panel without a unit")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: no queries")
        for t in targets:
            tds = t.get("datasource") or {}
            if tds.get("uid") != DATASOURCE_UID:
                problems.append(f"{where} query {t.get('refId')}: datasource {tds}")
            query = t.get("query", "")
            if query not in known:
                problems.append(f"{where} query {t.get('refId')}: not from dashboards/queries/")
            if TIME_FILTER not in query:
                problems.append(f"{where} query {t.get('refId')}: no {TIME_FILTER}")
            if panel.get("type") in TIME_SERIES_TYPES and not GROUP_BY_TIME_RE.search(query):
                problems.append(f"{where} query {t.get('refId')}: time series without "
                                f"{GROUP_BY_TIME}")
        hidden = {k for tr in panel.get("transformations") or [] if tr.get("id") == "organize"
                  for k, v in ((tr.get("options") or {}).get("excludeByName") or {}).items()
                  if v}
        if "state_code" not in hidden and any(
                '"state_code"' in t.get("query", "") and 'count("state_code")' not in
                t.get("query", "") for t in targets):
            problems.extend(f"{where}: {p}" for p in _state_mapping_problems(defaults))
    return problems


def _state_mapping_problems(defaults: dict[str, Any]) -> list[str]:
    options: dict[str, Any] = {}
    for m in defaults.get("mappings") or []:
        if m.get("type") == "value":
            options.update(m.get("options") or {})
    problems = []
    for s in MachineState:
        got = options.get(str(int(s)))
        if got is None:
            problems.append(f"no value mapping for machine state {s.name} ({int(s)})")
        elif got.get("color") != STATE_COLOURS[s]:
            problems.append(f"state {s.name} mapped to colour {got.get('color')}, "
                            f"contract says {STATE_COLOURS[s]}")
    return problems


def check_all(models: Iterable[dict[str, Any]], repeat_counts: dict[str, int] | None = None,
              plant: Plant | None = None) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for model in models:
        uid = str(model.get("uid"))
        if uid in seen:
            problems.append(f"{uid}: duplicate dashboard uid")
        seen.add(uid)
        problems.extend(check_dashboard(model, repeat_counts))
        problems.extend(check_wall(model, plant))
    return problems
