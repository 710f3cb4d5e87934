"""Type-specific signals: every (signal, model) pair of a plant's types as one group of
arrays over the machines that have it.

Models (``model:`` of a signal in the types file):

- ``level``: the state's value x (1 + noise x z) every sample (noise never flips the
  sign);
- ``thermal``: first-order approach to the state's value with time constant ``tau_min``
  (noise relative, on the reading only);
- ``charge``: the state's value is a rate per minute, integrated and clipped to
  [``min``, ``max``]; a charge signal at its minimum sends the machine to charge.

Sensor noise ``z`` is not white: :class:`RedNoise` is an AR(1) (a sampled
Ornstein-Uhlenbeck process) per machine and signal with a time constant in seconds, so
its spread is N(0,1) and its correlation from one sample to the next exp(-dt / tau)
whatever the tick. :class:`PowerFactor` turns power into phase current at a power factor
that rises with load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.plant import Machine, MachineType

#: Phase-to-phase supply voltage (V) for I = P / (sqrt(3) U pf).
SUPPLY_V = 400.0

LEVEL, THERMAL, CHARGE = 0, 1, 2
_MODELS = {"level": LEVEL, "thermal": THERMAL, "charge": CHARGE}
#: Rows of white noise read() takes (the model's rows 5-7).
_NOISE_ROWS = 3
#: A charge signal within this of its minimum needs charging.
_LOW_MARGIN = 0.5


@dataclass
class SignalGroup:
    name: str
    model: int
    idx: np.ndarray  # machine indices
    by_state: np.ndarray  # (len(idx), N_STATES)
    noise: np.ndarray
    alpha: np.ndarray  # thermal: 1 - exp(-dt / tau)
    lo: np.ndarray
    hi: np.ndarray
    value: np.ndarray  # current internal value (thermal / charge)
    noise_tau_s: np.ndarray  # correlation time of the reading's noise
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # arange(len(idx))

    def __post_init__(self) -> None:
        self.rows = np.arange(len(self.idx))


class TypeSignals:
    """The type-specific signals of every machine; ``values[name]`` is NaN where a
    machine does not have the signal."""

    def __init__(self, machines: list[Machine], types: dict[str, MachineType] | Any,
                 dt: float) -> None:
        members: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        for i, m in enumerate(machines):
            for s in types[m.type].signals:
                members.setdefault((s.name, s.model), []).append((i, s))
        self.groups: list[SignalGroup] = []
        for (name, model), group in members.items():
            idx = np.array([i for i, _ in group], np.int64)
            specs = [s for _, s in group]
            self.groups.append(SignalGroup(
                name=name, model=_MODELS[model], idx=idx,
                by_state=np.array([s.by_state for s in specs]),
                noise=np.array([s.noise for s in specs]),
                alpha=1 - np.exp(-dt / np.array([s.tau_s for s in specs])),
                lo=np.array([s.lo for s in specs]), hi=np.array([s.hi for s in specs]),
                value=np.zeros(len(idx)),
                noise_tau_s=np.array([s.noise_tau_s for s in specs])))
        n = len(machines)
        # One AR(1) per (noise row, machine): a group reads row gi % 3 of read()'s noise
        # (signals of one machine sharing a row share their noise, as before).
        tau = np.zeros((_NOISE_ROWS, n))
        for gi, g in enumerate(self.groups):
            tau[gi % _NOISE_ROWS, g.idx] = g.noise_tau_s
        self.red = RedNoise(tau, dt)
        self.values: dict[str, np.ndarray] = {g.name: np.full(n, np.nan) for g in self.groups}

    def start(self, state: np.ndarray, rng: np.random.Generator) -> None:
        """Initial values: each state's level; charge signals somewhere in 40-95."""
        for g in self.groups:
            g.value = g.by_state[g.rows, state[g.idx]].copy()
            if g.model == CHARGE:
                g.value = rng.uniform(40, 95, len(g.idx))

    def advance(self, state: np.ndarray, dt: float) -> None:
        """Thermal and charge signals over an interval spent in ``state``."""
        for g in self.groups:
            if g.model == LEVEL:
                continue  # no memory: computed in read()
            level = g.by_state[g.rows, state[g.idx]]
            if g.model == THERMAL:
                g.value += (level - g.value) * g.alpha
            else:
                g.value = np.clip(g.value + level * dt / 60, g.lo, g.hi)

    def read(self, state: np.ndarray, noise: np.ndarray) -> None:
        """What the sensors read now (``noise``: rows of white N(0,1), one per machine,
        the innovations of each signal's correlated noise)."""
        red = self.red.step(noise)
        for gi, g in enumerate(self.groups):
            z = red[gi % _NOISE_ROWS][g.idx]
            if g.model == LEVEL:
                level = g.by_state[g.rows, state[g.idx]]
                v = level * (1 + g.noise * z)  # noise never flips the sign of a reading
                v = np.where(level < 0, np.minimum(v, 0.0), np.maximum(v, 0.0))
            elif g.model == THERMAL:
                v = g.value * (1 + g.noise * z)
            else:
                v = g.value.copy()
            self.values[g.name][g.idx] = v

    def needs_charge(self, candidates: np.ndarray, idle: int, timer: np.ndarray,
                     dt: float) -> np.ndarray:
        """Machines among ``candidates`` whose charge signal is at its minimum; sets their
        timer to the time to charge (at the idle rate) to 90 % of the way to the max."""
        out: list[np.ndarray] = []
        for g in self.groups:
            if g.model != CHARGE:
                continue
            low = (g.value <= g.lo + _LOW_MARGIN) & candidates[g.idx]
            idx = g.idx[low]
            if idx.size:
                rate = np.maximum(g.by_state[low, idle], 1e-3)
                gap = (g.hi - g.value)[low]
                timer[idx] = np.maximum(0.9 * gap / rate * 60, dt)
                out.append(idx)
        return np.concatenate(out) if out else np.zeros(0, np.int64)


class RedNoise:
    """AR(1) noise with N(0,1) marginals: ``z = phi z + sqrt(1 - phi^2) e``, phi =
    exp(-dt / tau_s) per element (tau_s broadcast to the shape of the innovations ``e``).

    The first step starts from its innovations (already stationary), so a run needs no
    burn-in; the model feeds it the same white draws as before, in the same order.
    """

    def __init__(self, tau_s: np.ndarray | float, dt: float) -> None:
        tau = np.asarray(tau_s, dtype=np.float64)
        self.phi = np.where(tau > 0, np.exp(-dt / np.maximum(tau, 1e-9)), 0.0)
        self.gain = np.sqrt(1.0 - self.phi * self.phi)
        self.z: np.ndarray | None = None

    def step(self, white: np.ndarray) -> np.ndarray:
        if self.z is None:
            self.z = np.array(white, dtype=np.float64)
        else:  # in place: the caller reads z before the next step
            self.z *= self.phi
            self.z += self.gain * white
        return self.z


class PowerFactor:
    """Phase current from power at a power factor that rises with load, as an induction
    motor's does: ``pf = full - (full - no_load) (1 - x)^2`` with x = power / the type's
    running power (clipped to 0-1), so current is not a fixed multiple of power."""

    def __init__(self, rated_kw: np.ndarray, pf_no_load: np.ndarray, pf_full: np.ndarray,
                 voltage_v: float = SUPPLY_V) -> None:
        self.inv_rated = 1.0 / np.maximum(rated_kw, 1e-6)
        self.pf0 = pf_no_load
        self.span = pf_full - pf_no_load
        self.amps_per_kw = 1000.0 / (np.sqrt(3.0) * voltage_v)

    def pf(self, power_kw: np.ndarray) -> np.ndarray:
        short = 1.0 - np.minimum(np.abs(power_kw) * self.inv_rated, 1.0)
        out: np.ndarray = self.pf0 + self.span * (1.0 - short * short)
        return out

    def current_a(self, power_kw: np.ndarray) -> np.ndarray:
        out: np.ndarray = power_kw * self.amps_per_kw / self.pf(power_kw)
        return out
