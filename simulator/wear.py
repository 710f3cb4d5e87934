"""Component wear: the wear-driven failure modes of every machine, their hazard, and the
vibration they show before they fail (the P-F interval).

Each machine has one component per ``kind: wear`` fault of its type, held as
``(n_machines, n_modes)`` arrays. A component's ``age`` is the life it has used, in units
of its ``life_h`` (running hours at 75 % load; age grows with running time x load). At
install a component draws its failure point from a Weibull distribution in age (scale
1 = ``life_h``, shape :data:`SHAPE`): its hazard is near zero while new and rises
steeply towards the end of life. It fails (a fault with source ``wear``) when its age
reaches the failure point while the machine runs. From the P point, ``pf_h`` running
hours before that, a defect develops: its progress ``defect`` goes 0 -> 1 and shows in

- vibration RMS: x (1 + ``wear_gain`` x defect²) (the type's ``vibration_mm_s``),
- crest factor (peak / RMS, ``vibration_crest``): x (1 + :data:`CREST_GAIN` x
  sqrt(defect) x (1 - 0.35 defect²)): impacts show early, RMS catches up later,
- temperature (+ :data:`HEAT_C` x defect² degC while running) and power and current
  (x (1 + :data:`FRICTION` x defect²)).

A repair renews only the failed component (age 0, a new failure point); a random fault's
repair leaves the components as they are; preventive maintenance takes ``pm_restore`` of
every component's age off (its failure point stays, so its remaining life grows by as
much). The demo ``wear`` / ``ramp`` actions age one component to a value over a time
(:meth:`Wear.start_ramp`); a type without wear modes has one demo-only component for
them, which never fails and any repair renews. Random numbers come from a generator of
this module's own, seeded from the model's seed, so the model's own draws do not move.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator.faults import FaultCodes
from simulator.machine_types import PF_FRACTION
from simulator.plant import MachineType

#: Weibull shape of a wear mode's life (hazard ~ age^(SHAPE-1)).
SHAPE = 4.0
#: Load (%) at which a component ages at 1 life_h per running hour.
NOMINAL_LOAD = 75.0
CREST_GAIN = 0.8
HEAT_C = 4.0
FRICTION = 0.06
#: A ramp to value v >= P point leaves the defect at this progress at its end.
RAMP_DEFECT = 0.9
#: The seed offset of this module's generator.
SEED_OFFSET = 16_016


def _equilibrium_ages(u: np.ndarray) -> np.ndarray:
    """Ages of components in a plant that has run for ever (renewal equilibrium: density
    proportional to the Weibull survival), from uniform draws ``u``."""
    x = np.linspace(0.0, 3.0, 3001)
    cdf = np.cumsum(np.exp(-(x ** SHAPE)))
    cdf = (cdf - cdf[0]) / (cdf[-1] - cdf[0])
    out: np.ndarray = np.interp(u, cdf, x)
    return out


class Wear:
    """Wear-driven components of every machine (``n_modes`` = the most any type has)."""

    def __init__(self, types: Sequence[MachineType], type_idx: np.ndarray,
                 faults: FaultCodes, seed: int) -> None:
        self.rng = np.random.default_rng(seed + SEED_OFFSET)
        modes = [[f for f in t.faults if f.kind == "wear"] for t in types]
        width = max(1, *(len(ms) for ms in modes))
        nt = len(types)
        life = np.full((nt, width), np.inf)
        pf = np.ones((nt, width))
        restore = np.zeros((nt, width))
        code = np.full((nt, width), -1, np.int64)
        shows = np.zeros((nt, width), bool)
        for ti, (t, ms) in enumerate(zip(types, modes, strict=True)):
            for k, f in enumerate(ms):
                life[ti, k] = f.life_h * 3600.0
                pf[ti, k] = f.pf_h / f.life_h
                restore[ti, k] = f.pm_restore
                code[ti, k] = faults.index(t.id, f.code)
                shows[ti, k] = True
            if not ms:  # a demo-only component: a ramp shows on it, it never fails
                life[ti, 0] = t.wear_life_h * 3600.0
                pf[ti, 0] = PF_FRACTION
                shows[ti, 0] = True
        self.life_s = life[type_idx]
        self.pf = pf[type_idx]
        self.restore = restore[type_idx]
        self.code = code[type_idx]
        self.valid = self.code >= 0  # a real wear mode (fails)
        self.shows = shows[type_idx]  # a wear mode or a demo-only component
        self.demo_only = self.shows.any(axis=1) & ~self.valid.any(axis=1)
        gain = np.array([t.wear_gain for t in types])[type_idx]
        self.gain = np.where(self.shows, gain[:, None], 0.0)
        self.crest0 = np.array([t.vibration_crest for t in types])[type_idx]
        n = len(type_idx)
        self.shape = (n, width)
        rng = self.rng
        self.age = np.where(self.valid, _equilibrium_ages(rng.random(self.shape)), 0.0)
        self.fail_at = np.where(self.valid, self._draw_fail(self.age, rng.random(self.shape)),
                                np.inf)
        self.defect = np.zeros(self.shape)
        self._ramps: dict[tuple[int, int], tuple[int, int, float, float]] = {}
        self._update()

    # -- the hidden state ---------------------------------------------------------------------
    @staticmethod
    def _draw_fail(age: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Failure points of components of ``age`` that still work (Weibull, conditional)."""
        out: np.ndarray = (age ** SHAPE - np.log1p(-u)) ** (1 / SHAPE)
        return out

    def _update(self) -> None:
        start = self.fail_at - self.pf
        self.defect = np.where(self.shows,
                               np.clip((self.age - start) / self.pf, 0.0, 1.0), 0.0)
        d2 = self.defect * self.defect
        self.worst = self.defect.max(axis=1)  # per machine
        self.vib_factor = 1.0 + (self.gain * d2).sum(axis=1)
        w = self.worst
        self.crest_factor = 1.0 + CREST_GAIN * np.sqrt(w) * (1.0 - 0.35 * w * w)
        self.heat_c = HEAT_C * w * w
        self.friction = 1.0 + FRICTION * w * w

    @property
    def level(self) -> np.ndarray:
        """Per machine: the age of its most used component (0 without wear modes)."""
        out: np.ndarray = self.age.max(axis=1)
        return out

    def advance(self, run_s: np.ndarray, load: np.ndarray, now_ms: int) -> None:
        """Age the components of running machines over an interval; ramps set theirs."""
        rate = run_s * (0.4 + 0.6 * load / NOMINAL_LOAD)
        self.age += rate[:, None] / self.life_s
        if self._ramps:
            self.advance_ramps(now_ms)
        else:
            self._update()

    def failing(self, can_fail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Machines among ``can_fail`` whose component reached its failure point, and the
        fault code number of that component (the first such one)."""
        due = (self.age >= self.fail_at) & can_fail[:, None]
        rows = np.flatnonzero(due.any(axis=1))
        if not rows.size:
            return rows, rows
        cols = due[rows].argmax(axis=1)
        return rows, self.code[rows, cols]

    def mode_of(self, i: int, code: int) -> int:
        """The column of machine ``i``'s component for fault code number ``code``, or -1."""
        hits = np.flatnonzero(self.code[i] == code)
        return int(hits[0]) if hits.size else -1

    def repaired(self, i: int, code: int) -> None:
        """Machine ``i`` back from fault ``code``: a wear mode's component is new."""
        k = self.mode_of(i, code)
        if k >= 0:
            self.renew(i, k, 0.0)
        elif self.demo_only[i]:  # as before wear modes: any repair resets it
            self._ramps.pop((i, 0), None)
            self.age[i, 0], self.fail_at[i, 0] = 0.0, np.inf
            self._update()

    def maintained(self, machines: np.ndarray) -> None:
        """Preventive maintenance done on ``machines``: each component loses its
        ``pm_restore`` fraction of age (the failure point stays)."""
        if machines.size:
            self.age[machines] *= 1.0 - self.restore[machines]
            self._update()

    # -- demo ramps ---------------------------------------------------------------------------
    def start_ramp(self, i: int, k: int, value: float, t0_ms: int, t1_ms: int) -> None:
        """Age machine ``i``'s component ``k`` to ``value`` (1.0 = its life) from ``t0_ms``
        to ``t1_ms``. Ramping up past the P point, the failure point moves so that the
        defect climbs through the whole ramp and stands at :data:`RAMP_DEFECT` at its end
        (the component then fails after its last ``(1 - RAMP_DEFECT) x pf_h`` running
        hours unless repaired)."""
        if not self.shows[i, k]:
            return
        a0 = float(self.age[i, k])
        pf = float(self.pf[i, k])
        if value > a0:
            fail_at = max(value, 1.0) + (1.0 - RAMP_DEFECT) * pf
            self.fail_at[i, k] = fail_at
            a0 = max(a0, min(value, fail_at - pf))  # the climb starts at the P point
        self._ramps[(i, k)] = (t0_ms, max(t1_ms, t0_ms), a0, value)
        self.advance_ramps(t0_ms)

    def advance_ramps(self, now_ms: int) -> None:
        for (i, k), (t0, t1, a0, v) in list(self._ramps.items()):
            f = 1.0 if t1 <= t0 else min(1.0, max(0.0, (now_ms - t0) / (t1 - t0)))
            self.age[i, k] = a0 + (v - a0) * f
            if f >= 1.0:
                del self._ramps[(i, k)]
        self._update()

    def ramp_start_age(self, i: int, k: int) -> float:
        ramp = self._ramps.get((i, k))
        return ramp[2] if ramp else float(self.age[i, k])

    def renew(self, i: int, k: int, age: float) -> None:
        """Put a fresh component of ``age`` in (a demo reset)."""
        if self.shows[i, k]:
            self._ramps.pop((i, k), None)
            self.age[i, k] = age
            u = self.rng.random(1)
            self.fail_at[i, k] = self._draw_fail(np.array([age]), u)[0] \
                if self.valid[i, k] else np.inf
            self._update()

    def first_mode(self, i: int, code: int | None) -> int:
        """The component a demo wear command names: its fault code's, else the first."""
        k = self.mode_of(i, code) if code is not None else -1
        return k if k >= 0 else 0

    # -- what the sensors read ----------------------------------------------------------------
    def crest(self, turning: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Crest factor of every machine's vibration (the defect shows while it turns)."""
        f = np.where(turning, self.crest_factor, 1.0)
        out: np.ndarray = np.maximum(self.crest0 * f * (1 + 0.04 * noise), 1.0)
        return out
