"""Workshop air temperature over the day and the year: the plant's ``climate:``.

Machine temperatures approach ambient + their state's rise; ambient is the workshop air
(indoors, so milder than the weather outside), a sum of two cosines:

    ambient = mean_c + seasonal_swing_c / 2 * cos(year phase) + daily_swing_c / 2 * cos(day phase)

The day is the plant's local wall clock (summer time included, warmest at
``warmest_hour``); the year peaks in late July north of the equator and late January
south of it (the sign of ``latitude``). A swing is warmest minus coldest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.plant_check import Ctx, as_map, known, num
from simulator.shifts import LocalClock

__all__ = ["CLIMATE_KEYS", "Ambient", "Climate", "parse_climate"]

_DAY_S = 86400.0
_YEAR_D = 365.2425
#: Day of the year (0 = 1 January) of the warmest days north of the equator (24 July).
_WARMEST_DAY_NORTH = 204.0

CLIMATE_KEYS = ("latitude", "mean_c", "daily_swing_c", "seasonal_swing_c", "warmest_hour")


@dataclass(frozen=True)
class Climate:
    """The plant's ``climate:`` block (defaults: a temperate northern workshop)."""

    mean_c: float = 20.0  # yearly mean of the workshop air
    daily_swing_c: float = 4.0  # warmest minus coldest hour of a day
    seasonal_swing_c: float = 10.0  # warmest minus coldest day of the year
    latitude: float = 45.0  # degrees, north > 0: only the hemisphere (season) is used
    warmest_hour: float = 15.0  # local hour of the day's peak

    @property
    def warmest_day(self) -> float:
        """Day of the year (0 = 1 January) of the seasonal peak."""
        return _WARMEST_DAY_NORTH if self.latitude >= 0 else \
            (_WARMEST_DAY_NORTH + _YEAR_D / 2) % _YEAR_D

    def at_local(self, local_s: float | np.ndarray) -> Any:
        """Ambient degC at local wall-clock seconds since 1970-01-01 00:00 local (scalar
        or array)."""
        days = np.asarray(local_s, dtype=np.float64) / _DAY_S
        hour = (days % 1.0) * 24.0
        year = days % _YEAR_D  # 1970-01-01 is day 0 of a year; drift < 1 day per century
        out = (self.mean_c
               + self.seasonal_swing_c / 2
               * np.cos(2 * math.pi * (year - self.warmest_day) / _YEAR_D)
               + self.daily_swing_c / 2 * np.cos(2 * math.pi * (hour - self.warmest_hour) / 24))
        return float(out) if out.ndim == 0 else out


class Ambient:
    """Ambient of a plant at UTC times, through its local clock (cached per minute)."""

    def __init__(self, climate: Climate, clock: LocalClock) -> None:
        self.climate = climate
        self.clock = clock
        self._minute = -1
        self._value = climate.mean_c

    def c(self, ts_ms: int) -> float:
        """Ambient degC at epoch ms ``ts_ms`` (constant within a UTC minute)."""
        minute = int(ts_ms) // 60_000
        if minute != self._minute:
            self._minute = minute
            self._value = float(self.climate.at_local(self.clock.local_s(minute * 60_000)))
        return self._value


def parse_climate(ctx: Ctx, raw: Any, path: str = "climate") -> Climate:
    """The ``climate:`` mapping (every key optional) -> :class:`Climate`."""
    if raw is None:
        return Climate()
    m: Mapping[str, Any] = as_map(ctx, raw, path)
    known(ctx, m, path, CLIMATE_KEYS)
    d = Climate()
    return Climate(
        latitude=num(ctx, m, "latitude", path, d.latitude, lo=-90.0, hi=90.0),
        mean_c=num(ctx, m, "mean_c", path, d.mean_c, lo=-40.0, hi=60.0),
        daily_swing_c=num(ctx, m, "daily_swing_c", path, d.daily_swing_c, hi=40.0),
        seasonal_swing_c=num(ctx, m, "seasonal_swing_c", path, d.seasonal_swing_c, hi=60.0),
        warmest_hour=num(ctx, m, "warmest_hour", path, d.warmest_hour, hi=24.0))
