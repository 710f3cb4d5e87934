"""The maintenance crew: technicians with capacity, a repair queue and waits for parts.

A fault first waits its response time (the call, the walk to the machine: ``FAULT`` with
the fault code as reason), then asks for a technician. The crew is the plant's
``technicians:`` (the first ``maintenance.crew`` of them); each works on one machine at a
time. A machine that finds nobody free queues (still ``FAULT``, so the queue time is
downtime of the fault's code), first come first served; demo and scenario faults go to
the front so a demo shows at once. The work order names the technician who took it.

A share ``parts_share`` of the random and wear-driven repairs need spare parts: after a
third of the repair (diagnosis, dismantling) the technician leaves, the machine waits
``MAINTENANCE`` / ``waiting-parts`` for a lognormal time (median ``parts_wait_h``, log-sd
``parts_sigma``: the long tail of repair times), its work order goes back to ``open``,
and then it queues again for the rest of the repair.

Draws come from the model's loss generator, per event (a repair start), in machine
order, so a run stays the same for the same seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulator.downtime import R_REPAIR, R_WAITPARTS
from simulator.plant import Plant
from simulator.transitions import wo_progress
from telemetry.contract import MachineState

if TYPE_CHECKING:
    from simulator.frames import Frame
    from simulator.model import PlantModel

_MAINT = int(MachineState.MAINTENANCE)
#: Share of a repair done before the parts are found missing.
_BEFORE_PARTS = 1 / 3
#: Faults from these sources may wait for parts (demo faults keep their duration).
_PARTS_SOURCES = ("random", "wear")


class Crew:
    """Who repairs what: ``busy[t]`` the machine technician ``t`` is on (-1: free)."""

    def __init__(self, plant: Plant, n: int, rng: np.random.Generator) -> None:
        mt = plant.maintenance
        self.people = plant.technicians[: mt.crew or len(plant.technicians)]
        self.parts_share = mt.parts_share
        self.parts_mu = float(np.log(mt.parts_wait_h * 3600.0))
        self.parts_sigma = mt.parts_sigma
        self.rng = rng
        self.busy = np.full(len(self.people), -1, np.int64)
        self.assigned = np.full(n, -1, np.int64)  # technician per machine, -1: none
        self.queue: list[int] = []  # machines waiting for a technician, in order
        self.queued = np.zeros(n, bool)
        self.parts_s = np.zeros(n)  # parts wait ahead, after the current repair part
        self.rest_s = np.zeros(n)  # repair seconds left after that wait
        self.truth_queued = 0  # requests that found every technician busy

    @property
    def size(self) -> int:
        return len(self.people)

    def step(self, m: PlantModel, frame: Frame, new: np.ndarray, new_reason: np.ndarray,
             waiting: np.ndarray, resuming: np.ndarray, to_parts: np.ndarray,
             back: np.ndarray, repairing: np.ndarray) -> None:
        """One tick: free the technicians of finished repair parts (``back``: the machine
        is repaired; ``to_parts``: it now waits for parts), queue the machines that are
        ``waiting`` for one (``resuming``: after the parts came), and hand free
        technicians to the front of the queue. ``repairing``: in repair this tick."""
        # Technicians whose machine left repair some other way (a `clear` command).
        on = self.busy >= 0
        stale = np.flatnonzero(on)[~repairing[self.busy[on]]]
        for t in stale:
            self._release(int(self.busy[t]))
        for i in np.flatnonzero(back).tolist():
            self._release(i)
        for i in np.flatnonzero(to_parts).tolist():
            self._release(i)
            m.technician[i] = None
            frame.workorders.append(wo_progress(m, i, "open"))
            new[i], new_reason[i] = _MAINT, R_WAITPARTS
            m.timer[i] = self.parts_s[i]
            self.parts_s[i] = 0.0
        # The queue: machines no longer waiting (cleared) leave it; new ones join.
        if self.queue:
            self.queue = [i for i in self.queue if waiting[i]]
            self.queued[:] = False
            self.queued[self.queue] = True
        joined = np.flatnonzero(waiting & ~self.queued).tolist()
        for i in joined:
            ep = m._open_episode.get(i)
            if ep is not None and ep.source not in _PARTS_SOURCES:
                self.queue.insert(0, i)
            else:
                self.queue.append(i)
            self.queued[i] = True
        free = np.flatnonzero(self.busy < 0)
        while self.queue and free.size:
            i = self.queue.pop(0)
            self.queued[i] = False
            t = int(free[self.rng.integers(free.size)]) if free.size > 1 else int(free[0])
            free = free[free != t]
            self._start(m, frame, i, t, bool(resuming[i]), new, new_reason)
        self.truth_queued += sum(1 for i in joined if self.queued[i])

    def _start(self, m: PlantModel, frame: Frame, i: int, t: int, resume: bool,
               new: np.ndarray, new_reason: np.ndarray) -> None:
        self.busy[t] = i
        self.assigned[i] = t
        m.technician[i] = self.people[t]
        new[i], new_reason[i] = _MAINT, R_REPAIR
        if resume:  # back from the parts wait: the rest of the repair
            m.timer[i], self.rest_s[i] = self.rest_s[i], 0.0
        else:
            total = float(m.repair_s[i])
            m.timer_total[i] = total
            ep = m._open_episode.get(i)
            parts = (self.rng.random() < self.parts_share
                     and (ep is None or ep.source in _PARTS_SOURCES))
            wait = self.rng.lognormal(self.parts_mu, self.parts_sigma)
            before = total * _BEFORE_PARTS if parts else total
            m.timer[i] = before
            self.rest_s[i] = total - before
            self.parts_s[i] = max(wait, m.dt) if parts else 0.0
        frame.workorders.append(wo_progress(m, i, "in_progress"))

    def _release(self, i: int) -> None:
        t = self.assigned[i]
        if t >= 0:
            self.busy[t] = -1
            self.assigned[i] = -1
