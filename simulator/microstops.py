"""Micro-stops: short stops of a running machine (a jam cleared by the operator, a sensor
blip), counted as performance loss and shown as events.

Micro-stops of a producing machine come as a Poisson process in running time
(``microstops_per_h`` of the type, per hour in ``RUNNING``) with exponential lengths
(mean ``microstop_s``). The part of the stop inside the tick costs effective time; a
stop that outlasts the tick turns the machine ``IDLE`` with reason ``micro-stop`` for
the rest of it, so the state stream shows it (at a 5 s tick most micro-stops do).
Either way the stop is *performance* loss, as in the usual OEE convention for minor
stops: the machine counts as running (`run_s`), the time shows as fewer parts per
running second, not as downtime. Every stop started in a `counts` interval is counted
in its ``microstops`` field.
"""

from __future__ import annotations

import numpy as np

from simulator.downtime import R_MICROSTOP
from telemetry.contract import MachineState

_RUNNING, _IDLE = int(MachineState.RUNNING), int(MachineState.IDLE)


class MicroStops:
    """Draws the micro-stops of every machine (its own generator, per stop) and keeps
    the interval's count. A Poisson process in running time: each machine counts down
    the running seconds to its next stop (exponential gaps), so a tick costs no draws."""

    def __init__(self, rate_per_s: np.ndarray, mean_s: np.ndarray, producing: np.ndarray,
                 rng: np.random.Generator) -> None:
        rate = np.where(producing, rate_per_s, 0.0)
        self.gap_s = np.where(rate > 0, 1.0 / np.maximum(rate, 1e-12), np.inf)
        self.mean_s = np.maximum(mean_s, 1e-9)
        self.rng = rng
        n = len(producing)
        self.next_s = rng.exponential(1.0, n) * self.gap_s  # running s to the next stop
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
        eff = running * dt
        stopped = np.flatnonzero((state == _IDLE) & (reason == R_MICROSTOP))
        eff[stopped] = np.clip(dt - timer[stopped], 0.0, dt)
        self.next_s -= eff
        hit = np.flatnonzero(self.next_s <= 0)
        if self.overflow_s.any():
            self.overflow_s[:] = 0.0
        # When in the tick the stop began (after the end of one going on).
        start = np.maximum(dt + self.next_s[hit], dt - eff[hit])
        while hit.size:  # (a second stop in the same tick: another round)
            length = self.rng.exponential(self.mean_s[hit])
            inside = np.minimum(length, dt - start)
            eff[hit] = np.maximum(eff[hit] - inside, 0.0)
            self.overflow_s[hit] = length - inside
            self.acc[hit] += 1
            self.truth[hit] += 1
            self.truth_s[hit] += length
            resume = start + inside
            gap = self.rng.exponential(1.0, hit.size) * self.gap_s[hit]
            self.next_s[hit] = gap - (dt - resume)  # running time left after this tick
            again = self.next_s[hit] <= 0
            hit, start = hit[again], (resume + gap)[again]
        working = running.copy()
        working[stopped] = True
        return working, eff

    def reset(self) -> None:
        """Start a new `counts` interval."""
        self.acc[:] = 0
