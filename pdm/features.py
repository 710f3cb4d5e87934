"""Features: the stored telemetry of each machine, in fixed windows, only while it runs.

One feature window (a *bucket*, ``bucket_s`` long, aligned to the epoch as InfluxQL's
``GROUP BY time(...)`` aligns it) holds, per machine, the mean of ``vibration_mm_s`` (RMS)
and ``vibration_crest`` over the window and the summary of the ``state`` points in it
(:class:`Aggregate`). :class:`StateFold` joins the two: a window is **valid** when the
machine was RUNNING throughout it (the state in effect when it began was running and no
state point inside says otherwise) and sent telemetry in it; it **resets** the detector
when the machine was in FAULT or MAINTENANCE at any point of it.

The live component builds aggregates from InfluxQL (``mean()``, ``min(running)``...,
:mod:`pdm.influx_io`), the backtest from the model's ticks (:class:`TickAggregator`);
both go through the same :class:`StateFold`, so they compute the same features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telemetry.contract import MachineState

#: State codes that restart the detector's smoothing (a repair or maintenance).
RESET_CODES = (int(MachineState.FAULT), int(MachineState.MAINTENANCE))
_RESET_MIN = min(RESET_CODES)


@dataclass
class Aggregate:
    """One window of every machine, as InfluxQL (or the tick aggregator) summarises it.

    Telemetry: mean RMS and crest (NaN without samples), sample count. State points in
    the window: whether there were any, the lowest ``running``, the last ``running`` and
    ``state_code``, the highest ``state_code``.
    """

    start_ms: int
    vib: np.ndarray
    crest: np.ndarray
    samples: np.ndarray
    has_state: np.ndarray
    min_running: np.ndarray
    last_running: np.ndarray
    max_code: np.ndarray
    last_code: np.ndarray

    @classmethod
    def empty(cls, start_ms: int, n: int) -> Aggregate:
        nan = np.full(n, np.nan)
        zero = np.zeros(n, np.int64)
        return cls(start_ms, nan, nan.copy(), zero, np.zeros(n, bool), zero.copy(),
                   zero.copy(), zero.copy(), zero.copy())


@dataclass
class Buckets:
    """One feature window for every machine: what the detector takes."""

    start_ms: int
    vib: np.ndarray  # mean RMS, mm/s
    crest: np.ndarray  # mean crest factor (NaN: not sent)
    valid: np.ndarray  # bool: running throughout, with telemetry
    reset: np.ndarray  # bool: a fault or maintenance in the window


class StateFold:
    """Carries each machine's state in effect from one window to the next."""

    def __init__(self, n: int, running: np.ndarray | None = None,
                 code: np.ndarray | None = None) -> None:
        self.running = np.zeros(n, bool) if running is None else running.astype(bool)
        self.code = (np.full(n, int(MachineState.OFF), np.int64) if code is None
                     else code.astype(np.int64))

    def copy(self) -> StateFold:
        return StateFold(len(self.running), self.running.copy(), self.code.copy())

    def step(self, a: Aggregate) -> Buckets:
        has = a.has_state
        through = self.running & ~(has & (a.min_running < 1))
        valid = through & (a.samples > 0) & np.isfinite(a.vib)
        reset = (self.code >= _RESET_MIN) | (has & (a.max_code >= _RESET_MIN))
        self.running = np.where(has, a.last_running >= 1, self.running)
        self.code = np.where(has, a.last_code, self.code)
        return Buckets(a.start_ms, a.vib, a.crest, valid, reset)


class TickAggregator:
    """Per-tick samples of every machine (what the encoder writes) -> :class:`Aggregate`
    per window; :meth:`add` returns the windows that a tick closes."""

    def __init__(self, n: int, bucket_ms: int) -> None:
        self.n = n
        self.bucket_ms = bucket_ms
        self.start: int | None = None
        self._reset_sums()

    def _reset_sums(self) -> None:
        n = self.n
        self.sum_v = np.zeros(n)
        self.n_v = np.zeros(n, np.int64)
        self.sum_c = np.zeros(n)
        self.n_c = np.zeros(n, np.int64)
        self.has = np.zeros(n, bool)
        self.min_run = np.ones(n, np.int64)
        self.last_run = np.zeros(n, np.int64)
        self.max_code = np.zeros(n, np.int64)
        self.last_code = np.zeros(n, np.int64)

    def add(self, ts_ms: int, vib: np.ndarray, crest: np.ndarray,
            state_code: np.ndarray) -> list[Aggregate]:
        """One tick: RMS and crest (NaN where not sent) and the state point of every
        machine at ``ts_ms``."""
        start = ts_ms - ts_ms % self.bucket_ms
        out = []
        if self.start is not None and start != self.start:
            out.append(self.flush())
        self.start = start
        ok_v = np.isfinite(vib)
        self.sum_v += np.where(ok_v, vib, 0.0)
        self.n_v += ok_v
        ok_c = np.isfinite(crest)
        self.sum_c += np.where(ok_c, crest, 0.0)
        self.n_c += ok_c
        running = (state_code == int(MachineState.RUNNING)).astype(np.int64)
        self.has[:] = True
        np.minimum(self.min_run, running, out=self.min_run)
        self.last_run = running
        np.maximum(self.max_code, state_code, out=self.max_code)
        self.last_code = state_code.astype(np.int64)
        return out

    def flush(self) -> Aggregate:
        """The window being filled, as it stands (then start an empty one)."""
        assert self.start is not None
        with np.errstate(invalid="ignore", divide="ignore"):
            agg = Aggregate(self.start, np.where(self.n_v > 0, self.sum_v / self.n_v, np.nan),
                            np.where(self.n_c > 0, self.sum_c / self.n_c, np.nan),
                            self.n_v.copy(), self.has.copy(), self.min_run.copy(),
                            self.last_run.copy(), self.max_code.copy(), self.last_code.copy())
        self._reset_sums()
        return agg
