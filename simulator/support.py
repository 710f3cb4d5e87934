"""Support equipment: machines that make no parts run for the production they serve.

A machine whose type has ``ideal_cycle_s: 0`` (conveyor, oven, washer, AGV, compressor,
stacker crane) serves the producing machines named by its ``serves:`` (machine key, else
its line's: area ids, line ids or ``area/line``); without one, the producing machines of
its own line, else of its own area, else of the whole plant. Its demand is the running
share of what it serves, weighted by the served machines' running power (a proxy for
the air, transport and heat they draw).

- Inside a line that makes parts (a conveyor, a curing oven) a support machine runs
  whenever any machine it serves runs, its load following the demand.
- A fleet (support machines of one type in a line that makes nothing, serving the same
  machines: AGVs, compressors) shares the demand: demand x fleet size of them are
  needed; that many run (the last one part-loaded), in turns (the order rotates every
  hour), the others stand by (``IDLE``, reason ``standby``).

A running support machine's load is its share of the demand (at least ``MIN_LOAD``), so
its power (idle + (run - idle) x load) follows production. Everything is arrays over the
support machines; the per-tick work is a few numpy operations, whatever the plant size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulator.downtime import R_PRODUCING, R_STANDBY
from simulator.plant_layout import served_lines
from telemetry.contract import MachineState

if TYPE_CHECKING:
    from simulator.plant import Machine, Plant

_RUNNING, _IDLE = int(MachineState.RUNNING), int(MachineState.IDLE)
#: Lowest load of a running support machine (fraction of full load).
MIN_LOAD = 0.3
#: Load (the model's load_pct scale) at full demand: power = the type's running power.
FULL_LOAD_PCT = 90.0
HOUR_MS = 3_600_000


def served_by(plant: Plant, machine: Machine) -> list[Machine]:
    """The producing machines a support machine serves (see the module docstring)."""
    line = next(ln for a in plant.areas if a.id == machine.area for ln in a.lines
                if ln.id == machine.line)
    refs = machine.serves if machine.serves is not None else line.serves
    if refs:
        lines = [ln for r in refs for ln in served_lines(plant.areas, r)]
    else:
        area = next(a for a in plant.areas if a.id == machine.area)
        lines = next((grp for grp in ([line], list(area.lines), [ln for _, ln in plant.lines])
                      if any(plant.types[m.type].producing
                             for ln in grp for m in ln.machines)), [])
    seen: dict[str, Machine] = {}
    for ln in lines:
        for m in ln.machines:
            if plant.types[m.type].producing:
                seen.setdefault(m.id, m)
    return list(seen.values())


class Support:
    """The support machines of a plant and the demand on each (arrays over them)."""

    def __init__(self, plant: Plant, index: dict[str, int], producing: np.ndarray,
                 run_kw: np.ndarray) -> None:
        machines = plant.machines
        line_makes = {(a.id, ln.id): any(plant.types[m.type].producing for m in ln.machines)
                      for a, ln in plant.lines}
        idx: list[int] = []
        pool_of: list[int] = []
        pools: dict[tuple[object, ...], int] = {}
        pool_group: list[int] = []
        groups: dict[tuple[int, ...], int] = {}  # served sets: demand once per set
        pair_group: list[int] = []
        pair_machine: list[int] = []
        for m in machines:
            i = index[m.id]
            if producing[i]:
                continue
            served = tuple(index[s.id] for s in served_by(plant, m))
            if not served:
                continue  # a plant that makes nothing: the machine follows its calendar
            key: tuple[object, ...] = (
                ("fleet", m.area, m.line, m.type, served)
                if not line_makes[m.area, m.line] else ("inline", i))
            if served not in groups:
                groups[served] = len(groups)
                pair_group.extend([groups[served]] * len(served))
                pair_machine.extend(served)
            if key not in pools:
                pools[key] = len(pools)
                pool_group.append(groups[served])
            idx.append(i)
            pool_of.append(pools[key])
        self.idx = np.array(idx, np.int64)
        self.pool = np.array(pool_of, np.int64)
        self.n_pools = len(pools)
        self.size = np.bincount(self.pool, minlength=self.n_pools).astype(np.float64)
        # Rank within the pool, in plant order.
        rank = np.zeros(len(idx), np.int64)
        seen = np.zeros(self.n_pools, np.int64)
        for j, p in enumerate(pool_of):
            rank[j], seen[p] = seen[p], seen[p] + 1
        self.rank = rank
        self.n_groups = len(groups)
        self.pool_group = np.array(pool_group, np.int64)
        self.pair_group = np.array(pair_group, np.int64)
        self.pair_machine = np.array(pair_machine, np.int64)
        self.pair_w = np.maximum(run_kw[self.pair_machine], 1e-3)
        self.group_w = np.bincount(self.pair_group, self.pair_w, minlength=self.n_groups)
        #: Load (load_pct) of each support machine for the interval being decided.
        self.load_pct = np.full(len(idx), FULL_LOAD_PCT)
        self.demand = np.zeros(self.n_pools)

    @property
    def active(self) -> bool:
        return self.idx.size > 0

    def dispatch(self, new: np.ndarray, new_reason: np.ndarray, timer: np.ndarray,
                 ts: int) -> None:
        """Run or stand by every support machine free to run (``new`` RUNNING/producing),
        from the states the producing machines will be in."""
        if not self.active:
            return
        running = new[self.pair_machine] == _RUNNING
        by_group = np.bincount(self.pair_group, self.pair_w * running,
                               minlength=self.n_groups) / self.group_w
        self.demand = by_group[self.pool_group]
        size = self.size[self.pool]
        turn = (self.rank + ts // HOUR_MS) % size.astype(np.int64)
        share = np.clip(self.demand[self.pool] * size - turn, 0.0, 1.0)
        i = self.idx
        free = (new[i] == _RUNNING) & (new_reason[i] == R_PRODUCING)
        idle = i[free & (share <= 0.0)]
        new[idle], new_reason[idle], timer[idle] = _IDLE, R_STANDBY, 0.0
        self.load_pct = FULL_LOAD_PCT * np.maximum(share, MIN_LOAD)

    def apply_load(self, load: np.ndarray, running: np.ndarray, noise: np.ndarray) -> None:
        """Set the running support machines' load (load_pct) to their share of demand."""
        if not self.active:
            return
        i = self.idx
        load[i] = np.where(running[i], np.clip(self.load_pct * (1 + 0.03 * noise[i]), 1.0,
                                               100.0), load[i])
