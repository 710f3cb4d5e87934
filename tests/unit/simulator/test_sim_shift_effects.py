"""Shift effects: a window of the day with slower cycles and more scrap."""

from __future__ import annotations

import pytest

from simulator.model import Intervals, PlantModel
from simulator.plant import PlantError, parse_plant

from .helpers_sim import MONDAY_0800_LOCAL_MS, PRESS, tiny_plant_raw


def _phase(model: PlantModel, hours: float) -> tuple[float, float]:
    """(performance, scrap share) over the next ``hours``."""
    run0, ideal0 = model.truth_run_s.sum(), model.truth_ideal_s.sum()
    good0, scrap0 = model.truth_good.sum(), model.truth_scrap.sum()
    for _ in range(round(hours * 3600 / model.dt)):
        model.after_emit(model.step())
    good, scrap = model.truth_good.sum() - good0, model.truth_scrap.sum() - scrap0
    perf = (model.truth_ideal_s.sum() - ideal0) / (model.truth_run_s.sum() - run0)
    return float(perf), float(scrap / (good + scrap))


def test_the_window_is_slower_and_makes_more_scrap() -> None:
    raw = tiny_plant_raw(machines=4, press=dict(PRESS, scrap_rate=0.04))
    # 08:00-12:00 local: 20 % slower, three times the scrap; "other" calendars unaffected.
    raw["calendars"]["other"] = {"shifts": ["00:00-24:00"]}
    raw["shift_effects"] = [
        {"window": "08:00-12:00", "performance": 0.8, "scrap_factor": 3, "calendars": ["main"]},
        {"window": "06:00-12:00", "scrap_factor": 100, "calendars": ["other"]}]
    model = PlantModel(parse_plant(raw, "fx.yaml"), 4, MONDAY_0800_LOCAL_MS,
                       Intervals.from_seconds(30.0))
    perf_in, scrap_in = _phase(model, 4)  # 08:00-12:00
    perf_out, scrap_out = _phase(model, 4)  # 12:00-16:00
    assert perf_in / perf_out == pytest.approx(0.8, rel=0.02)
    assert 0.03 < scrap_out < 0.1  # 4 %, more with wear
    assert scrap_in / scrap_out == pytest.approx(3, rel=0.3)


def test_an_unknown_calendar_is_a_one_line_error() -> None:
    raw = tiny_plant_raw()
    raw["shift_effects"] = [{"window": "22:00-06:00", "calendars": ["nights"]}]
    with pytest.raises(PlantError, match=r"shift_effects\[0\]\.calendars.*nights"):
        parse_plant(raw, "fx.yaml")
    raw["shift_effects"] = [{"window": "22:00", "performance": 0.9}]
    with pytest.raises(PlantError, match=r"shift_effects\[0\]\.window"):
        parse_plant(raw, "fx.yaml")
