"""`cycle_time_s` of `counts` against the truth: running seconds per finished part."""

from __future__ import annotations

import copy
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import parse_plant

from .helpers_sim import MONDAY_0800_LOCAL_MS, PRESS


def _plant_raw() -> dict[str, Any]:
    slow = dict(copy.deepcopy(PRESS), ideal_cycle_s=90, cycle_cv=0.06, microstops_per_h=3)
    fast = dict(copy.deepcopy(PRESS), ideal_cycle_s=4, cycle_cv=0.04, microstops_per_h=8,
                microstop_s=10)
    return {"enterprise": "acme", "site": "sz", "utc_offset_h": 8,
            "types": {"laser": slow, "press": fast},
            "calendars": {"main": {"shifts": ["00:00-24:00"]}},
            "areas": [{"id": "hw", "lines": [{"id": "l1", "flow": "parallel", "machines": [
                {"id": "laser", "type": "laser", "count": 3},
                {"id": "press", "type": "press", "count": 3}]}]}]}


def _counts(step_s: float, hours: float) -> tuple[PlantModel, dict[str, list[dict[str, Any]]]]:
    model = PlantModel(parse_plant(_plant_raw(), "t.yaml"), 5, MONDAY_0800_LOCAL_MS,
                       Intervals.from_seconds(step_s, 30.0))
    enc = Encoder(model)
    out: dict[str, list[dict[str, Any]]] = {}
    for _ in range(round(hours * 3600 / step_s)):
        frame = model.step()
        for kind, topic, payload in enc.messages(frame):
            if kind == "counts":
                out.setdefault(topic.split("/")[-2], []).append(payload)
        model.after_emit(frame)
    return model, out


@pytest.mark.parametrize("step_s", [5.0, 30.0])
def test_cycle_time_is_the_true_time_per_part_for_slow_and_fast_machines(
        step_s: float) -> None:
    model, counts = _counts(step_s, 6)
    for mid, msgs in counts.items():
        i = model.index[mid]
        parts = int(model.truth_good[i] + model.truth_scrap[i])
        true_cycle = model.truth_run_s[i] / parts
        # The truth itself: ideal x (1.03 + cv * E|N|) plus a little for micro-stops.
        ideal = model.ideal_s[i]
        assert ideal * 1.05 < true_cycle < ideal * 1.15, (mid, true_cycle)
        with_parts = [p for p in msgs if p["good"] + p["scrap"] > 0]
        weights = np.array([p["good"] + p["scrap"] for p in with_parts])
        values = np.array([p["cycle_time_s"] for p in with_parts])
        weighted = float((weights * values).sum() / weights.sum())
        assert weighted == pytest.approx(true_cycle, rel=0.02), mid
        # Not capped by the 30 s counts interval (the laser used to report 30 s).
        assert float(np.median(values)) == pytest.approx(true_cycle, rel=0.05), mid


def test_cycle_time_repeats_the_last_value_while_nothing_is_finished() -> None:
    _, counts = _counts(5.0, 1)
    msgs = counts["laser-01"]
    assert len(msgs) == 120
    assert any(p["good"] + p["scrap"] == 0 for p in msgs)
    for prev, cur in pairwise(msgs):
        if cur["good"] + cur["scrap"] == 0:
            assert cur["cycle_time_s"] == prev["cycle_time_s"]
