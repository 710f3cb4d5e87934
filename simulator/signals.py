"""Type-specific signals: every (signal, model) pair of a plant's types as one group of
arrays over the machines that have it.

Models (``model:`` of a signal in the types file):

- ``level``: the state's value x (1 + noise x N(0,1)) every sample, no memory (noise
  never flips the sign);
- ``thermal``: first-order approach to the state's value with time constant ``tau_min``
  (noise relative, on the reading only);
- ``charge``: the state's value is a rate per minute, integrated and clipped to
  [``min``, ``max``]; a charge signal at its minimum sends the machine to charge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.plant import Machine, MachineType

LEVEL, THERMAL, CHARGE = 0, 1, 2
_MODELS = {"level": LEVEL, "thermal": THERMAL, "charge": CHARGE}
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
                value=np.zeros(len(idx))))
        n = len(machines)
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
        """What the sensors read now (``noise``: rows of N(0,1), one per machine)."""
        for gi, g in enumerate(self.groups):
            z = noise[gi % len(noise)][g.idx]
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
