"""The live component: follow the stored telemetry window by window, write verdicts.

On start it reads back the last ``baseline_h`` hours (day by day) to rebuild every
machine's baseline and smoothing, writing nothing: a restart picks up where the history
is. Then, every evaluation, it reads the feature windows completed since the last one
(a window counts once ``settle_s`` have passed since its end, so late telemetry is in),
runs the detector, writes one ``prediction`` point per machine per window (at the
window's end) and a ``pdm_score`` per failure source (now, over the last ``window_h``:
the onsets of the alerts it wrote, read back at start and followed since, against the
alarm stream). A database that cannot be read or written is logged once and retried at the next
evaluation, from the first window not yet evaluated (at most ``baseline_h`` back).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pdm.detector import Detector, DetectorConfig, Verdict
from pdm.features import StateFold
from pdm.influx_io import PdmStore, WriteError
from pdm.scoring import onsets_from_alert_times, score
from telemetry.influx import QueryError

log = logging.getLogger(__name__)

DAY_MS = 86_400_000


@dataclass(frozen=True)
class LiveConfig:
    settle_s: float = 30.0  # how long after a window's end its data counts as complete
    window_h: float = 720.0  # the live score's window (30 days: alerts come days ahead)
    state_lookback_h: float = 24.0  # how far back the state in effect is looked for


@dataclass
class Evaluation:
    windows: int  # feature windows evaluated
    alerts: list[str]  # machines alerting in the last one
    points: int  # points written


class LiveDetector:
    """The detector on one plant's stored data; :meth:`evaluate` is one evaluation."""

    def __init__(self, store: PdmStore, config: DetectorConfig | None = None,
                 live: LiveConfig | None = None) -> None:
        self.store = store
        self.cfg = config or DetectorConfig()
        self.live = live or LiveConfig()
        self.bucket_ms = round(self.cfg.bucket_s * 1000)
        self.detector = Detector(len(store.machines), self.cfg)
        self.fold: StateFold | None = None
        self.next_ms: int | None = None  # start of the first window not yet evaluated
        self.onsets: dict[str, list[int]] = {m: [] for m in store.machines}
        self._failing = False

    def due_ms(self, now_ms: int) -> int:
        """End of the last window complete at ``now_ms``."""
        t = now_ms - round(self.live.settle_s * 1000)
        return t - t % self.bucket_ms

    def start(self, now_ms: int) -> int:
        """Read back the baseline window before ``now_ms``; returns windows read."""
        end = self.due_ms(now_ms)
        start = end - round(self.cfg.baseline_h * 3_600_000)
        start -= start % self.bucket_ms
        running, code = self.store.state_before(
            start, round(self.live.state_lookback_h * 3_600_000))
        self.fold = StateFold(len(self.store.machines), running, code)
        done = 0
        for t in range(start, end, DAY_MS):
            for a in self.store.aggregates(t, min(t + DAY_MS, end), self.cfg.bucket_s):
                self.detector.update(self.fold.step(a))
                done += 1
        self.next_ms = end
        # The alerts already written (by this process before a restart), for the score.
        back = round((self.live.window_h + self.cfg.horizon_h) * 3_600_000)
        self.onsets = {m: onsets_from_alert_times(ts, self.bucket_ms)
                       for m, ts in self.store.alert_times(end - back, end).items()}
        log.info("read back %.1f h of history (%d windows of %g s, %d machines)",
                 (end - start) / 3_600_000, done, self.cfg.bucket_s, len(self.store.machines))
        return done

    def evaluate(self, now_ms: int) -> Evaluation:
        """Evaluate the windows completed by ``now_ms``, write the points and the score.

        Raises QueryError or WriteError when the database fails (nothing is skipped:
        the same windows are read again next time)."""
        if self.fold is None or self.next_ms is None:
            self.start(now_ms)
            assert self.fold is not None and self.next_ms is not None
        end = self.due_ms(now_ms)
        if end - self.next_ms > self.cfg.baseline_h * 3_600_000:
            log.warning("%.1f h since the last evaluation: reading the history again",
                        (end - self.next_ms) / 3_600_000)
            self.detector = Detector(len(self.store.machines), self.cfg)
            self.start(now_ms)
            return Evaluation(0, [], 0)
        if end <= self.next_ms:
            return Evaluation(0, [], 0)
        aggs = self.store.aggregates(self.next_ms, end, self.cfg.bucket_s)
        # Run on copies, commit only when the points are written (a failed write is
        # retried with the same windows, never evaluated twice).
        detector, fold = self.detector.copy(), self.fold.copy()
        lines: list[str] = []
        verdict: Verdict | None = None
        onsets = {m: list(ts) for m, ts in self.onsets.items()}
        before = detector.alerting.copy()
        for a in aggs:
            verdict = detector.update(fold.step(a))
            t = a.start_ms + self.bucket_ms
            for i in np.flatnonzero(verdict.alert & ~before):
                onsets[self.store.machines[i]].append(t)
            before = verdict.alert
            lines += self.store.prediction_lines(t, verdict, self.cfg)
        lines += self.score_lines(end, onsets)
        self.store.write(lines)
        keep = end - round((self.live.window_h + self.cfg.horizon_h) * 3_600_000)
        self.onsets = {m: [t for t in ts if t >= keep] for m, ts in onsets.items()}
        self.detector, self.fold, self.next_ms = detector, fold, end
        alerts = [] if verdict is None else [
            m for m, a in zip(self.store.machines, verdict.alert, strict=True) if a]
        return Evaluation(len(aggs), alerts, len(lines))

    def score_lines(self, now_ms: int, onsets: dict[str, list[int]]) -> list[str]:
        """The live score over the last ``window_h``: the alerts' onsets (read back at
        start, then followed as they are written) against the alarm stream."""
        start = now_ms - round(self.live.window_h * 3_600_000)
        horizon_ms = round(self.cfg.horizon_h * 3_600_000)
        # A horizon further back: the failures before the window that end earlier alerts.
        failures = self.store.failures(start - horizon_ms, now_ms)
        scores = score(onsets, failures, horizon_ms, start, now_ms)
        return self.store.score_lines(now_ms, scores, self.live.window_h)

    def run(self, stop: threading.Event, clock: Callable[[], float] = time.time,
            max_evaluations: int | None = None) -> int:
        """Evaluate every window until ``stop`` is set; returns evaluations done."""
        done = 0
        while not stop.is_set() and (max_evaluations is None or done < max_evaluations):
            now_ms = int(clock() * 1000)
            try:
                ev = self.evaluate(now_ms)
            except (QueryError, WriteError, OSError) as exc:
                if not self._failing:
                    log.warning("evaluation failed, retrying every window: %s", exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("evaluations resumed")
                self._failing = False
                done += 1
                if ev.windows:
                    log.info("evaluated %d window(s): %d points, alerting: %s", ev.windows,
                             ev.points, ", ".join(ev.alerts) or "none")
            next_due = (self.due_ms(now_ms) + self.bucket_ms
                        + round(self.live.settle_s * 1000))
            stop.wait(max(0.0, next_due / 1000 - clock()))
        return done
