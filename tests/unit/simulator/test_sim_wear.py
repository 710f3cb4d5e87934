"""Wear-driven failure modes (simulator.wear): the P-F interval shows in vibration before
a wear failure and not before a random one, repairs renew only the failed component,
preventive maintenance restores part of every component, demo wear climbs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulator.model import RUNNING, Intervals, PlantModel
from simulator.plant import PlantError, load_plant, parse_plant

from .helpers_sim import MONDAY_0800_LOCAL_MS, PRESS, tiny_plant_raw

ROOT = Path(__file__).resolve().parents[3]
DAY_MS = 86_400_000

#: A press with two wear modes and one random fault.
WORN_PRESS: dict[str, Any] = dict(copy.deepcopy(PRESS), faults=[
    {"code": "T-JAM", "message": "Jam", "mttr_min": 10},
    {"code": "T-BEARING", "message": "Bearing worn", "kind": "wear", "life_h": 100},
    {"code": "T-CLUTCH", "message": "Clutch worn", "kind": "wear", "life_h": 200,
     "pf_h": 20, "pm_restore": 0.25},
])


def _model(raw: dict[str, Any], step_s: float = 60.0, seed: int = 1) -> PlantModel:
    return PlantModel(parse_plant(raw, "test.yaml"), seed, MONDAY_0800_LOCAL_MS,
                      Intervals.from_seconds(step_s, 60, 60, 60, 60))


def _step(m: PlantModel, ticks: int) -> None:
    for _ in range(ticks):
        m.after_emit(m.step())


def _pre_fault_ratios(m: PlantModel, days: float) -> dict[str, list[float]]:
    """Run ``days``; per wear / random fault, the median running vibration in its last
    day over the machine's median running vibration outside such last days."""
    ticks = round(days * DAY_MS / m.dt_ms)
    vib = np.zeros((ticks, m.n))
    run = np.zeros((ticks, m.n), bool)
    ts = np.zeros(ticks, np.int64)
    for t in range(ticks):
        frame = m.step()
        m.after_emit(frame)
        vib[t], run[t], ts[t] = m.vibration, m.state == RUNNING, frame.ts_ms
    last_day = np.zeros_like(run)
    for e in m.episodes:
        if e.source == "wear":
            last_day[(ts < e.start_ms) & (ts >= e.start_ms - DAY_MS), m.index[e.machine]] = True
    out: dict[str, list[float]] = {"wear": [], "random": []}
    for e in m.episodes:
        i = m.index[e.machine]
        window = run[:, i] & (ts < e.start_ms) & (ts >= e.start_ms - DAY_MS)
        base = run[:, i] & ~last_day[:, i]
        if e.source in out and window.sum() >= 10 and base.sum() >= 100:
            out[e.source].append(float(np.median(vib[window, i]) / np.median(vib[base, i])))
    return out


def test_default_plant_wear_failures_show_in_vibration_days_before_random_ones_not() -> None:
    m = PlantModel(load_plant(), 3, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(120))
    ratios = _pre_fault_ratios(m, 6)
    wear, rand = ratios["wear"], ratios["random"]
    assert len(wear) >= 8 and len(rand) >= 50, (len(wear), len(rand))
    assert np.median(wear) >= 1.3, wear
    assert 0.95 < np.median(rand) < 1.05
    codes = {e.code for e in m.episodes if e.source == "wear"}
    kinds = {f.code: f.kind for t in m.plant.types.values() for f in t.faults}
    assert codes and all(kinds[c] == "wear" for c in codes)


def test_second_plant_wear_failures_show_in_vibration() -> None:
    m = PlantModel(load_plant(ROOT / "docs" / "examples" / "acme-lyon.yaml"), 2,
                   MONDAY_0800_LOCAL_MS, Intervals.from_seconds(120))
    ratios = _pre_fault_ratios(m, 12)
    assert len(ratios["wear"]) >= 5, ratios
    assert np.median(ratios["wear"]) >= 1.3
    assert 0.95 < np.median(ratios["random"]) < 1.05


def test_a_repair_renews_only_the_failed_component() -> None:
    m = _model(tiny_plant_raw(machines=1, press=WORN_PRESS))
    w = m.wear_model
    w.age[0] = [0.5, 0.6]
    w.fail_at[0] = [0.51, 5.0]
    _step(m, 120)  # 2 h at 100 h life: 0.02 of life; the bearing fails
    (ep,) = m.episodes
    assert (ep.code, ep.source) == ("T-BEARING", "wear")
    _step(m, 240)  # repaired
    assert ep.end_ms is not None
    assert w.age[0, 0] < 0.05 and w.fail_at[0, 0] != 0.51  # a new bearing
    assert 0.6 < w.age[0, 1] < 0.64  # the clutch aged on (6 h of a 200 h life at most)


def test_a_random_faults_repair_leaves_the_components_as_they_are() -> None:
    press = dict(WORN_PRESS, mtbf_h=0.5)
    m = _model(tiny_plant_raw(machines=1, press=press), step_s=30.0)
    w = m.wear_model
    w.fail_at[0] = [50.0, 50.0]
    before = w.age[0].copy()
    while not (m.episodes and m.episodes[0].end_ms):
        _step(m, 1)
    assert m.episodes[0].source == "random"
    assert (w.age[0] >= before).all()


def test_preventive_maintenance_restores_part_of_every_component() -> None:
    raw = tiny_plant_raw(machines=1, press=WORN_PRESS)
    # Monday 08:00 local: planned downtime 08:30-09:00.
    raw["calendars"]["main"]["planned_downtime"] = [{"day": "mon", "window": "08:30-09:00"}]
    m = _model(raw)
    w = m.wear_model
    w.age[0], w.fail_at[0] = [0.8, 0.8], [5.0, 5.0]
    _step(m, 30)
    aged = w.age[0].copy()
    _step(m, 31)  # through the window: the warm-up after it counts the PM as done
    assert aged[0] * (1 - 0.03) <= w.age[0, 0] < aged[0] * (1 - 0.03) + 0.002
    assert aged[1] * (1 - 0.25) <= w.age[0, 1] < aged[1] * (1 - 0.25) + 0.002


def test_the_wear_action_climbs_over_its_duration() -> None:
    m = _model(tiny_plant_raw(machines=2, press=WORN_PRESS), step_s=5.0)
    m.wear_model.age[:] = 0.1
    m.wear_model.fail_at[:] = 5.0
    m.command("wear", "p-01", value=1.3)  # default: over 2 h
    seen = []
    for ticks in (1, 720, 720):  # 5 s, 1 h and 2 h into the ramp
        _step(m, ticks)
        seen.append(m.vibration[0] / m.vibration[1])
    assert seen[0] < 1.2 < seen[1] < seen[2]  # no jump at once; climbs; highest at 2 h
    assert m.wear_model.age[0, 0] == pytest.approx(1.3)
    assert not m.episodes  # at the end of the ramp: near, not at, the failure point
    _step(m, 720 * 4)  # the last 10 % of the P-F interval (15 h): 1.5 running hours
    assert [(e.code, e.source) for e in m.episodes][:1] == [("T-BEARING", "wear")]


def test_fault_kinds_parse_and_old_files_default_to_random() -> None:
    plant = parse_plant(tiny_plant_raw(press=WORN_PRESS), "t.yaml")
    jam, bearing, clutch = plant.types["press"].faults
    assert (jam.kind, bearing.kind, bearing.life_h, bearing.pf_h) == ("random", "wear", 100,
                                                                      15)
    assert (clutch.pf_h, clutch.pm_restore, bearing.pm_restore) == (20, 0.25, 0.03)
    old = parse_plant(tiny_plant_raw(), "t.yaml")
    assert [f.kind for f in old.types["press"].faults] == ["random"]
    for fault, words in (({"kind": "wearing"}, "kind"), ({"life_h": 10}, "kind: wear"),
                         ({"kind": "wear", "life_h": 10, "pf_h": 20}, "pf_h")):
        press = dict(PRESS, faults=[{"code": "X", **fault}])
        with pytest.raises(PlantError, match=words):
            parse_plant(tiny_plant_raw(press=press), "t.yaml")


def test_the_shipped_types_have_wear_modes_and_each_type_keeps_random_faults() -> None:
    plant = load_plant()
    wear = {t.id: [f.code for f in t.faults if f.kind == "wear"] for t in plant.types.values()}
    assert sum(map(len, wear.values())) >= 15
    assert wear["stamping_press"] == ["STP-BEARING", "STP-CLUTCH"]
    assert all(any(f.kind == "random" for f in t.faults) for t in plant.types.values())
    m = PlantModel(plant, 1, MONDAY_0800_LOCAL_MS)
    assert m.wear_model.age.shape == (m.n, max(map(len, wear.values())))
    assert m.wear_model.valid.sum() == sum(len(wear[x.type]) for x in plant.machines)
