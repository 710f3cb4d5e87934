"""Build the six screens in each language into Grafana dashboard JSON, and compare with
what is committed under dashboards/json/<lang>/ for provisioning."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.floorplan import load_placed_machines
from dashboards.i18n import LANGS, Lang, LangCode
from dashboards.screens import (
    equipment,
    machine,
    maintenance,
    overview,
    pipeline,
    production,
    sales,
)
from simulator.plant import load_plant

log = logging.getLogger(__name__)

JSON_DIR = Path(__file__).resolve().parent / "json"
#: Screen order: the playlist and the rotation follow it; the first is the home dashboard.
SCREENS = (overview.SLUG, equipment.SLUG, maintenance.SLUG, production.SLUG, sales.SLUG,
           pipeline.SLUG)
HOME = overview.SLUG
#: Every dashboard built: the screens, then those opened from them (not in the rotation).
BOARDS = (*SCREENS, machine.SLUG)


@dataclass(frozen=True)
class Built:
    lang: LangCode
    slug: str
    model: dict[str, Any]

    @property
    def uid(self) -> str:
        return str(self.model["uid"])

    @property
    def path(self) -> Path:
        return JSON_DIR / self.lang / f"{self.slug}.json"

    def text(self) -> str:
        return json.dumps(self.model, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def to_model(d: dash.Dashboard) -> dict[str, Any]:
    """The SDK's dashboard as plain JSON data (exactly what the SDK encodes, no patching)."""
    model: dict[str, Any] = json.loads(json.dumps(d.build(), cls=JSONEncoder))
    return model


def build_lang(code: LangCode, plant: str | Path | None = None) -> list[Built]:
    lang = Lang(code)
    floor = load_placed_machines(plant)
    boards = {
        overview.SLUG: overview.build(lang, floor),
        equipment.SLUG: equipment.build(lang, len(floor)),
        maintenance.SLUG: maintenance.build(lang),
        production.SLUG: production.build(lang),
        sales.SLUG: sales.build(lang),
        pipeline.SLUG: pipeline.build(lang),
        machine.SLUG: machine.build(lang, load_plant(plant)),
    }
    return [Built(code, slug, to_model(boards[slug])) for slug in BOARDS]


def build_all(langs: Iterable[LangCode] = LANGS, plant: str | Path | None = None) -> list[Built]:
    return [b for code in langs for b in build_lang(code, plant)]


def write(built: Iterable[Built]) -> list[Path]:
    written = []
    for b in built:
        b.path.parent.mkdir(parents=True, exist_ok=True)
        if not b.path.exists() or b.path.read_text(encoding="utf-8") != b.text():
            b.path.write_text(b.text(), encoding="utf-8")
            log.info("wrote %s", b.path)
        written.append(b.path)
    return written


def stale(built: Iterable[Built]) -> list[Path]:
    """Committed JSON files that differ from (or are missing for) what the code builds."""
    return [b.path for b in built
            if not b.path.exists() or b.path.read_text(encoding="utf-8") != b.text()]


def repeat_counts(plant: str | Path | None = None) -> dict[str, int]:
    """How many panels each repeat variable expands to (for the screen-fit check)."""
    return {"machine": len(load_placed_machines(plant))}
