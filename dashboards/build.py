"""Build every screen in each language from a plant file into Grafana dashboard JSON, and
compare with what is committed under dashboards/json/<lang>/ for provisioning."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.i18n import LANGS, LangCode
from dashboards.screens import equipment, maintenance, overview, pipeline, production, sales
from dashboards.wall import Wall, load
from simulator.plant import Plant

log = logging.getLogger(__name__)

JSON_DIR = Path(__file__).resolve().parent / "json"
#: The screens in playlist order (the first is the home dashboard). Each module has
#: ``SLUG`` and ``build(wall) -> Dashboard``; another screen is one more entry here.
SCREEN_MODULES: tuple[ModuleType, ...] = (
    overview, equipment, maintenance, production, sales, pipeline,
)
SCREENS: tuple[str, ...] = tuple(m.SLUG for m in SCREEN_MODULES)
HOME = overview.SLUG


@dataclass(frozen=True)
class Built:
    lang: LangCode
    slug: str
    model: dict[str, Any]

    @property
    def uid(self) -> str:
        return str(self.model["uid"])

    @property
    def relpath(self) -> Path:
        return Path(self.lang) / f"{self.slug}.json"

    @property
    def path(self) -> Path:
        """Where the committed JSON of the default plant lives."""
        return JSON_DIR / self.relpath

    def text(self) -> str:
        return json.dumps(self.model, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def to_model(d: dash.Dashboard) -> dict[str, Any]:
    """The SDK's dashboard as plain JSON data (exactly what the SDK encodes, no patching)."""
    model: dict[str, Any] = json.loads(json.dumps(d.build(), cls=JSONEncoder))
    return model


def _plant(plant: str | Path | Plant | None) -> Plant:
    return plant if isinstance(plant, Plant) else load(plant)


def build_lang(code: LangCode, plant: str | Path | Plant | None = None) -> list[Built]:
    wall = Wall.of(code, _plant(plant))
    builders: list[tuple[str, Callable[[Wall], dash.Dashboard]]] = [
        (m.SLUG, m.build) for m in SCREEN_MODULES]
    return [Built(code, slug, to_model(build(wall))) for slug, build in builders]


def build_all(langs: Iterable[LangCode] = LANGS,
              plant: str | Path | Plant | None = None) -> list[Built]:
    p = _plant(plant)
    return [b for code in langs for b in build_lang(code, p)]


def write(built: Iterable[Built], out_dir: Path = JSON_DIR) -> list[Path]:
    written = []
    for b in built:
        path = out_dir / b.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != b.text():
            path.write_text(b.text(), encoding="utf-8")
            log.info("wrote %s", path)
        written.append(path)
    return written


def stale(built: Iterable[Built], out_dir: Path = JSON_DIR) -> list[Path]:
    """JSON files under `out_dir` that differ from (or are missing for) what the code builds."""
    return [out_dir / b.relpath for b in built
            if not (out_dir / b.relpath).exists()
            or (out_dir / b.relpath).read_text(encoding="utf-8") != b.text()]


def repeat_counts(plant: str | Path | Plant | None = None) -> dict[str, int]:
    """How many panels each repeat variable expands to (for the screen-fit check): the
    machines of the equipment screen's area."""
    area = Wall.of("en", _plant(plant)).first_area()
    return {"machine": sum(len(ln.machines) for ln in area.lines)}
