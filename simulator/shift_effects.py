"""What the time of day does to production: the plant file's ``shift_effects:``.

Each entry is a site-local window (``"22:00-06:00"``), optionally limited to some
calendars, with a ``performance`` factor (cycles take 1/performance as long) and a
``scrap_factor`` (x the scrap rate). Where windows overlap the factors multiply. A plant
that says nothing has none.
"""

from __future__ import annotations

import numpy as np

from simulator.plant import Plant
from simulator.shifts import LocalClock
from simulator.shifts import _in_window as in_window


class ShiftEffects:
    """Per machine, the performance and scrap factors at a time (cached per minute)."""

    def __init__(self, plant: Plant, cal_ids: list[str], cal_idx: np.ndarray,
                 clock: LocalClock) -> None:
        self.effects = plant.shift_effects
        self.cal_ids = cal_ids
        self.cal_idx = cal_idx
        self.clock = clock
        n = len(cal_idx)
        self._ones = (np.ones(n), np.ones(n))
        self._cache: tuple[int, tuple[np.ndarray, np.ndarray]] = (-1, self._ones)

    def at(self, ts_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(performance, scrap factor) of every machine at ``ts_ms``."""
        if not self.effects:
            return self._ones
        minute_key = self.clock.local_s(ts_ms) // 60
        if self._cache[0] == minute_key:
            return self._cache[1]
        minute = int(minute_key % 1440)
        perf = np.ones(len(self.cal_ids))
        scrap = np.ones(len(self.cal_ids))
        for fx in self.effects:
            if in_window(minute, fx.window):
                hit = np.array([not fx.calendars or c in fx.calendars for c in self.cal_ids])
                perf[hit] *= fx.performance
                scrap[hit] *= fx.scrap_factor
        out = (perf[self.cal_idx], scrap[self.cal_idx])
        self._cache = (minute_key, out)
        return out
