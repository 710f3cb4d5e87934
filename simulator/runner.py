"""The run loop: step the model, encode, hand messages to a sink, pace if asked.

Pacing is a wrapper around the model: ``speed=None`` runs flat out; ``speed=N`` keeps
simulated time at N x wall time. When the wall clock gets ahead (a stalled host, a
suspended laptop) the loop *skips*: it steps the model through the gap emitting only
events (alarms, work orders, sales, with their true timestamps), not a burst of stale
telemetry; the next counts message covers the whole gap, so sums stay right.

Commands (the control topics, the director's API) go through :meth:`Runner.submit` from
any thread and apply at the next tick; a speed change re-anchors the pacing at once.
Stories (:mod:`simulator.stories`) and their timed effects (:mod:`simulator.effects`)
are stepped here too.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.control import Command, Scenario, check_speed
from simulator.effects import EFFECT_ACTIONS, Effects
from simulator.encode import Encoder
from simulator.model import FAULT, MAINT, PlantModel
from simulator.plant import PlantError
from simulator.sinks import Sink
from simulator.stories import StoryPlayer

log = logging.getLogger(__name__)


@dataclass
class RunStats:
    ticks: int = 0
    messages: int = 0
    skipped_ticks: int = 0
    wall_s: float = 0.0
    commands: int = 0
    labels: list[dict[str, Any]] = field(default_factory=list)


class Runner:
    def __init__(self, model: PlantModel, encoder: Encoder, sink: Sink, *,
                 speed: float | None = None, duration_ticks: int | None = None,
                 scenario: Scenario | None = None,
                 stop: threading.Event | None = None,
                 stories: StoryPlayer | None = None) -> None:
        self.model = model
        self.encoder = encoder
        self.sink = sink
        self.speed = speed
        self.duration_ticks = duration_ticks
        self.scenario = list(scenario.events) if scenario else []
        self.stop = stop or threading.Event()
        self.commands: queue.Queue[Command] = queue.Queue()
        self.stats = RunStats()
        self.effects = Effects(model)
        self.stories = stories or StoryPlayer(model)
        self._wake = threading.Event()
        self._speed_request: float | None = None
        self._wall0 = 0.0
        self._sim0 = model.now_ms

    def submit(self, cmd: Command) -> None:
        """Queue a command from any thread; it applies before the next tick."""
        if cmd.action == "speed":
            self._speed_request = check_speed(cmd.params.get("speed"))
        self.commands.put(cmd)
        self._wake.set()

    def _emit(self, frame_messages: Any) -> None:
        send = self.sink.send
        n = 0
        for kind, topic, payload in frame_messages:
            send(kind, topic, payload)
            n += 1
        self.stats.messages += n

    def _apply_inputs(self) -> None:
        m = self.model
        next_ts = m.ts_of(m.tick + 1)
        while self.scenario and m.start_ms + self.scenario[0].at_s * 1000 <= next_ts:
            ev = self.scenario.pop(0)
            self._apply(ev.action, ev.machine, dict(ev.params), next_ts)
            self.stats.labels.append({"at_s": ev.at_s, "ts_ms": next_ts, "action": ev.action,
                                      "machine": ev.machine,
                                      **{k: v for k, v in ev.params.items() if k != "source"}})
        while True:
            try:
                cmd = self.commands.get_nowait()
            except queue.Empty:
                break
            try:
                self._apply(cmd.action, cmd.machine, dict(cmd.params), next_ts)
                self.stats.commands += 1
                log.info("control: %s %s at %d", cmd.action, cmd.machine or "", next_ts)
            except KeyError:
                log.warning("control: unknown machine %r ignored", cmd.machine)
            except (PlantError, ValueError) as exc:
                log.warning("control: %s ignored: %s", cmd.action, exc)
        for ev, source in self.stories.due(m.now_ms, next_ts):
            self._apply(ev.action, ev.machine, {**ev.params, "source": source}, next_ts)
        self.effects.tick(next_ts)

    def _apply(self, action: str, machine: str, params: dict[str, Any], ts: int) -> None:
        m = self.model
        if action == "speed":
            return  # applied by the pacing loop as soon as it was submitted
        if action == "story":
            self.stories.start(str(params["name"]), m.now_ms)
        elif action == "reset":
            self.effects.reset()
            self.stories.stop_all(m.now_ms)
            for i in range(m.n):
                if m.state[i] in (FAULT, MAINT):
                    m.command("clear", m.ids[i])
        elif action in EFFECT_ACTIONS:
            self.effects.start(action, machine, params, ts)
        else:
            m.command(action, machine, **params)

    def _take_speed(self) -> None:
        """Apply a requested speed: pace from here at the new factor."""
        v, self._speed_request = self._speed_request, None
        if v is not None:
            self.speed = v
            self._wall0, self._sim0 = time.monotonic(), self.model.now_ms
            log.info("speed now %g x real time", v)

    def run(self) -> RunStats:
        m, enc, sink = self.model, self.encoder, self.sink
        encode = sink.wants_messages
        self._wall0 = wall_start = time.monotonic()
        self._sim0 = m.now_ms
        frame = m.initial_frame()
        if encode:
            self._emit(enc.encoded(frame))
        last = self.duration_ticks
        while not self.stop.is_set() and (last is None or m.tick < last):
            self._take_speed()
            if self.speed is not None:
                target = self._wall0 + (m.ts_of(m.tick + 1) - self._sim0) / 1000 / self.speed
                now = time.monotonic()
                if now < target:
                    # Wake for a command (a speed change re-plans this wait) or a stop.
                    self._wake.wait(min(target - now, 0.25))
                    self._wake.clear()
                    continue
                if now - target > 2 * m.dt / self.speed:
                    self._skip_to(now, self._wall0, self._sim0, last)
                    continue
            self._apply_inputs()
            final = last is not None and m.tick + 1 == last
            frame = m.step(force_counts=final)
            if encode:
                self._emit(enc.encoded(frame))
            m.after_emit(frame)
            self.stats.ticks += 1
        if encode and (last is None or m.tick < last):
            # Stopped early: report the partial interval so counts cover all of it.
            frame = m.closing_frame()
            self._emit(enc.encoded(frame))
            m.after_emit(frame)
        self.stats.wall_s = time.monotonic() - wall_start
        sink.flush()
        return self.stats

    def _skip_to(self, now: float, wall0: float, sim0: int, last: int | None) -> None:
        """Step silently to the wall clock, publishing only events; state goes out in full."""
        m = self.model
        target_tick = int((now - wall0) * self.speed * 1000 / m.dt_ms) if self.speed else 0
        if last is not None:
            target_tick = min(target_tick, last - 1)
        skipped = 0
        while m.tick < target_tick and not self.stop.is_set():
            frame = m.step()
            if self.sink.wants_messages:
                dumps = self.encoder._dumps
                self._emit((k, t, dumps(p).encode()) for k, t, p in self.encoder.events(frame))
            # Counts/energy accumulate on until the next emitted interval.
            skipped += 1
        self.stats.skipped_ticks += skipped
        self.stats.ticks += skipped
        if skipped:
            log.warning("fell %d ticks behind the wall clock; skipped ahead to keep "
                        "simulated time honest", skipped)
            m.force_full_state = True
