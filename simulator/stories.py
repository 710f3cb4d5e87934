"""Stories: scripted scenarios shipped with the project, played on demand or on a loop.

A story is a scenario file (:mod:`simulator.control`) in ``simulator/data/stories/`` (or
any path). :class:`StoryPlayer` starts one at a given simulated time, hands out its events
as they fall due and keeps a ground-truth label of every story it played: when it started
and ended, each event applied and every fault it raised (with the fault's own start and
end). On a loop (``--story-loop``) the next story starts a quiet period after the last
event (the incident) of the one before, so stories may overlap while one winds down (a
repair, a ramp); a story asked for by the director starts at once and the loop carries on
a quiet period after its incident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.control import Scenario, ScenarioEvent, load_scenario
from simulator.model import PlantModel
from simulator.plant import PlantError

log = logging.getLogger(__name__)

STORY_DIR = Path(__file__).parent / "data" / "stories"
NEXT = "next"


def library() -> dict[str, Path]:
    """Shipped stories by name (the file name without ``.yaml``), in name order."""
    return {p.stem: p for p in sorted(STORY_DIR.glob("*.yaml"))}


def story_path(name: str) -> Path:
    """A shipped story's file, or ``name`` itself if it is a YAML file; PlantError if none."""
    lib = library()
    if name in lib:
        return lib[name]
    p = Path(name)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return p
    raise PlantError(f"unknown story {name!r} (shipped: {', '.join(lib)}; or a path to a "
                     "scenario .yaml)")


def parse_loop(text: str) -> list[str]:
    """``"a,b"`` or ``"all"`` -> story names, each checked."""
    names = list(library()) if text.strip() == "all" else \
        [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise PlantError("--story-loop needs at least one story name (or all)")
    for n in names:
        story_path(n)
    return names


@dataclass
class _Playing:
    name: str
    run: int
    scenario: Scenario
    start_ms: int
    pending: list[ScenarioEvent]
    label: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"story:{self.name}#{self.run}"

    @property
    def end_ms(self) -> int:
        return self.start_ms + round(self.scenario.length_s * 1000)


class StoryPlayer:
    def __init__(self, model: PlantModel, loop: list[str] | None = None,
                 quiet_s: float = 480.0,
                 on_end: Callable[[], None] | None = None) -> None:
        self.model = model
        self.on_end = on_end
        self.loop = list(loop or [])
        self.quiet_s = quiet_s
        self.playing: list[_Playing] = []
        self.labels: list[dict[str, Any]] = []
        self._plays: dict[str, int] = {}
        self._loop_pos = 0
        self._next_start_ms: int | None = model.now_ms if self.loop else None

    def check(self, name: str) -> str:
        """A playable story name (``next`` allowed); PlantError with the reason otherwise."""
        if name != NEXT:
            load_scenario(story_path(name), self.model.plant)
        return name

    def start(self, name: str, now_ms: int) -> None:
        """Play ``name`` from ``now_ms`` (``next``: the loop's or the library's next)."""
        if name == NEXT:
            names = self.loop or list(library())
            name = names[self._loop_pos % len(names)]
            self._loop_pos += 1
        elif name in self.loop:
            self._loop_pos = self.loop.index(name) + 1
        run = self._plays.get(name, 0) + 1
        scenario = load_scenario(story_path(name), self.model.plant, replay=run - 1)
        self._plays[name] = run
        p = _Playing(name, run, scenario, now_ms, list(scenario.events))
        p.label = {"story": name, "run": run, "description": scenario.description,
                   "start_ms": now_ms, "end_ms": None, "events": []}
        self.labels.append(p.label)
        self.playing.append(p)
        if self.loop:
            incident_s = scenario.events[-1].at_s
            self._next_start_ms = now_ms + round((incident_s + self.quiet_s) * 1000)
        log.info("story %s (run %d) starts", name, run)

    def stop_all(self, now_ms: int) -> None:
        """End every story now (a reset); the loop resumes after a quiet period."""
        for p in self.playing:
            self._end(p, now_ms, interrupted=bool(p.pending))
        self.playing = []
        if self.loop:
            self._next_start_ms = now_ms + round(self.quiet_s * 1000)

    @staticmethod
    def _end(p: _Playing, now_ms: int, *, interrupted: bool = False) -> None:
        p.label["end_ms"] = now_ms
        if interrupted:
            p.label["interrupted"] = True
        log.info("story %s (run %d) ends", p.name, p.run)

    def due(self, now_ms: int, next_ts: int) -> list[tuple[ScenarioEvent, str]]:
        """Events to apply before the tick at ``next_ts`` (each with its label source);
        starts the loop's next story and ends finished ones."""
        open_faults = {e.source for e in self.model.open_episodes()}
        for p in [p for p in self.playing if not p.pending and now_ms >= p.end_ms
                  and p.source not in open_faults]:
            self._end(p, now_ms)
            self.playing.remove(p)
            if self.on_end is not None:
                self.on_end()
        if self._next_start_ms is not None and now_ms >= self._next_start_ms:
            self.start(NEXT, now_ms)
        out = []
        for p in self.playing:
            while p.pending and p.start_ms + p.pending[0].at_s * 1000 <= next_ts:
                ev = p.pending.pop(0)
                p.label["events"].append({
                    "at_s": ev.at_s, "ts_ms": next_ts, "action": ev.action,
                    **({"machine": ev.machine} if ev.machine else {}),
                    **{k: v for k, v in ev.params.items() if k != "source"}})
                out.append((ev, p.source))
        return out

    def labels_now(self) -> list[dict[str, Any]]:
        """Every story's label, with the faults it raised as they stand now."""
        by_source: dict[str, list[dict[str, Any]]] = {}
        for e in self.model.episodes:
            if e.source.startswith("story:"):
                by_source.setdefault(e.source, []).append(e.as_dict())
        return [{**lb, "faults": by_source.get(f"story:{lb['story']}#{lb['run']}", [])}
                for lb in self.labels]

    def status(self) -> dict[str, Any]:
        return {"playing": [{"name": p.name, "run": p.run, "start_ms": p.start_ms,
                             "end_ms": p.end_ms} for p in self.playing],
                "loop": self.loop, "next_start_ms": self._next_start_ms,
                "library": list(library()), "played": len(self.labels)}
