"""The `cycle_time_s` of `counts`: running seconds per part, from the parts finished.

A machine's cycle time is the running time between two finished parts (micro-stops
included, stops excluded). Per machine the clock keeps the running seconds since the last
part finished; when parts finish within a tick, the moment the last of them finished is
interpolated from the progress made in the tick. A `counts` message reports the mean
time per part of the parts finished in its interval (the time carried over from earlier
intervals included), so a laser with a 97 s cycle reports about 97 s even though
`counts` is sent every 30 s; when no part finished it repeats the last value.
"""

from __future__ import annotations

import numpy as np


class CycleClock:
    """Per machine: running seconds since the last finished part and the interval's sums."""

    def __init__(self, initial_s: np.ndarray) -> None:
        n = len(initial_s)
        self.since_part_s = np.zeros(n)
        self.acc_s = np.zeros(n)
        self.acc_parts = np.zeros(n, np.int64)
        #: What `counts` reports (the last interval's mean, or the start value).
        self.last_s = np.asarray(initial_s, float).copy()

    def add(self, run_s: np.ndarray, before: np.ndarray, after: np.ndarray,
            units: np.ndarray) -> None:
        """One tick: ``run_s`` running seconds took progress from ``before`` to ``after``
        (in parts, before whole parts are taken off) and released ``units`` parts."""
        self.since_part_s += run_s
        d = np.flatnonzero(units)
        if not d.size:
            return
        gain = after[d] - before[d]
        # Share of the tick at which the last released part was finished (0 when it was
        # already finished and held before the tick, 1 when held until its end).
        frac = np.where(gain > 0, np.clip((units[d] - before[d]) / np.where(
            gain > 0, gain, 1.0), 0.0, 1.0), 1.0)
        after_part = run_s[d] * (1.0 - frac)
        self.acc_s[d] += self.since_part_s[d] - after_part
        self.acc_parts[d] += units[d]
        self.since_part_s[d] = after_part

    def close(self) -> np.ndarray:
        """End of a `counts` interval: update and return the reported cycle times."""
        self.last_s = np.where(self.acc_parts > 0,
                               self.acc_s / np.maximum(self.acc_parts, 1), self.last_s)
        self.acc_s[:] = 0.0
        self.acc_parts[:] = 0
        return self.last_s
