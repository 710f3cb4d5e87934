"""The maintenance crew: one repair per technician, queues, waits for parts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simulator.downtime import R_REPAIR, R_WAITPARTS
from simulator.encode import Encoder
from simulator.model import FAULT, MAINT, Intervals, PlantModel
from simulator.plant import PlantError, parse_plant

from .helpers_sim import MONDAY_0800_LOCAL_MS, PRESS, tiny_plant_raw

#: A fault every ~2 running hours, 40 min to repair, 2 min to respond.
FRAGILE = dict(PRESS, mtbf_h=2.0, mttr_min=40, response_min=2)


def _plant(crew: int | None, parts_share: float = 0.0, machines: int = 12) -> Any:
    raw = tiny_plant_raw(machines=machines, press=FRAGILE)
    raw["technicians"] = [{"name": f"Tech {k}"} for k in range(4)]
    raw["maintenance"] = {"parts_share": parts_share, "parts_wait_h": 1.0}
    if crew is not None:
        raw["maintenance"]["crew"] = crew
    return parse_plant(raw, "crew.yaml")


def _run(plant: Any, hours: float, step_s: float = 30.0) -> tuple[PlantModel, list[Any],
                                                                   dict[str, int]]:
    """Run; check every tick that no technician is on two machines. Returns the model,
    every work-order payload and the most machines waiting in the queue at once."""
    model = PlantModel(plant, 2, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(step_s))
    enc = Encoder(model)
    orders: list[Any] = []
    on: dict[str, str] = {}  # technician -> work order, from the messages alone
    most = {"queue": 0, "repairing": 0}
    for _ in range(round(hours * 3600 / step_s)):
        frame = model.step()
        for kind, _, p in enc.messages(frame):
            if kind != "workorder":
                continue
            orders.append(p)
            for tech, wo in list(on.items()):
                if wo == p["wo_id"]:
                    del on[tech]
            if p["status"] == "in_progress" and p["technician"]:
                assert on.get(p["technician"], p["wo_id"]) == p["wo_id"], p
                on[p["technician"]] = p["wo_id"]
        model.after_emit(frame)
        repairing = np.flatnonzero((model.state == MAINT) & (model.reason == R_REPAIR))
        techs = [model.technician[i] for i in repairing]
        assert None not in techs
        assert len({id(t) for t in techs}) == len(techs) <= model.crew.size
        most["queue"] = max(most["queue"], len(model.crew.queue))
        most["repairing"] = max(most["repairing"], len(repairing))
    return model, orders, most


def test_a_crew_of_one_makes_repairs_queue() -> None:
    model, orders, most = _run(_plant(crew=1), 10)
    assert most["repairing"] == 1 and most["queue"] >= 3
    names = {p["technician"] for p in orders if p["status"] == "in_progress"}
    assert names == {"Tech 0"}
    # Waiting for the technician is FAULT time: far more than the 2 min response.
    fault_s = model.state_seconds[:, FAULT].sum()
    assert fault_s > 5 * len(model.episodes) * 120


def test_a_bigger_crew_repairs_in_parallel_and_never_twice_at_once() -> None:
    _, orders, most = _run(_plant(crew=None), 10)
    assert most["repairing"] >= 2
    names = {p["technician"] for p in orders if p["status"] == "in_progress"}
    assert len(names) == 4


def test_some_repairs_wait_for_parts_with_the_technician_gone() -> None:
    model, orders, _ = _run(_plant(crew=None, parts_share=1.0, machines=6), 8)
    assert (model.downtime.truth_s[:, R_WAITPARTS] > 0).any()
    reopened = [p for p in orders if p["status"] == "open" and p["progress_pct"] > 0]
    assert reopened and all(p["technician"] == "" for p in reopened)
    assert all(p["progress_pct"] == pytest.approx(100 / 3, abs=0.2) for p in reopened)
    # Each repair had two technician visits (before and after the parts).
    done = {p["wo_id"] for p in orders if p["status"] == "done"}
    visits = {w: sum(1 for p in orders if p["wo_id"] == w and p["status"] == "in_progress"
                     and p["progress_pct"] in (0.0, pytest.approx(100 / 3, abs=0.2)))
              for w in done}
    assert done and all(v >= 2 for v in visits.values())


def test_demo_faults_keep_their_duration() -> None:
    model = PlantModel(_plant(crew=1, parts_share=1.0, machines=2), 2,
                       MONDAY_0800_LOCAL_MS, Intervals.from_seconds(10.0))
    model.command("fault", "p-01", duration_s=600)
    for _ in range(80):
        model.after_emit(model.step())
    ep = model.episodes[0]
    assert ep.source == "control" and ep.end_ms is not None
    assert ep.end_ms - ep.start_ms == pytest.approx(600_000, abs=20_000)


@pytest.mark.parametrize(("maintenance", "words"), [
    ({"crew": 5}, "maintenance.crew"), ({"crew": 0}, "maintenance.crew"),
    ({"parts_share": 1.5}, "maintenance.parts_share"), ({"shift": 1}, "maintenance"),
])
def test_bad_maintenance_is_a_one_line_error(maintenance: dict[str, Any], words: str) -> None:
    raw = tiny_plant_raw()
    raw["technicians"] = [{"name": f"Tech {k}"} for k in range(4)]
    raw["maintenance"] = maintenance
    with pytest.raises(PlantError) as exc:
        parse_plant(raw, "crew.yaml")
    assert words in str(exc.value) and "\n" not in str(exc.value)
