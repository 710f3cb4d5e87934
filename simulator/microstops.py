"""Micro-stops: short stops of a running machine (a jam cleared by the operator, a sensor
blip), counted as performance loss and shown as events.

Per running, producing machine and tick, the number of micro-stops is Poisson
(``microstops_per_h`` of the type) and their total length the sum of as many exponential
durations (mean ``microstop_s``), starting at a uniform moment of the tick. The part of
the stop inside the tick costs effective time; a stop that outlasts the tick turns the
machine ``IDLE`` with reason ``micro-stop`` for the rest of it, so the state stream shows
it (at a 5 s tick most micro-stops do). Either way the stop is *performance* loss, as in
the usual OEE convention for minor stops: the machine counts as running (`run_s`), the
time shows as fewer parts per running second, not as downtime. Every stop started in a
`counts` interval is counted in its ``microstops`` field.
"""

from __future__ import annotations

import numpy as np

from simulator.downtime import R_MICROSTOP
from telemetry.contract import MachineState

_RUNNING, _IDLE = int(MachineState.RUNNING), int(MachineState.IDLE)


class MicroStops:
    """Draws the micro-stops of every machine (its own generator, a fixed number of
    draws per tick) and keeps the interval's count."""

    def __init__(self, rate_per_s: np.ndarray, mean_s: np.ndarray, producing: np.ndarray,
                 rng: np.random.Generator) -> None:
        self.rate_s = np.where(producing, rate_per_s, 0.0)
        self.mean_s = np.maximum(mean_s, 1e-9)
        self.rng = rng
        n = len(producing)
        #: Seconds the stop started in the last tick runs past its end (0: none).
        self.overflow_s = np.zeros(n)
        self.acc = np.zeros(n, np.int64)  # stops started in this counts interval
        self.truth = np.zeros(n, np.int64)  # over the whole run
        self.truth_s = np.zeros(n)  # their drawn length, over the whole run

    def interval(self, state: np.ndarray, reason: np.ndarray, timer: np.ndarray,
                 dt: float) -> tuple[np.ndarray, np.ndarray]:
        """One tick in ``state``: (running for OEE, effective running seconds).

        A machine already in a micro-stop (``timer`` seconds left) works the rest of the
        tick once it is over.
        """
        running = state == _RUNNING
        stopped = (state == _IDLE) & (reason == R_MICROSTOP)
        k = np.where(running, self.rng.poisson(self.rate_s * dt), 0)
        hit = np.flatnonzero(k)
        length = self.rng.gamma(k[hit], self.mean_s[hit])  # the sum of k exponentials
        start = self.rng.random(hit.size) * dt
        inside = np.minimum(length, dt - start)
        eff = np.where(stopped, np.clip(dt - timer, 0.0, dt), np.where(running, dt, 0.0))
        eff[hit] -= inside
        self.overflow_s = np.zeros(len(k))
        self.overflow_s[hit] = length - inside
        self.acc[hit] += k[hit]
        self.truth[hit] += k[hit]
        self.truth_s[hit] += length
        return running | stopped, eff

    def reset(self) -> None:
        """Start a new `counts` interval."""
        self.acc[:] = 0
