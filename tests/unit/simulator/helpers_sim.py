"""Tiny plants for simulator unit tests."""

from __future__ import annotations

import copy
from typing import Any

from simulator.plant import Plant, parse_plant

#: 2026-01-05 00:00 UTC = Monday 08:00 in a UTC+8 site.
MONDAY_0800_LOCAL_MS = 1_767_571_200_000

PRESS: dict[str, Any] = {
    "name": "Test press",
    "ideal_cycle_s": 10,
    "mtbf_h": 1_000_000,  # no random faults unless a test wants them
    "changeover_h": 1_000_000,
    "starve_h": 1_000_000,
    "microstops_per_h": 0,
    "power_kw": {"off": 0.5, "idle": 3, "run": 20},
    "temp_c": {"idle": 5, "run": 30, "tau_min": 5},
    "vibration_mm_s": {"base": 2.0, "wear_gain": 3.0, "life_h": 100},
    "signals": {"tonnage_t": {"run": 100, "noise": 0.0}},
    "faults": [{"code": "T-JAM", "message": "Jam", "severity": "warning", "mttr_min": 10}],
}


def tiny_plant_raw(shifts: list[str] | None = None, machines: int = 2,
                   press: dict[str, Any] | None = None,
                   flow: str = "parallel") -> dict[str, Any]:
    """One area, one line of `machines` presses; parallel (independent) unless `flow`."""
    return {
        "enterprise": "acme",
        "site": "sz",
        "utc_offset_h": 8,
        "types": {"press": copy.deepcopy(press or PRESS)},
        "calendars": {"main": {"shifts": shifts or ["00:00-24:00"]}},
        "areas": [{"id": "hardware", "lines": [{"id": "l1", "flow": flow, "machines": [
            {"id": "p", "type": "press", "count": machines}]}]}],
    }


def tiny_plant(**kwargs: Any) -> Plant:
    return parse_plant(tiny_plant_raw(**kwargs), "test.yaml")
