"""Lines that flow: the producing machines of a serial line are coupled through buffers.

Between two consecutive producing machines of a ``flow: serial`` line sits a buffer of
``buffer`` parts (the line's, or the upstream machine's own ``buffer``). Each tick:

- a machine makes no more parts than its input buffer holds (the first machine of a line
  has an unlimited supply) and no more than its output buffer has room for (the last
  one ships everything); a part finished but not passed on waits in the machine;
- the upstream machine's good parts enter the buffer, every part the downstream machine
  makes (good or scrap) takes one out;
- a running machine whose input buffer is empty while the machine before it is stopped
  goes ``IDLE`` / ``starved``; one whose output buffer is full while the machine after it
  is stopped goes ``IDLE`` / ``blocked``. Both propagate along the line within the tick
  and end as soon as the cause does.

Machines that make no parts (conveyors, ovens, washers) are not part of the flow. Rate
differences between running machines show as lower performance, not as stops.
Parallel lines are independent cells: no buffers.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from simulator.plant import Plant
from telemetry.contract import MachineState

_RUNNING, _IDLE = int(MachineState.RUNNING), int(MachineState.IDLE)


class LineFlow:
    """The buffers of every serial line of a plant, as arrays over links (up -> down)."""

    def __init__(self, plant: Plant, index: dict[str, int], producing: np.ndarray) -> None:
        n = len(index)
        up: list[int] = []
        down: list[int] = []
        cap: list[int] = []
        pos: list[int] = []
        for _, line in plant.lines:
            if line.flow != "serial":
                continue
            chain = [m for m in line.machines if producing[index[m.id]]]
            for k, (a, b) in enumerate(pairwise(chain)):
                up.append(index[a.id])
                down.append(index[b.id])
                cap.append(max(1, line.buffer_after(a)))
                pos.append(k)
        self.up = np.array(up, np.int64)
        self.down = np.array(down, np.int64)
        self.cap = np.array(cap, np.int64)
        self.level = self.cap // 2  # buffers start half full
        self.in_link = np.full(n, -1, np.int64)
        self.out_link = np.full(n, -1, np.int64)
        self.in_link[self.down] = np.arange(len(down))
        self.out_link[self.up] = np.arange(len(up))
        self.fed = np.flatnonzero(self.in_link >= 0)
        self.feeding = np.flatnonzero(self.out_link >= 0)
        positions = np.array(pos, np.int64)
        #: Link indices by position along their line, for propagation within a tick.
        self.by_pos = [np.flatnonzero(positions == p) for p in range(max(pos, default=-1) + 1)]

    @property
    def active(self) -> bool:
        return len(self.up) > 0

    def clamp(self, units: np.ndarray) -> np.ndarray:
        """Units each machine can pass on this tick, given its buffers."""
        if not self.active:
            return units
        out = units.copy()
        f = self.fed
        out[f] = np.minimum(out[f], self.level[self.in_link[f]])
        g = self.feeding
        out[g] = np.minimum(out[g], self.cap[self.out_link[g]] - self.level[self.out_link[g]])
        return out

    def move(self, good: np.ndarray, units: np.ndarray) -> None:
        """Good parts of the upstream machines in, every part made downstream out."""
        if self.active:
            self.level += good[self.up] - units[self.down]

    def gate(self, new: np.ndarray, new_reason: np.ndarray, timer: np.ndarray,
             starved: int, blocked: int) -> None:
        """Starve / block the machines the next interval would run, propagating the stop."""
        if not self.active:
            return
        for links in self.by_pos:  # upstream first: a starved machine starves the next
            d = self.down[links]
            hit = d[(new[d] == _RUNNING) & (self.level[links] < 1)
                    & (new[self.up[links]] != _RUNNING)]
            new[hit], new_reason[hit], timer[hit] = _IDLE, starved, 0.0
        for links in reversed(self.by_pos):  # downstream first: a blocked one blocks
            u = self.up[links]
            hit = u[(new[u] == _RUNNING) & (self.level[links] >= self.cap[links])
                    & (new[self.down[links]] != _RUNNING)]
            new[hit], new_reason[hit], timer[hit] = _IDLE, blocked, 0.0
