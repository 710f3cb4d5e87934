"""What one model tick hands to the encoder (frames and their events), the ground-truth
fault episodes, and the message cadences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.business import SalesOrder


@dataclass
class AlarmEvent:
    machine: int
    code: str
    active: bool
    severity: str
    message: str
    wo_id: str
    message_zh: str = ""  # empty when the type gives no Chinese message


@dataclass
class WorkOrderEvent:
    machine: int
    wo_id: str
    status: str
    status_code: int
    progress_pct: float
    technician: str
    fault_code: str
    opened_ts: int
    technician_zh: str = ""


@dataclass
class Frame:
    """What one tick produced, for the encoder. Arrays are views: read before the next step."""

    ts_ms: int
    tick: int
    telemetry: bool = True
    state_all: bool = False
    state_changed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    counts: bool = False
    energy: bool = False
    alarms: list[AlarmEvent] = field(default_factory=list)
    workorders: list[WorkOrderEvent] = field(default_factory=list)
    sales: list[SalesOrder] = field(default_factory=list)
    meta: bool = False


@dataclass
class Episode:
    """Ground-truth label of one fault: when it started and when the machine was back."""

    machine: str
    code: str
    source: str  # random | control | scenario
    start_ms: int
    wo_id: str
    end_ms: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "event": "fault", "code": self.code,
                "source": self.source, "start_ms": self.start_ms, "end_ms": self.end_ms,
                "wo_id": self.wo_id}


@dataclass(frozen=True)
class Intervals:
    """Message cadences in ticks of ``step_s``."""

    step_s: float = 5.0
    counts_every: int = 6
    state_every: int = 12
    energy_every: int = 12
    wo_every: int = 12

    @classmethod
    def from_seconds(cls, step_s: float, counts_s: float = 30.0, state_s: float = 60.0,
                     energy_s: float = 60.0, wo_s: float = 60.0) -> Intervals:
        if not (0.1 <= step_s <= 3600):
            raise ValueError(f"telemetry interval must be 0.1-3600 s, got {step_s:g}")

        def ticks(v: float) -> int:
            return max(1, round(v / step_s))

        return cls(step_s, ticks(counts_s), ticks(state_s), ticks(energy_s), ticks(wo_s))

