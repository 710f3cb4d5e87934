"""Rare sensor faults: a telemetry field drops out, sticks or spikes (plant ``sensor_faults:``).

The physics stays true (energy still counts the real power); only what a sensor reports
is wrong, and every fault is a label (``factory-sim run --labels-out``):

- ``dropout``: the field is missing from telemetry for a while (the JSON encoder omits
  it; Sparkplug sends the metric with ``is_null``);
- ``stuck``: the field repeats the value it read when it stuck;
- ``spike``: one wild sample (3-8 x the true reading, or 3-8 units when that is ~0).

Faults start as a Poisson process per machine (rates per machine and 30 days, any of its
fields equally likely), drawn from a generator of their own so the plant's other draws
do not move when the rates change; dropout and stuck durations are exponential.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.plant_check import Ctx, as_map, flag, known, num, show

__all__ = ["KINDS", "SENSOR_FAULT_KEYS", "SensorFault", "SensorFaultRates", "SensorFaults",
           "parse_sensor_faults"]

KINDS = ("dropout", "stuck", "spike")
SENSOR_FAULT_KEYS = ("enabled", "dropout_per_month", "stuck_per_month", "spike_per_month",
                     "dropout_min", "stuck_min")
_MONTH_S = 30 * 86400.0


@dataclass(frozen=True)
class SensorFaultRates:
    """The plant's ``sensor_faults:`` block: rates per machine per 30 days, mean minutes."""

    enabled: bool = True
    dropout_per_month: float = 2.0
    stuck_per_month: float = 1.0
    spike_per_month: float = 3.0
    dropout_min: float = 20.0
    stuck_min: float = 60.0

    @property
    def per_s(self) -> tuple[float, float, float]:
        """Rates of (dropout, stuck, spike) per machine-second (0 when disabled)."""
        if not self.enabled:
            return 0.0, 0.0, 0.0
        return (self.dropout_per_month / _MONTH_S, self.stuck_per_month / _MONTH_S,
                self.spike_per_month / _MONTH_S)


def parse_sensor_faults(ctx: Ctx, raw: Any, path: str = "sensor_faults") -> SensorFaultRates:
    """``sensor_faults: false`` (off), ``true`` or a mapping of SENSOR_FAULT_KEYS."""
    if raw is None or raw is True:
        return SensorFaultRates()
    if raw is False:
        return SensorFaultRates(enabled=False)
    if not isinstance(raw, Mapping):
        raise ctx.fail(path, f"must be true, false or a mapping, got {show(raw)}")
    m = as_map(ctx, raw, path)
    known(ctx, m, path, SENSOR_FAULT_KEYS)
    d = SensorFaultRates()
    return SensorFaultRates(
        enabled=flag(ctx, m, "enabled", path, True),
        dropout_per_month=num(ctx, m, "dropout_per_month", path, d.dropout_per_month),
        stuck_per_month=num(ctx, m, "stuck_per_month", path, d.stuck_per_month),
        spike_per_month=num(ctx, m, "spike_per_month", path, d.spike_per_month),
        dropout_min=num(ctx, m, "dropout_min", path, d.dropout_min, lo=0.0, lo_open=True),
        stuck_min=num(ctx, m, "stuck_min", path, d.stuck_min, lo=0.0, lo_open=True))


@dataclass
class SensorFault:
    """One label: ``start_ms`` / ``end_ms`` are the first and last affected samples."""

    machine: str
    signal: str
    kind: str
    start_ms: int
    end_ms: int

    def as_dict(self, now_ms: int | None = None) -> dict[str, Any]:
        end = self.end_ms if now_ms is None else min(self.end_ms, now_ms)
        return {"machine": self.machine, "signal": self.signal, "kind": self.kind,
                "start_ms": self.start_ms, "end_ms": end}


class SensorFaults:
    """The sensor-fault layer of a model: :meth:`apply` each tick gives the fields that
    differ from the truth (``overrides``) and the machines missing a field (``dropped``).
    """

    def __init__(self, rates: SensorFaultRates, ids: list[str], dt: float, dt_ms: int,
                 rng: np.random.Generator) -> None:
        self.rates = rates
        self.ids = ids
        self.dt_ms = dt_ms
        self.rng = rng
        per_s = np.array(rates.per_s)
        self.lam = float(per_s.sum()) * len(ids) * dt  # new faults per tick, plant-wide
        self.cum = np.cumsum(per_s) / per_s.sum() if self.lam > 0 else np.ones(3)
        self.mean_ticks = (rates.dropout_min * 60 / dt, rates.stuck_min * 60 / dt)
        #: the (fractional) tick of the next fault: exponential gaps, a Poisson process
        self.next_at = self._gap() if self.lam > 0 else math.inf
        #: (signal, machine) -> (kind index, last tick, held value)
        self.active: dict[tuple[str, int], tuple[int, int, float]] = {}
        self.events: list[SensorFault] = []
        self.overrides: dict[str, np.ndarray] = {}
        self.dropped: frozenset[int] = frozenset()

    def _gap(self) -> float:
        return float(self.rng.exponential(1.0 / self.lam))

    def apply(self, tick: int, ts_ms: int,
              values_of: Callable[[], Mapping[str, np.ndarray]]) -> None:
        """Start and end faults at ``tick`` and set what the sensors report now.

        ``values_of()``: every telemetry field (NaN where a machine does not have it),
        only called on a tick with a fault.
        """
        if self.next_at > tick and not self.active:
            if self.overrides:
                self.overrides, self.dropped = {}, frozenset()
            return
        values = values_of()
        spikes: list[tuple[str, int, float]] = []
        while self.next_at <= tick:
            spikes += self._start(tick, ts_ms, values)
            self.next_at += self._gap()
        if self.active:
            self.active = {key: a for key, a in self.active.items() if a[1] >= tick}
        if not self.active and not spikes:
            if self.overrides:
                self.overrides, self.dropped = {}, frozenset()
            return
        out: dict[str, np.ndarray] = {}
        dropped = set()
        for (sig, i), (kind, _, held) in self.active.items():
            col = out.get(sig)
            if col is None:
                col = out[sig] = np.array(values[sig], dtype=np.float64)
            col[i] = math.nan if kind == 0 else held
            if kind == 0:
                dropped.add(i)
        for sig, i, v in spikes:
            col = out.get(sig)
            if col is None:
                col = out[sig] = np.array(values[sig], dtype=np.float64)
            col[i] = v
        self.overrides, self.dropped = out, frozenset(dropped)

    def _start(self, tick: int, ts_ms: int,
               values: Mapping[str, np.ndarray]) -> list[tuple[str, int, float]]:
        rng = self.rng
        i = int(rng.integers(len(self.ids)))
        fields = [f for f, a in values.items() if not math.isnan(a[i])]
        u, f_u, size = rng.random(3)
        sig = fields[min(int(f_u * len(fields)), len(fields) - 1)] if fields else ""
        kind = int(np.searchsorted(self.cum, u, side="right"))
        kind = min(kind, 2)
        if not sig or (sig, i) in self.active:
            return []
        now = float(values[sig][i])
        if kind == 2:  # one wild sample
            factor = 3.0 + 5.0 * size
            wild = now * factor if abs(now) > 0.5 else math.copysign(factor, now or 1.0)
            self.events.append(SensorFault(self.ids[i], sig, "spike", ts_ms, ts_ms))
            return [(sig, i, wild)]
        ticks = max(1, math.ceil(-math.log(max(1.0 - size, 1e-12)) * self.mean_ticks[kind]))
        last = tick + ticks - 1
        self.active[(sig, i)] = (kind, last, now)
        self.events.append(SensorFault(self.ids[i], sig, KINDS[kind], ts_ms,
                                       ts_ms + (ticks - 1) * self.dt_ms))
        return []

    def labels(self, now_ms: int) -> list[dict[str, Any]]:
        """Every fault so far, a running one ending at ``now_ms``."""
        return [e.as_dict(now_ms) for e in self.events]
