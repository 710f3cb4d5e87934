"""Sales by region as a schematic map of China: a Grafana Geomap panel and its two files.

Not a map with borders: the eight sales regions are blocks laid out roughly where they
are (north-west top left, north-east top right, south at the bottom, overseas off the
east coast). That reads better across a room than province outlines and avoids the
question of the official standard map's borders (标准地图), which a map shown in China must
follow. The geometry is written here, in :data:`TILES` (longitude/latitude boxes), and
nowhere else.

Two files go to Grafana, mounted at ``public/maps/factory/`` (Grafana serves its
``public/`` folder as static files; the compose stack mounts ``dashboards/maps`` there):

- ``china-regions.geojson``: one polygon per tile, properties ``id``, ``name``, ``name_zh``;
  the Geomap panel draws it as its base layer (no map tiles from the internet);
- ``sales-regions.json``: a gazetteer (Grafana's ``[{key, keys, latitude, longitude,
  name}]`` lookup format) from each sales region's ``region`` tag value to the centre of
  its tile, so the panel's marker layer places every region's sales on its block.

Which block a region sits on comes from the plant (``business.regions[].map``); only the
blocks the plant's regions use are drawn, labelled with the regions' names. A region
without a block (the demo plant's Overseas) is left off the map. ``python -m
dashboards.chinamap [--plant FILE]`` writes the files.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import geomap
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import geomap as gm

from dashboards import detail_queries as dq
from dashboards import panels as p
from dashboards.i18n import Lang
from dashboards.influxql import InfluxQLTarget, datasource_ref
from simulator.plant import load_plant

MAPS_DIR = Path(__file__).resolve().parent / "maps"
#: Where Grafana serves the two files (compose: ./dashboards/maps mounted there).
PUBLIC_PATH = "public/maps/factory"
REGIONS_FILE = "china-regions.geojson"
GAZETTEER_FILE = "sales-regions.json"
#: Space between neighbouring blocks, degrees.
GAP = 0.5


@dataclass(frozen=True)
class Tile:
    id: str
    name: str
    name_zh: str
    west: float
    south: float
    east: float
    north: float

    @property
    def centre(self) -> tuple[float, float]:
        """(longitude, latitude) of the block's middle."""
        return ((self.west + self.east) / 2, (self.south + self.north) / 2)

    def ring(self) -> list[list[float]]:
        """The block, shrunk by half the gap on every side, counter-clockwise (RFC 7946)."""
        w, s, e, n = (self.west + GAP / 2, self.south + GAP / 2,
                      self.east - GAP / 2, self.north - GAP / 2)
        return [[w, s], [e, s], [e, n], [w, n], [w, s]]


#: The schematic map: eight blocks, roughly where the regions are.
TILES: tuple[Tile, ...] = (
    Tile("northwest", "Northwest", "西北", 86, 37, 100, 45),
    Tile("north", "North", "华北", 100, 37, 111, 44),
    Tile("northeast", "Northeast", "东北", 111, 40, 122, 46),
    Tile("southwest", "Southwest", "西南", 89, 27, 100, 37),
    Tile("central", "Central", "华中", 100, 29, 109, 37),
    Tile("east", "East", "华东", 109, 29, 118, 37),
    Tile("south", "South", "华南", 100, 21, 112, 29),
    Tile("overseas", "Overseas", "海外", 121, 24, 130, 32),
)
TILE_IDS = tuple(t.id for t in TILES)


class Region(Protocol):
    """A sales region as the plant names it (``simulator.plant_business.Share``)."""

    @property
    def name(self) -> str: ...  # the `region` tag value
    @property
    def name_zh(self) -> str: ...
    @property
    def map(self) -> str | None: ...  # a block id of :data:`TILES`, or None


def placed(regions: Sequence[Region]) -> list[tuple[Region, Tile]]:
    """The regions that have a block, with it. A region without ``map``, or naming a
    block this map does not have, stays off the map (the ranking still lists it)."""
    tiles = {t.id: t for t in TILES}
    return [(r, tiles[r.map]) for r in regions if r.map in tiles]


def regions_geojson(regions: Sequence[Region]) -> dict[str, Any]:
    """The blocks the plant's regions use, labelled with the regions' names."""
    features, seen = [], set()
    for r, t in placed(regions):
        if t.id in seen:
            continue
        seen.add(t.id)
        features.append({
            "type": "Feature", "id": t.id,
            "properties": {"id": t.id, "name": r.name, "name_zh": r.name_zh},
            "geometry": {"type": "Polygon", "coordinates": [t.ring()]}})
    return {"type": "FeatureCollection", "features": features}


def gazetteer(regions: Sequence[Region]) -> list[dict[str, Any]]:
    """Grafana's legacy gazetteer list: each region's tag value -> its block's centre."""
    out = []
    for r, t in placed(regions):
        lon, lat = t.centre
        out.append({"key": r.name, "keys": [r.name, r.name_zh], "name": r.name,
                    "latitude": lat, "longitude": lon})
    return out


def _dump(data: object) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def files(regions: Sequence[Region]) -> dict[str, str]:
    """File name -> text of both map files for a plant's regions."""
    return {REGIONS_FILE: _dump(regions_geojson(regions)),
            GAZETTEER_FILE: _dump(gazetteer(regions))}


def stale(regions: Sequence[Region], out_dir: Path = MAPS_DIR) -> list[Path]:
    """Map files under `out_dir` that differ from (or are missing for) the plant's."""
    return [out_dir / name for name, text in files(regions).items()
            if not (out_dir / name).exists()
            or (out_dir / name).read_text(encoding="utf-8") != text]


def maps_dir_for(json_dir: Path) -> Path:
    """Where the map files go beside a build's JSON: the repo's ``dashboards/maps`` for
    the committed JSON, else ``<out>/maps``."""
    return MAPS_DIR if json_dir.resolve() == (MAPS_DIR.parent / "json") else json_dir / "maps"


def write(regions: Sequence[Region], out_dir: Path = MAPS_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files(regions).items():
        path = out_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _style(opacity: float, **extra: Any) -> dict[str, Any]:
    return {"opacity": opacity, "lineWidth": 2,
            "rotation": {"fixed": 0, "min": -360, "max": 360, "mode": "mod"},
            "symbolAlign": {"horizontal": "center", "vertical": "center"}, **extra}


def china_map_panel(pid: int, title: str, pos: dm.GridPos, lang: Lang, *,
                    unit: str = "currencyCNY", time_from: str | None = None) -> geomap.Panel:
    """The Geomap panel: blocks as the base layer, a marker per region sized by sales."""
    label = "name" if lang.code == "en" else "name_zh"
    base = (cb.MapLayerOptions().type("geojson").name(lang.t("Regions", "区域")).config({
        "src": f"{PUBLIC_PATH}/{REGIONS_FILE}", "rules": [],
        "style": _style(0.35, color={"fixed": p.BLUE},
                        text={"mode": "field", "field": label, "fixed": ""},
                        textConfig={"fontSize": 18, "offsetX": 0, "offsetY": -28,
                                    "textAlign": "center", "textBaseline": "middle"})}))
    markers = (
        cb.MapLayerOptions().type("markers").name(lang.t("Sales", "销售额")).tooltip(True)
        .location(cb.FrameGeometrySource().mode(cm.FrameGeometrySourceMode.LOOKUP)
                  .lookup("region").gazetteer(f"{PUBLIC_PATH}/{GAZETTEER_FILE}"))
        .config({"showLegend": False, "style": _style(
            0.9, color={"fixed": p.GREEN},
            size={"field": "amount", "fixed": 10, "min": 14, "max": 44},
            symbol={"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
            text={"mode": "field", "field": "amount", "fixed": ""},
            textConfig={"fontSize": 16, "offsetX": 0, "offsetY": 22,
                        "textAlign": "center", "textBaseline": "middle"})}))
    panel = (geomap.Panel().id(pid).title(title).grid_pos(pos).datasource(datasource_ref())
         .targets([InfluxQLTarget(dq.SALES_BY_REGION_TABLE).ref_id("A")])
         .unit(unit).decimals(0)
         .color_scheme(dash.FieldColor().mode(dm.FieldColorModeId.FIXED).fixed_color(p.GREEN))
         .view(geomap.MapViewConfig().id("coords").lat(34).lon(104).zoom(4))
         .controls(geomap.ControlsOptions().show_zoom(False).mouse_wheel_zoom(False)
                   .show_attribution(False).show_scale(False).show_measure(False)
                   .show_debug(False))
         .basemap(base).layers([markers])
         .tooltip(geomap.TooltipOptions().mode(gm.TooltipMode.DETAILS)))
    if time_from:
        panel.time_from(time_from)
    return panel


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboards.chinamap",
                                 description="write the China map's files for a plant")
    ap.add_argument("--plant", help="plant YAML (default: the demo plant)")
    ap.add_argument("--out", type=Path, default=MAPS_DIR, help=f"default {MAPS_DIR}")
    args = ap.parse_args(argv)
    for path in write(load_plant(args.plant).business.regions, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
