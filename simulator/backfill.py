"""Backfill: generate the last N days and write them straight to InfluxDB.

Every message becomes the point :func:`telemetry.points.to_line` makes of it, the same
mapping the collector uses, so a backfilled history and live data are indistinguishable
(:mod:`simulator.lines` formats the bulk kinds faster and is tested to agree byte for
byte).
Lines are joined into bodies of ``batch_points`` lines and posted by a small pool of
writer threads (one HTTP connection each, fed by a bounded queue) while the model keeps
generating; transient failures (network, 5xx, 408, 429) are retried with backoff, a
permanent rejection (4xx) stops the backfill with one line naming the batch and the
server's message.
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
    batches_queued: int = 0

    @property
    def points_per_s(self) -> float:
        return self.points / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True)
class _Batch:
    index: int  # 1-based, in generation order
    body: bytes
    points: int
    first_ms: int
    last_ms: int

    def describe(self) -> str:
        return (f"batch {self.index} ({self.points} points, "
                f"{_iso(self.first_ms)} .. {_iso(self.last_ms)})")


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


class _Writers:
    """A small pool of HTTP writers, one :class:`InfluxClient` (connection) each, fed by
    a bounded queue: at most ``2 * n`` bodies wait, so memory stays bounded however far
    generation runs ahead; ``put`` blocks when influxd is the slower side."""

    def __init__(self, client: InfluxClient, stats: BackfillStats, n: int,
                 max_retries: int = 8) -> None:
        self.stats = stats
        self.max_retries = max_retries
        self.q: queue.Queue[_Batch | None] = queue.Queue(maxsize=2 * n)
        self.error: BackfillError | None = None
        self._lock = threading.Lock()
        # The caller's client serves the first writer; the others get their own.
        self._own = [InfluxClient(client.endpoint, timeout_s=client.timeout_s)
                     for _ in range(n - 1)]
        self.threads = [threading.Thread(target=self._run, args=(c,), daemon=True,
                                         name=f"backfill-writer-{i}")
                        for i, c in enumerate([client, *self._own])]
        for t in self.threads:
            t.start()

    def _run(self, client: InfluxClient) -> None:
        while True:
            batch = self.q.get()
            if batch is None:
                return
            if self.error is not None:
                continue  # drain: the backfill is stopping
            try:
                self._post(client, batch)
            except BackfillError as exc:
                with self._lock:
                    if self.error is None:
                        self.error = exc
                continue
            with self._lock:
                self.stats.points += batch.points
                self.stats.batches += 1

    def _post(self, client: InfluxClient, batch: _Batch) -> None:
        delay = 0.5
        for attempt in range(self.max_retries + 1):
            res = client.write(batch.body, precision="ms")
            if res.ok:
                return
            permanent = 400 <= res.status < 500 and res.status not in (408, 429)
            if permanent or attempt == self.max_retries:
                what = f"HTTP {res.status}" if res.status else "network error"
                tries = "" if permanent else f" after {attempt + 1} attempts"
                raise BackfillError(
                    f"InfluxDB at {client.endpoint.display()} refused {batch.describe()} "
                    f"({what}{tries}): {' '.join(res.body.split())[:300]}")
            with self._lock:
                self.stats.retries += 1
            wait = res.retry_after_s if res.retry_after_s is not None else delay
            log.warning("write of %s failed (%s), retrying in %.1f s", batch.describe(),
                        res.status or res.body[:80], wait)
            time.sleep(min(wait, 30.0))
            delay = min(delay * 2, 10.0)

    def put(self, batch: _Batch) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(batch)

    def close(self) -> None:
        """Let queued batches finish (or drain after an error), then stop the threads."""
        for _ in self.threads:
            self.q.put(None)
        for t in self.threads:
            t.join()
        for c in self._own:
            c.close()


#: Defaults measured best on a 2-core VM (docs/benchmarks.md, "Simulator").
DEFAULT_BATCH_POINTS = 50_000
DEFAULT_WRITERS = 1


def backfill(model: PlantModel, ticks: int, client: InfluxClient, *,
             batch_points: int = DEFAULT_BATCH_POINTS,
             writers: int = DEFAULT_WRITERS,
             progress: Callable[[int], None] | None = None,
             stop: threading.Event | None = None) -> BackfillStats:
    """Step ``model`` through ``ticks`` ticks, writing every message as a point.

    Generation runs on the calling thread; ``writers`` threads post the batches
    concurrently (so they may land out of order; the points are the same).
    """
    if batch_points < 1 or writers < 1:
        raise ValueError("batch_points and writers must be >= 1")
    stats = BackfillStats()
    pool = _Writers(client, stats, writers)
    enc = Encoder(model)
    lines: list[str] = []
    span = [0, 0]  # first and last tick time of the batch being built
    t0 = time.monotonic()

    def ship() -> None:
        if lines:
            pool.put(_Batch(stats.batches_queued + 1, ("\n".join(lines) + "\n").encode(),
                            len(lines), span[0], span[1]))
            stats.batches_queued += 1
            lines.clear()

    try:
        frame = model.initial_frame()
        span[0] = span[1] = frame.ts_ms
        lines.extend(enc.lines(frame))
        for k in range(ticks):
            if stop is not None and stop.is_set():
                break
            frame = model.step(force_counts=k == ticks - 1)
            if not lines:
                span[0] = frame.ts_ms
            span[1] = frame.ts_ms
            lines.extend(enc.lines(frame))
            model.after_emit(frame)
            stats.ticks += 1
            if len(lines) >= batch_points:
                ship()
            if progress is not None and k % 64 == 63:
                progress(64)
        ship()
    finally:
        pool.close()
    stats.wall_s = time.monotonic() - t0
    if progress is not None:
        progress(ticks % 64)
    if pool.error is not None:
        raise pool.error
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
