"""Fault codes of a plant: one global table and, per machine, its type's codes with
their cumulative weights (for drawing which fault a random failure is: only the type's
``kind: random`` faults take part; wear faults are :mod:`simulator.wear`'s)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator.plant import MachineType


class FaultCodes:
    """``codes[k]`` = (code, message, severity, mttr_s, message_zh); ``table[i]`` the
    code numbers of machine i's type, ``cum[i]`` the cumulative weights of its random
    faults (wear faults weigh 0); ``has_random[i]`` whether it has any."""

    def __init__(self, types: Sequence[MachineType], type_idx: np.ndarray) -> None:
        self.codes: list[tuple[str, str, str, float, str]] = []
        self._index: dict[str, int] = {}
        width = max(len(t.faults) for t in types)
        table = np.zeros((len(types), width), np.int64)
        cum = np.ones((len(types), width))
        has_random = np.zeros(len(types), bool)
        for ti, t in enumerate(types):
            weights = np.array([f.weight if f.kind == "random" else 0.0 for f in t.faults])
            has_random[ti] = weights.sum() > 0
            cw = np.cumsum(weights) / max(weights.sum(), 1e-300)
            for fi, f in enumerate(t.faults):
                key = f"{t.id}/{f.code}"
                if key not in self._index:
                    self._index[key] = len(self.codes)
                    mttr = (f.mttr_min if f.mttr_min is not None else t.mttr_min) * 60
                    self.codes.append((f.code, f.message, f.severity, mttr, f.message_zh))
                table[ti, fi] = self._index[key]
                cum[ti, fi] = cw[fi]
            table[ti, len(t.faults):] = table[ti, len(t.faults) - 1]
        self.table = table[type_idx]
        self.cum = cum[type_idx]
        self.has_random = has_random[type_idx]

    def draw(self, machines: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Code numbers for failing ``machines`` given uniform draws ``u``, by weight."""
        col = (u[:, None] >= self.cum[machines]).sum(axis=1)
        col = np.minimum(col, self.table.shape[1] - 1)
        codes: np.ndarray = self.table[machines, col]
        return codes

    def index(self, type_id: str, code: str) -> int:
        """The code number of a type's fault."""
        return self._index[f"{type_id}/{code}"]

    def code_number(self, machine: int, code: str | None) -> int | None:
        """The number of one of machine's type's codes by name, else None."""
        if code is None:
            return None
        for c in self.table[machine]:
            if self.codes[c][0] == code:
                return int(c)
        return None

    def mttr_s(self, codes: np.ndarray) -> np.ndarray:
        return np.array([self.codes[c][3] for c in codes])

    def code_for(self, machine: int, code: str | None, mttr_s: float) -> int:
        """The code number for a demo fault: the machine's first code by default, one of
        its type's by name, else an ad-hoc code (added once)."""
        row = self.table[machine]
        if code is None:
            return int(row[0])
        for c in row:
            if self.codes[c][0] == code:
                return int(c)
        key = f"adhoc/{code}"
        if key not in self._index:
            self._index[key] = len(self.codes)
            self.codes.append((code, f"Demo fault {code}", "critical", mttr_s,
                               f"演示故障 {code}"))
        return self._index[key]


def zh_if(text: str, message_zh: str, message: str) -> str:
    """``text`` when the type gives a Chinese message (message_zh differs), else ""."""
    return text if message_zh != message else ""
