"""The generated dashboards: committed JSON up to date, static checks, both languages."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from dashboards.build import BOARDS, JSON_DIR, SCREENS, Built, build_all, repeat_counts, stale
from dashboards.checks import check_all, check_dashboard
from dashboards.floorplan import canvas_elements, zones
from dashboards.influxql import DATASOURCE_UID
from dashboards.queries import all_queries
from dashboards.wall import Wall, load
from telemetry.contract import MachineState


@pytest.fixture(scope="module")
def built() -> list[Built]:
    return build_all()


def _by(built: list[Built], lang: str, slug: str) -> dict[str, Any]:
    return next(b.model for b in built if b.lang == lang and b.slug == slug)


def test_committed_json_is_what_the_code_generates(built: list[Built]) -> None:
    assert stale(built) == [], "run `factory-dashboards build` and commit dashboards/json"
    on_disk = sorted(p.relative_to(JSON_DIR).as_posix() for p in JSON_DIR.rglob("*.json"))
    assert on_disk == sorted(f"{b.lang}/{b.slug}.json" for b in built)


def test_six_screens_in_two_languages_pass_the_static_checks(built: list[Built]) -> None:
    assert len(built) == 2 * len(BOARDS) == 14
    # with the plant, as `factory-dashboards check` runs it: machine ids and fault codes
    # are names a technician needs, allowed on a Chinese screen
    assert check_all([b.model for b in built], repeat_counts(), load()) == []


def test_uids_are_unique_and_short(built: list[Built]) -> None:
    uids = [b.uid for b in built]
    assert len(set(uids)) == len(uids)
    assert all(len(u) <= 40 for u in uids)


def test_every_panel_query_comes_from_the_query_module(built: list[Built]) -> None:
    used = {t["query"] for b in built for p in b.model["panels"] for t in p.get("targets", [])}
    known = {q.influxql for q in all_queries().values()}
    assert used == known, sorted(known - used)


def test_english_and_chinese_share_structure_but_not_words(built: list[Built]) -> None:
    for slug in SCREENS:
        en, zh = _by(built, "en", slug), _by(built, "zh", slug)

        def shape(m: dict[str, Any]) -> list[tuple[Any, ...]]:
            return [(p["id"], p["type"], json.dumps(p["gridPos"], sort_keys=True),
                     tuple(t["query"] for t in p.get("targets", []))) for p in m["panels"]]

        assert shape(en) == shape(zh)
        assert en["uid"] == slug and zh["uid"] == f"{slug}-zh"
        assert re.search(r"[\u4e00-\u9fff]", zh["title"]) and not re.search(
            r"[\u4e00-\u9fff]", en["title"])
        for pe, pz in zip(en["panels"], zh["panels"], strict=True):
            if pe["title"] not in ("$machine", ""):
                assert pe["title"] != pz["title"], pe["title"]


def test_screen_titles_name_the_source_views(built: list[Built]) -> None:
    titles = {b.model["title"] for b in built if b.lang == "zh"}
    assert {"五金车间设备运行情况", "设备检修进度"} <= titles


def test_big_screen_settings(built: list[Built]) -> None:
    for b in built:
        m = b.model
        assert "style" not in m  # the theme is Grafana's configuration (dark), not the JSON
        assert m["schemaVersion"] >= 41  # the SDK's 11.6 flavour, unpatched
        assert m["refresh"] in ("5s", "10s")
        assert m["editable"] is False
        assert {"factory", f"factory-{b.lang}"} <= set(m["tags"])
        assert m["links"][0]["tags"] == [f"factory-{b.lang}"]


def test_floor_plan_shows_every_machine_of_the_plant_inside_the_panel(
        built: list[Built]) -> None:
    plant = load()
    canvas = next(p for p in _by(built, "en", "plant-overview")["panels"]
                  if p["type"] == "canvas")
    elements = canvas["options"]["root"]["elements"]
    boxes = {e["name"]: e for e in elements if "field" in e["background"]["color"]}
    assert set(boxes) == {m.id for m in plant.machines} and len(boxes) == 126
    assert all(e["background"]["color"]["field"] == name for name, e in boxes.items())
    # An area is a zone with its name on it.
    texts = {e["config"]["text"].get("fixed") for e in elements}
    assert {a.name for a in plant.areas} <= texts
    from simulator.plant import load_plant

    for scaled, size in ((plant, (1250, 432)), (plant, (900, 360)),
                         (load_plant(scale=4), (1250, 432))):  # 504 machines
        wall = Wall.of("en", scaled)
        placed = [e["placement"] for e in canvas_elements(
            zones(scaled.areas, wall.area_name, wall.line_name), *size, "Offline")
            if not e["name"].startswith(("zone ", "label "))]
        assert len(placed) == len(scaled.machines)
        for pl in placed:
            assert pl["left"] >= 0 and pl["left"] + pl["width"] <= size[0]
            assert pl["top"] >= 0 and pl["top"] + pl["height"] <= size[1]
        for i, a in enumerate(placed):  # no two machines overlap
            for b in placed[i + 1:]:
                assert (a["left"] + a["width"] <= b["left"] or b["left"] + b["width"] <= a["left"]
                        or a["top"] + a["height"] <= b["top"]
                        or b["top"] + b["height"] <= a["top"]), (a, b)


def test_state_timeline_has_one_row_per_machine_and_every_state(built: list[Built]) -> None:
    eq = _by(built, "en", "equipment-status")
    timeline = next(p for p in eq["panels"] if p["type"] == "state-timeline")
    assert 'GROUP BY time($__interval), "machine"' in timeline["targets"][0]["query"]
    assert timeline["targets"][0]["alias"] == "$tag_machine"
    options = timeline["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert set(options) == {str(int(s)) for s in MachineState}
    tile = next(p for p in eq["panels"] if p.get("repeat"))
    assert tile["repeat"] == "machine" and tile["maxPerRow"] == 12


def _first(model: dict[str, Any], ptype: str) -> dict[str, Any]:
    return next(p for p in model["panels"] if p["type"] == ptype)


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda m: _first(m, "stat")["gridPos"].update(x=22, w=4), "24-column"),
    (lambda m: _first(m, "stat")["gridPos"].update(y=26), "below one 1080p"),
    (lambda m: _first(m, "gauge")["fieldConfig"]["defaults"].pop("unit"), "without a unit"),
    (lambda m: _first(m, "stat").update(datasource={"uid": "other"}), "datasource"),
    (lambda m: _first(m, "timeseries")["targets"][0].update(
        query=_first(m, "timeseries")["targets"][0]["query"].replace(
            "GROUP BY time($__interval)", "GROUP BY time(1m)")), "GROUP BY time($__interval)"),
    (lambda m: _first(m, "stat")["targets"][0].update(
        query=_first(m, "stat")["targets"][0]["query"].replace(" AND $timeFilter", "")),
     "$timeFilter"),
    (lambda m: _first(m, "canvas")["fieldConfig"]["defaults"]["mappings"][0]["options"].pop("4"),
     "FAULT"),
    (lambda m: _first(m, "stat").update(id=2), "duplicated"),
    (lambda m: m.update(refresh="1m"), "refresh"),
    (lambda m: m.update(uid="x" * 41), "uid"),
])
def test_static_checks_catch_broken_dashboards(built: list[Built], mutate: Any,
                                               expected: str) -> None:
    model = copy.deepcopy(_by(built, "en", "plant-overview"))
    assert check_dashboard(model) == []
    mutate(model)
    problems = check_dashboard(model)
    assert any(expected in p for p in problems), problems


def test_repeat_that_overflows_the_screen_is_caught(built: list[Built]) -> None:
    eq = _by(built, "en", "equipment-status")
    assert check_dashboard(eq, {"machine": 30}) == []
    assert any("1080p" in p or "overlaps" in p for p in check_dashboard(eq, {"machine": 80}))


def test_provisioning_files() -> None:
    import yaml

    root = Path(__file__).resolve().parents[3] / "dashboards" / "provisioning"
    v2 = yaml.safe_load((root / "datasources" / "influxdb.yaml").read_text())
    v1 = yaml.safe_load((root / "alternatives" / "influxdb-v1.yaml").read_text())
    for doc in (v1, v2):
        (ds,) = doc["datasources"]
        assert ds["uid"] == DATASOURCE_UID and ds["type"] == "influxdb"
        assert ds["jsonData"]["version"] == "InfluxQL"
        assert ds["url"] == "${FACTORY_INFLUX_URL}"
        assert ds["jsonData"]["dbName"] == "${FACTORY_INFLUX_DB}"
    (ds2,) = v2["datasources"]
    assert ds2["jsonData"]["httpHeaderName1"] == "Authorization"
    assert ds2["secureJsonData"]["httpHeaderValue1"] == "Token ${INFLUX_READ_TOKEN}"
    (ds1,) = v1["datasources"]
    assert ds1["user"] == "${FACTORY_INFLUX_READ_USER}"
    assert ds1["secureJsonData"]["password"] == "${FACTORY_INFLUX_READ_PASSWORD}"
    prov = yaml.safe_load((root / "dashboards" / "factory.yaml").read_text())
    paths = {p["options"]["path"] for p in prov["providers"]}
    assert paths == {"/var/lib/grafana/dashboards/en", "/var/lib/grafana/dashboards/zh"}
    # Only Grafana's own provisioning folders are read when the whole tree is mounted.
    assert {p.name for p in root.iterdir() if p.is_dir()} == {
        "datasources", "dashboards", "alerting", "alternatives"}
