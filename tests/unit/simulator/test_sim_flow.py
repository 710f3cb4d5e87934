"""Serial lines flow: an upstream stop starves the next machine once the buffer between
them empties, a downstream stop blocks the previous one once it fills; the reasons
reach the `state` messages and the line's output is its last machine's good parts."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import parse_plant
from simulator.truth import ground_truth

from .helpers_sim import MONDAY_0800_LOCAL_MS, PRESS, tiny_plant_raw

IDLE, RUNNING = 1, 2


def _line(machines: int = 3, buffer: int = 6, **press: Any) -> PlantModel:
    raw = tiny_plant_raw(machines=machines, flow="serial", press={**PRESS, **press})
    raw["areas"][0]["lines"][0]["buffer"] = buffer
    return PlantModel(parse_plant(raw, "line.yaml"), 5, MONDAY_0800_LOCAL_MS,
                      Intervals.from_seconds(5.0))


def _run(model: PlantModel, ticks: int, commands: dict[int, tuple[str, dict[str, Any]]],
         ) -> list[tuple[int, str, str, str]]:
    """(tick, machine, state, reason) of every `state` message."""
    enc = Encoder(model)
    out = []
    for k in range(ticks):
        if k in commands:
            machine, params = commands[k]
            model.command("fault", machine, **params)
        frame = model.step()
        for kind, topic, payload in enc.messages(frame):
            if kind == "state":
                out.append((k, topic.split("/")[4], payload["state"], payload.get("reason")))
        model.after_emit(frame)
    return out


def test_upstream_fault_starves_downstream_once_the_buffer_empties() -> None:
    model = _line()
    states = _run(model, 12 * 60, {60: ("p-01", {"duration_s": 1800})})
    starved = [s for s in states if s[1:] == ("p-02", "IDLE", "starved")]
    assert starved, states[-20:]
    # Not at once: the 3 parts in the buffer keep p-02 busy ~30 s after the fault.
    assert starved[0][0] > 61
    # p-03 is starved in turn (p-02 stopped, its buffer empties too).
    assert any(s[1:] == ("p-03", "IDLE", "starved") for s in states)
    # The line recovers after the repair: p-02 runs again, fed by p-01.
    fault_end = 60 + 1800 // 5
    assert any(k > fault_end and m == "p-02" and st == "RUNNING" for k, m, st, _ in states)


def test_downstream_fault_blocks_upstream_once_the_buffer_fills() -> None:
    model = _line()
    states = _run(model, 60 + 240, {60: ("p-03", {"duration_s": 1800})})
    blocked = [s for s in states if s[1:] == ("p-02", "IDLE", "blocked")]
    assert blocked and blocked[0][0] > 61
    assert any(s[1:] == ("p-01", "IDLE", "blocked") for s in states)
    assert not any(s[3] == "starved" for s in states)
    # 20 min into the 30 min stop: both buffers full, both upstream machines blocked.
    assert model.flow.level.tolist() == model.flow.cap.tolist() == [6, 6]
    assert model.state.tolist()[:2] == [IDLE, IDLE]


def test_buffers_conserve_parts_and_the_line_output_is_the_last_machine() -> None:
    model = _line(machines=3, buffer=4, ideal_cycle_s=8, scrap_rate=0.05)
    start_levels = model.flow.level.copy()
    _run(model, 6 * 60, {30: ("p-02", {"duration_s": 300})})
    good, scrap = model.truth_good, model.truth_scrap
    # Every part that entered a buffer is still in it or was made into one downstream.
    made_downstream = good[1:] + scrap[1:]
    assert (start_levels + good[:-1] - made_downstream == model.flow.level).all()
    assert ((model.flow.level >= 0) & (model.flow.level <= model.flow.cap)).all()
    truth = ground_truth(model)
    assert truth["output"]["lines"]["hardware/l1"] == {"good": int(good[2]),
                                                       "scrap": int(scrap[2])}
    assert truth["output"]["plant"]["good"] == int(good[2])


def test_parallel_cells_never_starve_each_other() -> None:
    raw = tiny_plant_raw(machines=3)
    model = PlantModel(parse_plant(raw, "p.yaml"), 5, MONDAY_0800_LOCAL_MS,
                       Intervals.from_seconds(5.0))
    states = _run(model, 8 * 60, {10: ("p-01", {"duration_s": 1800})})
    assert not any(s[3] in ("starved", "blocked") for s in states)
    assert not model.flow.active
    assert np.all(model.state[1:] == RUNNING)
