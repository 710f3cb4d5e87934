"""The run loop: step the model, encode, hand messages to a sink, pace if asked.

Pacing is a wrapper around the model: ``speed=None`` runs flat out; ``speed=N`` keeps
simulated time at N x wall time. When the wall clock gets ahead (a stalled host, a
suspended laptop) the loop *skips*: it steps the model through the gap emitting only
events (alarms, work orders, sales, with their true timestamps), not a burst of stale
telemetry; the next counts message covers the whole gap, so sums stay right.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.control import Command, Scenario
from simulator.encode import Encoder
from simulator.model import PlantModel
from simulator.sinks import Sink

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
                 stop: threading.Event | None = None) -> None:
        self.model = model
        self.encoder = encoder
        self.sink = sink
        self.speed = speed
        self.duration_ticks = duration_ticks
        self.scenario = list(scenario.events) if scenario else []
        self.stop = stop or threading.Event()
        self.commands: queue.Queue[Command] = queue.Queue()
        self.stats = RunStats()

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
            m.command(ev.action, ev.machine, **dict(ev.params))
            self.stats.labels.append({"at_s": ev.at_s, "ts_ms": next_ts, "action": ev.action,
                                      "machine": ev.machine,
                                      **{k: v for k, v in ev.params.items() if k != "source"}})
        while True:
            try:
                cmd = self.commands.get_nowait()
            except queue.Empty:
                break
            try:
                m.command(cmd.action, cmd.machine, **dict(cmd.params))
                self.stats.commands += 1
                log.info("control: %s on %s at %d", cmd.action, cmd.machine, next_ts)
            except KeyError:
                log.warning("control: unknown machine %r ignored", cmd.machine)

    def run(self) -> RunStats:
        m, enc, sink = self.model, self.encoder, self.sink
        encode = sink.wants_messages
        wall0 = time.monotonic()
        sim0 = m.now_ms
        frame = m.initial_frame()
        if encode:
            self._emit(enc.encoded(frame))
        last = self.duration_ticks
        while not self.stop.is_set() and (last is None or m.tick < last):
            self._apply_inputs()
            if self.speed is not None:
                target = wall0 + (m.ts_of(m.tick + 1) - sim0) / 1000 / self.speed
                now = time.monotonic()
                if now < target:
                    if self.stop.wait(target - now):
                        break
                elif now - target > 2 * m.dt / self.speed:
                    self._skip_to(now, wall0, sim0, last)
                    continue
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
        self.stats.wall_s = time.monotonic() - wall0
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
