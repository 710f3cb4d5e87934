"""Micro-stops: counted in `counts`, shown as IDLE / micro-stop, a performance loss."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.downtime import R_MICROSTOP
from simulator.encode import Encoder
from simulator.model import IDLE, RUNNING, Intervals, PlantModel

from .helpers_sim import MONDAY_0800_LOCAL_MS, PRESS, tiny_plant

#: 30 stops an hour in RUNNING, 20 s on average: 1/6 s stopped per second running.
JAMMY = dict(PRESS, microstops_per_h=30, microstop_s=20)


def _run(step_s: float, hours: float) -> tuple[PlantModel, list[tuple[str, dict[str, Any]]],
                                               int]:
    model = PlantModel(tiny_plant(machines=4, press=JAMMY), 3, MONDAY_0800_LOCAL_MS,
                       Intervals.from_seconds(step_s, 30.0))
    enc = Encoder(model)
    msgs: list[tuple[str, dict[str, Any]]] = []
    idle_ticks = 0
    for _ in range(round(hours * 3600 / step_s)):
        frame = model.step()
        msgs += [(k, p) for k, _, p in enc.messages(frame)
                 if k in ("counts", "downtime", "state")]
        idle_ticks += int(((model.state == IDLE) & (model.reason == R_MICROSTOP)).sum())
        model.after_emit(frame)
    return model, msgs, idle_ticks


def test_micro_stops_are_counted_shown_and_cost_performance_not_availability() -> None:
    model, msgs, idle_ticks = _run(5.0, 4)
    counts = [p for k, p in msgs if k == "counts"]
    stops = sum(p["microstops"] for p in counts)
    assert stops == int(model.micro.truth.sum())
    # 30 an hour of the time in RUNNING (4 machines x 4 h, less the stops themselves).
    expected = 30 * model.state_seconds[:, RUNNING].sum() / 3600
    assert 380 < expected < 450
    assert abs(stops - expected) < 3 * expected ** 0.5, (stops, expected)
    # Most last longer than what is left of the 5 s tick: the state stream shows them.
    states = [p for k, p in msgs if k == "state" and p.get("reason") == "micro-stop"]
    assert states and all(p["state"] == "IDLE" and p["running"] == 0 for p in states)
    assert idle_ticks > 0.5 * stops
    # Not downtime: running time is all the planned time, the loss is performance.
    assert not [p for k, p in msgs if k == "downtime"]
    run = sum(p["run_s"] for p in counts)
    assert run == pytest.approx(sum(p["planned_s"] for p in counts))
    perf = sum(p["ideal_s"] for p in counts) / run
    # Cycle ~1.07 x ideal (cv 0.05); stopped 1/6 s per second in RUNNING, so 1/7 of the
    # running time.
    assert perf == pytest.approx((1 - 1 / 7) / 1.07, rel=0.03)


def test_micro_stop_loss_does_not_depend_on_the_tick() -> None:
    fine, _, _ = _run(5.0, 3)
    coarse, _, _ = _run(60.0, 3)
    perf = [m.truth_ideal_s.sum() / m.truth_run_s.sum() for m in (fine, coarse)]
    assert perf[0] == pytest.approx(perf[1], rel=0.03)
