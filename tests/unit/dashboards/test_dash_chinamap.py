"""The schematic China map: its blocks, the files Grafana serves, and the Geomap panel."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from grafana_foundation_sdk.builders import dashboard as dash

from dashboards import chinamap
from dashboards.build import to_model
from dashboards.i18n import Lang
from dashboards.panels import at
from simulator.plant import load_plant

ROOT = Path(__file__).resolve().parents[3]


DEMO = load_plant().business.regions


def test_committed_map_files_are_the_generated_ones() -> None:
    for name, text in chinamap.files(DEMO).items():
        assert (chinamap.MAPS_DIR / name).read_text(encoding="utf-8") == text, \
            "run: python -m dashboards.chinamap"


def test_eight_blocks_that_do_not_overlap_roughly_where_the_regions_are() -> None:
    tiles = {t.id: t for t in chinamap.TILES}
    assert len(tiles) == 8
    for a in chinamap.TILES:
        assert a.west < a.east and a.south < a.north
        for b in chinamap.TILES:
            if a.id < b.id:
                overlap = (min(a.east, b.east) - max(a.west, b.west) > 0
                           and min(a.north, b.north) - max(a.south, b.south) > 0)
                assert not overlap, (a.id, b.id)
    lon = {k: t.centre[0] for k, t in tiles.items()}
    lat = {k: t.centre[1] for k, t in tiles.items()}
    assert lon["northwest"] < lon["north"] < lon["northeast"] < lon["overseas"]
    assert lon["southwest"] < lon["central"] < lon["east"]
    assert lat["south"] < lat["central"] < lat["north"] < lat["northeast"]
    assert lat["southwest"] < lat["northwest"]


def test_every_region_of_the_demo_plant_lands_in_its_block() -> None:
    points = {p["key"]: p for p in chinamap.gazetteer(DEMO)}
    domestic = [r for r in DEMO if r.map is not None]
    assert set(points) == {r.name for r in domestic} and len(domestic) == 7
    tiles = {t.id: t for t in chinamap.TILES}
    for r in domestic:
        t, p = tiles[r.map or ""], points[r.name]
        assert t.west < p["longitude"] < t.east and t.south < p["latitude"] < t.north
        assert p["keys"] == [r.name, r.name_zh]
    blocks = chinamap.regions_geojson(DEMO)["features"]
    assert {f["id"] for f in blocks} == {r.map for r in domestic}  # Overseas: off the map
    east = next(f for f in blocks if f["id"] == "east")["properties"]
    assert (east["name"], east["name_zh"]) == ("East China", "华东")


def test_another_plants_regions_label_the_blocks_and_unknown_ones_stay_off() -> None:
    regions = [SimpleNamespace(name="Export", name_zh="出口", map=None),
               SimpleNamespace(name="Rhône-Alpes", name_zh="罗讷-阿尔卑斯", map="east"),
               SimpleNamespace(name="Mars", name_zh="火星", map="mars"),
               SimpleNamespace(name="Abroad", name_zh="海外", map="overseas")]
    assert [p["key"] for p in chinamap.gazetteer(regions)] == ["Rhône-Alpes", "Abroad"]
    labels = {f["id"]: f["properties"]["name_zh"]
              for f in chinamap.regions_geojson(regions)["features"]}
    assert labels == {"east": "罗讷-阿尔卑斯", "overseas": "海外"}


def test_the_geojson_is_closed_counter_clockwise_polygons_with_both_names() -> None:
    doc = json.loads((chinamap.MAPS_DIR / chinamap.REGIONS_FILE).read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    for f in doc["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon" and ring[0] == ring[-1]
        area2 = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring))
        assert area2 > 0  # RFC 7946: exterior rings counter-clockwise
        assert {"id", "name", "name_zh"} <= set(f["properties"])


@pytest.mark.parametrize("code", ["en", "zh"])
def test_the_panel_draws_the_served_files(code: str) -> None:
    lang = Lang(code)  # type: ignore[arg-type]
    board = dash.Dashboard("t").uid("t").with_panel(
        chinamap.china_map_panel(1, "map", at(0, 0, 10, 12), lang))
    panel = to_model(board)["panels"][0]
    assert panel["type"] == "geomap"
    opts = panel["options"]
    base, (markers,) = opts["basemap"], opts["layers"]
    assert base["type"] == "geojson" and markers["type"] == "markers"
    served = {f"{chinamap.PUBLIC_PATH}/{n}": n for n in chinamap.files(DEMO)}
    assert served[base["config"]["src"]] == chinamap.REGIONS_FILE
    assert served[markers["location"]["gazetteer"]] == chinamap.GAZETTEER_FILE
    assert markers["location"] == {"mode": "lookup", "lookup": "region",
                                   "gazetteer": markers["location"]["gazetteer"]}
    assert base["config"]["style"]["text"]["field"] == ("name" if code == "en" else "name_zh")
    assert "region" in panel["targets"][0]["query"] and \
        panel["targets"][0]["resultFormat"] == "table"
    # the compose Grafana serves dashboards/maps at public/maps/factory
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "./dashboards/maps:/usr/share/grafana/public/maps/factory:ro" in \
        compose["services"]["grafana"]["volumes"]


def test_build_writes_and_checks_the_map_files_with_the_json(tmp_path: Path) -> None:
    from dashboards.cli import main

    out = tmp_path / "wall"
    assert main(["build", "--lang", "en", "--out", str(out)]) == 0
    assert (out / "maps" / chinamap.GAZETTEER_FILE).read_text(encoding="utf-8") == \
        chinamap.files(DEMO)[chinamap.GAZETTEER_FILE]
    assert main(["build", "--lang", "en", "--out", str(out), "--check"]) == 0
    (out / "maps" / chinamap.REGIONS_FILE).write_text("{}", encoding="utf-8")
    assert main(["build", "--lang", "en", "--out", str(out), "--check"]) == 1
    assert chinamap.maps_dir_for(chinamap.MAPS_DIR.parent / "json") == chinamap.MAPS_DIR
