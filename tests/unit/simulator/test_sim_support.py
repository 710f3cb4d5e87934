"""Support equipment (machines that make no parts: conveyors, ovens, AGVs, compressors):
no changeovers, starved or blocked stops; loaded by the production they serve."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from simulator.downtime import R_BLOCKED, R_CHANGEOVER, R_STARVED, REASONS
from simulator.model import Intervals, PlantModel
from simulator.plant import PlantError, load_plant, parse_plant, scale_plant
from simulator.support import served_by
from telemetry.contract import MachineState

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


def _served_plant(**extra: object):  # type: ignore[no-untyped-def]
    """A day-shift serial line of two presses with an inline conveyor, and a fleet of
    four compressors on an always-on calendar that serves it."""
    raw = tiny_plant_raw(shifts=["06:00-14:00"], flow="serial")
    raw["calendars"]["always"] = {"shifts": ["00:00-24:00"]}
    press = raw["types"]["press"]
    press.update(changeover_h=2, starve_h=2, setup_min=5, starve_min=10)
    raw["types"]["belt"] = {"ideal_cycle_s": 0, "mtbf_h": 1_000_000,
                            "power_kw": {"off": 0.1, "idle": 0.5, "run": 2}}
    raw["types"]["compressor"] = {"ideal_cycle_s": 0, "mtbf_h": 1_000_000,
                                  "power_kw": {"off": 0.5, "idle": 20, "run": 80}}
    raw["areas"][0]["lines"][0]["machines"].append({"id": "belt", "type": "belt"})
    raw["areas"].append({"id": "utilities", "calendar": "always", "lines": [
        {"id": "air", "flow": "parallel", "machines": [
            {"id": "cmp", "type": "compressor", "count": 4}], **extra}]})
    return parse_plant(raw, "served.yaml")


def test_a_fleet_follows_the_production_it_serves() -> None:
    """Four compressors for a day-shift line: none loaded at night, as many loaded as
    the line's running share needs during the shift, power following it."""
    plant = _served_plant()
    start = MONDAY_0800_LOCAL_MS - 8 * 3600_000  # 00:00 local
    model = PlantModel(plant, 5, start, Intervals.from_seconds(30.0))
    presses = np.flatnonzero(model.producing)
    fleet = np.array([model.index[f"cmp-0{k}"] for k in range(1, 5)])
    belt = model.index["belt"]
    running = MachineState.RUNNING
    night_kw, day = [], []
    for tick in range(24 * 120):
        model.step()
        hour = tick // 120
        fleet_run = int((model.state[fleet] == running).sum())
        if hour < 5 or hour >= 15:
            night_kw.append(model.power_kw[fleet].sum())
            assert fleet_run == 0 and model.state[belt] != running
        elif 7 <= hour < 13:
            share = (model.state[presses] == running).mean()
            day.append((share, fleet_run, model.power_kw[fleet].sum()))
            # The conveyor inside the line runs exactly when a press does.
            assert (model.state[belt] == running) == (share > 0)
            assert fleet_run == int(np.ceil(share * 4 - 1e-9))
    assert np.mean(night_kw) == pytest.approx(4 * 20, rel=0.05)  # all unloaded
    shares = np.array([d[0] for d in day])
    kw = np.array([d[2] for d in day])
    assert 0.3 < shares.mean() < 0.98 and shares.min() < 1.0  # the line does stop
    assert kw[shares == 1.0].mean() > kw[shares == 0.5].mean() + 40
    reasons = {REASONS[int(r)] for r in model.reason[fleet]}
    assert reasons <= {"standby", "producing"}


def test_the_fleet_takes_turns() -> None:
    plant = _served_plant()
    model = PlantModel(plant, 5, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(10.0))
    fleet = np.array([model.index[f"cmp-0{k}"] for k in range(1, 5)])
    run_s = np.zeros(4)
    for _ in range(5 * 360):  # 08:00-13:00 local
        model.step()
        run_s += model.state[fleet] == MachineState.RUNNING
    assert run_s.min() > 0.25 * run_s.max()


@pytest.mark.parametrize(("serves", "path", "words"), [
    (["nowhere"], "areas[1].lines[0].serves[0]", "no area id, line id"),
    (["utilities"], "areas[1].lines[0].serves[0]", "no machine that makes parts"),
    (["hardware/air"], "areas[1].lines[0].serves[0]", "no area id"),
    ("hardware", "areas[1].lines[0].serves", "must be a list"),
])
def test_bad_serves_is_a_one_line_error(serves: object, path: str, words: str) -> None:
    with pytest.raises(PlantError) as err:
        _served_plant(serves=serves)
    msg = str(err.value)
    assert msg.startswith(f"served.yaml: {path}: ") and words in msg, msg


def test_serves_names_areas_lines_and_follows_copies_of_a_scaled_plant() -> None:
    plant = _served_plant(serves=["hardware/l1"])
    m = plant.machine("cmp-01")
    assert [x.id for x in served_by(plant, m)] == ["p-01", "p-02"]
    assert [x.id for x in served_by(plant, plant.machine("belt"))] == ["p-01", "p-02"]
    big = scale_plant(_served_plant(serves=["l1"]), 2)
    assert [x.id for x in served_by(big, big.machine("cmp-01-s2"))] == ["p-01-s2", "p-02-s2"]
    raw = tiny_plant_raw()
    raw["areas"][0]["lines"][0]["machines"][0]["serves"] = ["hardware"]
    with pytest.raises(PlantError, match="only machines that make no parts"):
        parse_plant(raw, "p.yaml")


def test_demo_plant_agvs_stand_by_while_assembly_is_off() -> None:
    """Saturday night in the demo plant: hardware works, assembly does not; the AGV
    fleet (serves: assembly) stands by, the compressors still serve the hardware."""
    plant = load_plant()
    sat_2300 = MONDAY_0800_LOCAL_MS + 5 * 86400_000 + 15 * 3600_000
    model = PlantModel(plant, 2, sat_2300, Intervals.from_seconds(5.0))
    agvs = [i for i, x in enumerate(model.ids) if x.startswith("agv-")]
    compressors = [i for i, x in enumerate(model.ids) if x.startswith("compressor-")]
    for _ in range(360):  # 30 minutes
        model.step()
        assert not (model.state[agvs] == MachineState.RUNNING).any()
    assert (model.state[compressors] == MachineState.RUNNING).any()
