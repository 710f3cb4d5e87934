"""Support equipment (machines that make no parts: conveyors, ovens, AGVs, compressors):
no changeovers, starved or blocked stops."""

from __future__ import annotations

import copy

import numpy as np

from simulator.downtime import R_BLOCKED, R_CHANGEOVER, R_STARVED
from simulator.model import Intervals, PlantModel
from simulator.plant import parse_plant

from .helpers_sim import MONDAY_0800_LOCAL_MS, PRESS, tiny_plant_raw


def _busy_plant():  # type: ignore[no-untyped-def]
    """A serial line of two presses and a conveyor, all with frequent changeovers and
    supply stops in their type figures."""
    raw = tiny_plant_raw(flow="serial")
    press = raw["types"]["press"]
    press.update(changeover_h=0.05, starve_h=0.05, setup_min=1, starve_min=1)
    conveyor = copy.deepcopy(press)
    conveyor["ideal_cycle_s"] = 0
    raw["types"]["conveyor"] = conveyor
    raw["areas"][0]["lines"][0]["machines"].append({"id": "belt", "type": "conveyor"})
    return parse_plant(raw, "busy.yaml")


def test_machines_that_make_no_parts_never_change_over_starve_or_block() -> None:
    plant = _busy_plant()
    model = PlantModel(plant, 3, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(5.0))
    seen = np.zeros((model.n, 3), np.int64)
    for _ in range(2 * 720):  # two hours
        model.step()
        for k, r in enumerate((R_CHANGEOVER, R_STARVED, R_BLOCKED)):
            seen[:, k] += model.reason == r
        model.command("starve", "belt", duration_s=600)  # refused: it makes no parts
    belt = model.index["belt"]
    assert not model.producing[belt] and model.producing.sum() == 2
    assert seen[belt].sum() == 0
    # The presses, with the same figures, do stop for all three.
    presses = model.producing
    assert (seen[presses, 0] > 0).all() and (seen[presses, 1:].sum(axis=1) > 0).all()
    assert PRESS["changeover_h"] == 1_000_000  # the shared helper is untouched
