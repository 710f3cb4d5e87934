"""Backfill: generate the last N days and write them straight to InfluxDB.

Every message becomes the point :func:`telemetry.points.to_line` makes of it, the same
mapping the collector uses, so a backfilled history and live data are indistinguishable
(:mod:`simulator.lines` formats the bulk kinds faster and is tested to agree byte for
byte).
Lines are joined into large bodies and posted by a writer thread while the model keeps
generating; transient failures (network, 5xx, 429) are retried with backoff, a
permanent rejection (4xx) stops the backfill with the server's message.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.encode import Encoder
from simulator.model import PlantModel
from telemetry.influx import InfluxClient

log = logging.getLogger(__name__)


class BackfillError(RuntimeError):
    """The database refused the data or stayed unreachable; the message says why."""


@dataclass
class BackfillStats:
    points: int = 0
    batches: int = 0
    retries: int = 0
    wall_s: float = 0.0
    ticks: int = 0

    @property
    def points_per_s(self) -> float:
        return self.points / self.wall_s if self.wall_s > 0 else 0.0


class _Writer(threading.Thread):
    def __init__(self, client: InfluxClient, stats: BackfillStats, max_retries: int = 8) -> None:
        super().__init__(name="backfill-writer", daemon=True)
        self.client = client
        self.stats = stats
        self.max_retries = max_retries
        self.q: queue.Queue[tuple[bytes, int] | None] = queue.Queue(maxsize=3)
        self.error: BackfillError | None = None

    def run(self) -> None:
        while True:
            item = self.q.get()
            if item is None:
                return
            if self.error is not None:
                continue
            body, n = item
            try:
                self._post(body)
            except BackfillError as exc:
                self.error = exc
                continue
            self.stats.points += n
            self.stats.batches += 1

    def _post(self, body: bytes) -> None:
        delay = 0.5
        for attempt in range(self.max_retries + 1):
            res = self.client.write(body, precision="ms")
            if res.ok:
                return
            permanent = 400 <= res.status < 500 and res.status not in (408, 429)
            if permanent or attempt == self.max_retries:
                what = f"HTTP {res.status}" if res.status else "network error"
                raise BackfillError(f"InfluxDB at {self.client.endpoint.display()} refused the "
                                    f"write ({what}): {res.body.strip()[:300]}")
            self.stats.retries += 1
            wait = res.retry_after_s if res.retry_after_s is not None else delay
            log.warning("write failed (%s), retrying in %.1f s",
                        res.status or res.body[:80], wait)
            time.sleep(min(wait, 30.0))
            delay = min(delay * 2, 10.0)

    def put(self, body: bytes, n: int) -> None:
        if self.error is not None:
            raise self.error
        self.q.put((body, n))


def backfill(model: PlantModel, ticks: int, client: InfluxClient, *,
             batch_points: int = 50_000,
             progress: Callable[[int], None] | None = None,
             stop: threading.Event | None = None) -> BackfillStats:
    """Step ``model`` through ``ticks`` ticks, writing every message as a point."""
    stats = BackfillStats()
    writer = _Writer(client, stats)
    writer.start()
    enc = Encoder(model)
    lines: list[str] = []
    t0 = time.monotonic()

    def ship() -> None:
        if lines:
            writer.put(("\n".join(lines) + "\n").encode(), len(lines))
            lines.clear()

    try:
        lines.extend(enc.lines(model.initial_frame()))
        for k in range(ticks):
            if stop is not None and stop.is_set():
                break
            frame = model.step(force_counts=k == ticks - 1)
            lines.extend(enc.lines(frame))
            model.after_emit(frame)
            stats.ticks += 1
            if len(lines) >= batch_points:
                ship()
            if progress is not None and k % 64 == 63:
                progress(64)
        ship()
    finally:
        writer.q.put(None)
        writer.join()
    stats.wall_s = time.monotonic() - t0
    if progress is not None:
        progress(ticks % 64)
    if writer.error is not None:
        raise writer.error
    return stats


def window(end_ms: int, days: float, step_ms: int) -> tuple[int, int, int]:
    """(start_ms, end_ms, ticks): the end aligned down to a step, whole ticks back."""
    if not days > 0:
        raise ValueError(f"--days must be > 0, got {days:g}")
    end = end_ms - end_ms % step_ms
    ticks = max(1, round(days * 86_400_000 / step_ms))
    return end - ticks * step_ms, end, ticks


def describe(stats: BackfillStats) -> dict[str, Any]:
    return {"points": stats.points, "batches": stats.batches, "retries": stats.retries,
            "wall_s": round(stats.wall_s, 2), "points_per_s": round(stats.points_per_s)}
