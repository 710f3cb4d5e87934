"""The `downtime` kind: planned downtime by reason, summing to Σplanned_s - Σrun_s."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import load_plant
from simulator.truth import ground_truth
from telemetry.contract import KINDS
from telemetry.points import to_line

from .helpers_sim import MONDAY_0800_LOCAL_MS, tiny_plant

UNPLANNED = {"no shift", "break", "preventive"}
STATE_OF_REASON = {"starved": "IDLE", "blocked": "IDLE", "charging": "IDLE",
                   "changeover": "SETUP", "warm-up": "SETUP", "repair": "MAINTENANCE",
                   "waiting-parts": "MAINTENANCE"}


def _run(model: PlantModel, ticks: int,
         commands: dict[int, tuple[str, dict[str, Any]]] | None = None,
         ) -> list[tuple[str, str, dict[str, Any]]]:
    enc = Encoder(model)
    out = []
    for k in range(ticks):
        if commands and k in commands:
            machine, params = commands[k]
            model.command("fault", machine, **params)
        frame = model.step(force_counts=k == ticks - 1)
        out += [msg for msg in enc.messages(frame) if msg[0] in ("counts", "downtime")]
        model.after_emit(frame)
    return out


def test_tiny_plant_fault_by_hand() -> None:
    """A 20 min demo fault: 5 min FAULT under its code, 15 min repair; nothing else."""
    plant = tiny_plant(machines=1)
    m = PlantModel(plant, 1, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(10, 60))
    msgs = _run(m, 30 * 6, {2: ("p-01", {"code": "T-JAM", "duration_s": 1200})})
    by_reason: dict[tuple[str, str], float] = defaultdict(float)
    for kind, topic, p in msgs:
        if kind == "downtime":
            assert topic == "acme/sz/hardware/l1/p-01/downtime"
            assert set(p) == {"ts", "reason", "state", "duration_s"}
            assert isinstance(p["duration_s"], float) and 0 < p["duration_s"] <= 60
            by_reason[(p["reason"], p["state"])] += p["duration_s"]
    assert dict(by_reason) == {("T-JAM", "FAULT"): 300.0, ("repair", "MAINTENANCE"): 900.0}
    assert ground_truth(m)["downtime_s"] == {"repair": 900.0, "T-JAM": 300.0}


@pytest.fixture(scope="module")
def default_day() -> tuple[PlantModel, list[tuple[str, str, dict[str, Any]]]]:
    """A day of the default plant from Monday 08:00 local: breaks, shift changes, the
    two-shift calendar's night off and morning warm-up, random and commanded faults."""
    m = PlantModel(load_plant(), 3, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(30, 60, 300))
    msgs = _run(m, 24 * 120, {5: ("laser-02", {"code": "LSR-CHILLER", "duration_s": 1800})})
    return m, msgs


def test_downtime_sums_to_planned_minus_run(default_day: tuple[PlantModel, list]) -> None:
    """Σduration_s = Σplanned_s - Σrun_s, per machine and in total (floating-point error)."""
    _, msgs = default_day
    planned_minus_run: dict[str, float] = defaultdict(float)
    down: dict[str, float] = defaultdict(float)
    for kind, topic, p in msgs:
        machine = topic.split("/")[4]
        if kind == "counts":
            planned_minus_run[machine] += p["planned_s"] - p["run_s"]
        else:
            down[machine] += p["duration_s"]
    assert set(down) <= set(planned_minus_run)
    for machine, expected in planned_minus_run.items():
        assert down.get(machine, 0.0) == pytest.approx(expected, abs=1e-6), machine
    total = sum(planned_minus_run.values())
    assert total > 3600  # the identity is not vacuous: hours of planned downtime
    assert sum(down.values()) == pytest.approx(total, rel=1e-9)


def test_downtime_reasons_states_and_truth(default_day: tuple[PlantModel, list]) -> None:
    m, msgs = default_day
    by_reason: dict[str, float] = defaultdict(float)
    series_ts: set[tuple[str, str, int]] = set()
    codes = {c[0] for c in m.fault_codes}
    for kind, topic, p in msgs:
        if kind != "downtime":
            continue
        reason, state = p["reason"], p["state"]
        assert reason not in UNPLANNED
        if reason in codes:
            assert state == "FAULT"
        else:
            assert STATE_OF_REASON[reason] == state, reason
        key = (topic, reason, p["ts"])
        assert key not in series_ts  # one point per series and timestamp
        series_ts.add(key)
        by_reason[reason] += p["duration_s"]
        to_line(topic, p)  # a valid point of the contract
    assert {"LSR-CHILLER", "repair", "warm-up", "changeover"} <= set(by_reason)
    truth = ground_truth(m)["downtime_s"]
    assert list(truth.values()) == sorted(truth.values(), reverse=True)
    assert set(truth) == set(by_reason)
    for reason, seconds in by_reason.items():
        assert seconds == pytest.approx(truth[reason], abs=1e-3), reason


def test_downtime_kind_in_the_contract() -> None:
    spec = KINDS["downtime"]
    assert (spec.scope, spec.payload_tags) == ("machine", ("reason",))
    assert spec.fields == {"duration_s": "float", "state": "str"}
