"""Planned downtime by reason: per machine and downtime key, the seconds of planned,
not-running time of the current `counts` interval (and of the whole run, for the truth).

Keys are the `state` reasons (:data:`REASONS`), then one per fault code: a FAULT's
downtime is booked under its code while the machine waits for the technician.
"""

from __future__ import annotations

import numpy as np

from telemetry.contract import MachineState

# Reasons (the `reason` field of `state`); a FAULT's reason is its fault code.
# New reasons are appended, never inserted (dashboards and stored data keep their meaning).
REASONS = ("", "producing", "starved", "blocked", "changeover", "warm-up", "break",
           "no shift", "preventive", "repair", "charging", "fault", "holiday", "standby",
           "micro-stop", "waiting-parts")
(R_NONE, R_PRODUCING, R_STARVED, R_BLOCKED, R_CHANGEOVER, R_WARMUP, R_BREAK, R_NOSHIFT,
 R_PREVENTIVE, R_REPAIR, R_CHARGING, R_FAULT) = range(12)
R_HOLIDAY = REASONS.index("holiday")  # appended (issue 16): OFF for a holiday
R_STANDBY = REASONS.index("standby")  # appended (issue 16): support equipment, no demand
R_MICROSTOP = REASONS.index("micro-stop")  # appended (issue 16): a stop outlasting a tick
R_WAITPARTS = REASONS.index("waiting-parts")  # appended (issue 16): repair waits for parts
N_REASONS = len(REASONS)
_FAULT = int(MachineState.FAULT)
_MAINT = int(MachineState.MAINTENANCE)


def fault_open(state: int, reason: int) -> bool:
    """A machine in this state and reason has a fault not yet repaired: waiting for a
    technician, in repair or waiting for parts."""
    return ((state == _FAULT and reason == R_FAULT)
            or (state == _MAINT and reason in (R_REPAIR, R_WAITPARTS)))


class Downtime:
    """``acc_s`` / ``acc_state``: this interval's seconds and the state they were spent in;
    ``rows`` marks the machines with any (a reset touches only those); ``truth_s`` the
    whole run. ``codes`` is the model's fault-code table (it may grow)."""

    def __init__(self, n: int, codes: list[tuple[str, str, str, float, str]]) -> None:
        self.codes = codes
        self.acc_s = np.zeros((n, self.width))
        self.acc_state = np.zeros((n, self.width), np.int8)
        self.rows = np.zeros(n, bool)
        self.truth_s = np.zeros((n, self.width))

    @property
    def width(self) -> int:
        """Number of downtime keys: the REASONS, then one per fault code."""
        return N_REASONS + len(self.codes)

    def reason(self, key: int) -> str:
        """The `reason` a downtime key stands for: a REASONS name or a fault code."""
        return REASONS[key] if key < N_REASONS else self.codes[key - N_REASONS][0]

    def _grow(self) -> None:
        width = self.width

        def grown(a: np.ndarray) -> np.ndarray:
            extra = width - a.shape[1]
            return np.pad(a, ((0, 0), (0, extra))) if extra > 0 else a

        self.acc_s = grown(self.acc_s)
        self.acc_state = grown(self.acc_state)
        self.truth_s = grown(self.truth_s)

    def add(self, state: np.ndarray, reason: np.ndarray, fault_code: np.ndarray,
            down: np.ndarray, dt: float) -> None:
        """One tick of planned, not-running time (``down``) by reason."""
        di = np.flatnonzero(down)
        if not di.size:
            return
        self._grow()
        key = reason[di]
        is_code = (state[di] == _FAULT) & (key == R_FAULT)
        key = np.where(is_code, N_REASONS + fault_code[di], key)
        self.acc_s[di, key] += dt
        self.rows[di] = True
        self.acc_state[di, key] = state[di]
        self.truth_s[di, key] += dt

    def reset(self) -> None:
        """Start a new `counts` interval."""
        if self.rows.any():
            self.acc_s[self.rows] = 0.0
            self.rows[:] = False
