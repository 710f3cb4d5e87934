"""Static checks of what the wall shows: banner, exact numbers, noValue, colours, tables and
bar gauges that fit their panel, and no untranslated word on a Chinese screen.

Each check takes one dashboard's JSON (and the plant it was built for) and returns
human-readable problems naming dashboard and panel; :mod:`dashboards.checks` runs them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from dashboards import panels as p
from dashboards.wall import Wall
from simulator.plant import Plant

BANNER_IDS = (101, 102, 103)
#: Panel types whose big number must be exact (no unit scaling) and say something when
#: there is no value.
BIG_NUMBER_TYPES = {"stat", "gauge"}
NO_VALUE_TYPES = {"stat", "gauge", "bargauge", "table", "timeseries", "piechart", "barchart",
                  "state-timeline"}
#: Smallest bar a bar gauge may draw, in pixels (readable from 4 m).
MIN_BAR_PX = 26
#: Words allowed in Latin letters on a Chinese screen: units, acronyms a Chinese plant
#: uses as they are, and variable references.
ZH_ALLOWED = {"OEE", "MTTR", "MTBF", "kWh", "kW", "InfluxDB", "MQTT", "A", "P", "Q"}
#: Wording a Chinese plant manager trips on -> what the wall says instead.
ZH_WORDING = {
    "计划停机": "losses are faults, changeovers, starving: 停机损失",
    "死信": "异常消息",
    "本班": "a rolling window is 近 N 小时, not the shift",
    "利用率": "the run / planned ratio is 时间开动率 everywhere",
}
#: Whole labels that are wrong (停机 inside 停机损失 is fine; as a state it is OFF: 关机).
ZH_LABELS = {"停机": "OFF is 关机"}
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_TEMPLATE = re.compile(r"\$\{[^}]*\}|\$\w+|<[^>]*>|&\w+;")


def _where(model: dict[str, Any], panel: dict[str, Any]) -> str:
    return f"{model.get('uid')} panel {panel.get('id')} {panel.get('title')!r}"


def check_banner(model: dict[str, Any]) -> list[str]:
    """Plant, screen name and clock (text), shift and data age on the top rows."""
    by_id = {pn.get("id"): pn for pn in model.get("panels", [])}
    missing = [i for i in BANNER_IDS if i not in by_id or by_id[i]["gridPos"]["y"] != 0]
    if missing:
        return [f"{model.get('uid')}: banner panels {missing} missing from the top row"]
    content = by_id[BANNER_IDS[0]].get("options", {}).get("content", "")
    problems = []
    if html.escape(model.get("title", "")) not in content or "${__to:date" not in content:
        problems.append(f"{model.get('uid')}: banner shows neither the screen's name nor "
                        "the clock")
    age = by_id[BANNER_IDS[2]]
    steps = age["fieldConfig"]["defaults"]["thresholds"]["steps"]
    if steps[0]["color"] != p.RED or not age["fieldConfig"]["defaults"].get("noValue"):
        problems.append(f"{_where(model, age)}: data age must turn red when stale")
    if age.get("timeFrom") != "60s":
        problems.append(f"{_where(model, age)}: data age window {age.get('timeFrom')} "
                        "is not 60 s")
    return problems


def check_numbers(model: dict[str, Any]) -> list[str]:
    """Big numbers exact (no "4 K", "¥36M") and every number panel says "no value"."""
    problems = []
    for pn in model.get("panels", []):
        defaults = (pn.get("fieldConfig") or {}).get("defaults") or {}
        unit = str(defaults.get("unit", ""))
        if (pn.get("type") in BIG_NUMBER_TYPES and unit not in p.EXACT_UNITS
                and not unit.startswith("time:")):
            problems.append(f"{_where(model, pn)}: unit {unit!r} scales the number "
                            f"(use one of {sorted(p.EXACT_UNITS)})")
        if pn.get("type") in NO_VALUE_TYPES and "noValue" not in defaults:
            problems.append(f"{_where(model, pn)}: no noValue (Grafana would say 'No data')")
    return problems


def _colours(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str) and (k in ("color", "fixedColor")
                                       or (k == "fixed" and v.startswith("#"))):
                yield v
            else:
                yield from _colours(v)
    elif isinstance(node, list):
        for v in node:
            yield from _colours(v)


def check_colours(model: dict[str, Any]) -> list[str]:
    """Every colour from the wall's palette; severities the same everywhere."""
    problems = []
    allowed = p.PALETTE | {"#ffffff", "#0b1a33", "#1f60c4", "#c7d0d9", ""}
    for pn in model.get("panels", []):
        for colour in set(_colours(pn.get("fieldConfig"))) | set(_colours(pn.get("options"))):
            if colour not in allowed:
                problems.append(f"{_where(model, pn)}: colour {colour} not in the palette")
        for m in _mappings(pn):
            for value, result in (m.get("options") or {}).items():
                want = p.SEVERITY_COLOURS.get(value) if isinstance(value, str) else None
                if want and result.get("color") not in (None, want):
                    problems.append(f"{_where(model, pn)}: severity {value} drawn "
                                    f"{result.get('color')}, the wall uses {want}")
    return problems


_VAR = re.compile(r"\$\{?(\w+)")
#: Grafana's own macros and built-in variables.
MACROS = {"timeFilter", "__timeFilter", "__interval", "interval", "__interval_ms", "__from",
          "__to", "col", "tag_machine", "tag_line", "tag_area", "tag_region", "tag_channel",
          "tag_severity", "tag_reason", "tag_collector"}


def check_variables(model: dict[str, Any]) -> list[str]:
    """Every variable a query or title uses is defined on the dashboard."""
    defined = {v.get("name") for v in (model.get("templating") or {}).get("list") or []}
    problems = []
    for pn in model.get("panels", []):
        texts = [t.get("query", "") for t in pn.get("targets") or []]
        texts += [pn.get("title", "")] + [t.get("alias", "") for t in pn.get("targets") or []]
        for name in sorted({m for text in texts for m in _VAR.findall(text)}):
            if name not in defined and name not in MACROS:
                problems.append(f"{_where(model, pn)}: uses ${name}, not defined here")
    return problems


def check_division(model: dict[str, Any]) -> list[str]:
    """A calculated ratio divides only rows whose divisor was kept > 0 (no Infinity/NaN)."""
    problems = []
    for pn in model.get("panels", []):
        kept: set[str] = set()
        for tr in pn.get("transformations") or []:
            opts = tr.get("options") or {}
            if tr.get("id") == "filterByValue" and opts.get("type") == "include":
                kept |= {f.get("fieldName") for f in opts.get("filters") or []
                         if (f.get("config") or {}).get("id") == "greater"
                         and (f["config"].get("options") or {}).get("value") == 0}
            binary = opts.get("binary") or {}
            if (tr.get("id") == "calculateField" and binary.get("operator") == "/"
                    and binary.get("right") not in kept):
                problems.append(f"{_where(model, pn)}: divides by {binary.get('right')!r} "
                                "without first keeping only rows where it is > 0")
    return problems


def _mappings(panel: dict[str, Any]) -> Iterator[dict[str, Any]]:
    fc = panel.get("fieldConfig") or {}
    yield from (fc.get("defaults") or {}).get("mappings") or []
    for o in fc.get("overrides") or []:
        for prop in o.get("properties") or []:
            if prop.get("id") == "mappings":
                yield from prop.get("value") or []


def _outer_select(query: str) -> str:
    depth, i = 0, len("SELECT ")
    for j in range(i, len(query)):
        c = query[j]
        depth += (c == "(") - (c == ")")
        if depth == 0 and query.startswith(" FROM ", j):
            return query[i:j]
    return ""


def _tail_group_tags(query: str) -> list[str]:
    depth, tail = 0, ""
    for c in query:
        depth += (c == "(") - (c == ")")
        tail = tail + c if depth == 0 and c not in "()" else ("" if depth else tail)
    m = re.search(r"GROUP BY (.*?)(?: fill\(\w+\))?(?: ORDER BY.*)?$", tail)
    return re.findall(r'"(\w+)"', m.group(1)) if m else []


def query_columns(query: str) -> list[str]:
    """Columns a table-format InfluxQL result has: Time, the GROUP BY tags, the fields."""
    fields = []
    for item in re.split(r",\s*(?![^()]*\))", _outer_select(query)):
        alias = re.search(r'AS "(\w+)"\s*$', item.strip())
        plain = re.fullmatch(r'"(\w+)"', item.strip())
        if alias or plain:
            fields.append((alias or plain).group(1))  # type: ignore[union-attr]
    return ["Time", *_tail_group_tags(query), *fields]


def table_columns(panel: dict[str, Any]) -> list[str]:
    """The columns a table panel shows, after its organize/calculate transformations."""
    cols: list[str] = []
    for t in panel.get("targets", []):
        cols += [c for c in query_columns(t.get("query", "")) if c not in cols]
    for tr in panel.get("transformations") or []:
        opts = tr.get("options") or {}
        if tr.get("id") == "organize":
            cols = [c for c in cols if not (opts.get("excludeByName") or {}).get(c)]
        elif tr.get("id") == "calculateField":
            cols = ([opts["alias"]] if opts.get("replaceFields") else [*cols, opts["alias"]])
    return cols


def _series_count(query: str, plant: Plant | None) -> int | None:
    """Bars a query yields: N of top()/bottom(), else the product of its tags' values."""
    ranked = re.search(r"(?:top|bottom)\([^)]*, (\d+)\)", query)
    if ranked:
        return int(ranked.group(1))
    tags = _tail_group_tags(query)
    if plant is None:
        return None
    sizes = {"severity": 3, "machine": len(plant.machines), "line": len(plant.lines),
             "area": len(plant.areas), "reason": 8, "collector": 1, "region": 8,
             "channel": 4}
    n = 1
    for tag in tags:
        n *= sizes.get(tag, 1)
    return n


def check_fit(model: dict[str, Any], plant: Plant | None) -> list[str]:
    """Tables only with the columns and rows that fit; bar gauges sized to their bars."""
    problems = []
    for pn in model.get("panels", []):
        pos = p.at(**{k: pn["gridPos"][k] for k in ("x", "y", "w", "h")})
        width, height = p.body_px(pos)
        if pn.get("type") == "table":
            cols = table_columns(pn)
            fixed = sum(int(v) for v in _custom_widths(pn))
            if (len(cols) - len(_custom_widths(pn))) * p.MIN_COLUMN_PX + fixed > width:
                problems.append(f"{_where(model, pn)}: {len(cols)} columns {cols} do not fit "
                                f"{width} px (Grafana: at least {p.MIN_COLUMN_PX} px each)")
            limits = [tr["options"].get("limitField") for tr in pn.get("transformations") or []
                      if tr.get("id") == "limit"]
            if not limits or int(limits[-1]) > p.table_rows_fit(pos):
                problems.append(f"{_where(model, pn)}: rows not limited to the "
                                f"{p.table_rows_fit(pos)} that fit")
        if pn.get("type") == "bargauge":
            bars = sum(_series_count(t.get("query", ""), plant) or 0
                       for t in pn.get("targets", []))
            vertical = (pn.get("options") or {}).get("orientation") == "vertical"
            room = width if vertical else height
            if bars * MIN_BAR_PX > room:
                problems.append(f"{_where(model, pn)}: {bars} bars need "
                                f"{bars * MIN_BAR_PX} px, the panel has {room}")
    return problems


def _custom_widths(panel: dict[str, Any]) -> list[int]:
    out = []
    for o in (panel.get("fieldConfig") or {}).get("overrides") or []:
        for prop in o.get("properties") or []:
            if prop.get("id") == "custom.width":
                out.append(int(prop["value"]))
    return out


def _visible_strings(model: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) of every string a viewer can see on the wall."""
    yield model.get("uid", ""), model.get("title", "")
    for pn in model.get("panels", []):
        w = _where(model, pn)
        yield w, pn.get("title", "")
        yield w, (pn.get("options") or {}).get("content", "")
        fc = pn.get("fieldConfig") or {}
        yield w, str((fc.get("defaults") or {}).get("noValue", ""))
        yield w, str((fc.get("defaults") or {}).get("displayName", ""))
        for o in fc.get("overrides") or []:
            for prop in o.get("properties") or []:
                if prop.get("id") == "displayName":
                    yield w, str(prop.get("value", ""))
        for m in _mappings(pn):
            opts = m.get("options") or {}
            results = [opts.get("result") or {}] if "result" in opts else list(opts.values())
            for r in results:
                if isinstance(r, dict):
                    yield w, str(r.get("text", ""))
        for e in ((pn.get("options") or {}).get("root") or {}).get("elements") or []:
            txt = (e.get("config") or {}).get("text") or {}
            yield w, str(txt.get("fixed", ""))
        for t in pn.get("targets") or []:
            alias = str(t.get("alias", ""))
            if alias and "$" not in alias:
                yield w, alias


def check_zh(model: dict[str, Any], plant: Plant | None) -> list[str]:
    """No Latin word on a Chinese screen except units, acronyms, machine ids and fault codes
    (names a technician needs: the HMI shows them) and names the plant file gives in one
    language only."""
    if not str(model.get("uid", "")).endswith("-zh"):
        return []
    ids = {m.id for m in plant.machines} if plant else set()
    if plant is not None:
        ids |= {f.code for mt in plant.types.values() for f in mt.faults}
        ids |= {w for name in Wall.of("zh", plant).untranslated() for w in _WORD.findall(name)}
    problems = []
    for where, text in _visible_strings(model):
        for bad, use in ZH_WORDING.items():
            if bad in text:
                problems.append(f"{where}: wording {bad!r} in {text[:60]!r} ({use})")
        if text in ZH_LABELS:
            problems.append(f"{where}: wording {text!r} ({ZH_LABELS[text]})")
        for word in _WORD.findall(_TEMPLATE.sub(" ", text)):
            if word not in ZH_ALLOWED and word not in ids and not re.fullmatch(
                    r"[A-Z]{1,4}\d*|\d\w*", word):
                problems.append(f"{where}: untranslated {word!r} in {text[:60]!r}")
    return problems


def check_wall(model: dict[str, Any], plant: Plant | None = None) -> list[str]:
    return [*check_banner(model), *check_numbers(model), *check_colours(model),
            *check_division(model), *check_variables(model), *check_fit(model, plant),
            *check_zh(model, plant)]

