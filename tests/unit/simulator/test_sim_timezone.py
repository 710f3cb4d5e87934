"""Named time zones: shifts, breaks, planned downtime, the sales day and work-order ids
follow local wall-clock time across the 2026 European summer-time switches."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from simulator.model import Intervals, PlantModel
from simulator.plant import CAL_ON, parse_plant
from simulator.shifts import LocalClock
from telemetry.contract import MachineState

from .helpers_sim import tiny_plant_raw

PARIS = ZoneInfo("Europe/Paris")


def _paris_plant():  # type: ignore[no-untyped-def]
    raw = tiny_plant_raw()
    raw.pop("utc_offset_h")
    raw["timezone"] = "Europe/Paris"
    raw["calendars"] = {"day": {"shifts": ["06:00-14:00"], "breaks": ["10:00-10:30"],
                                "planned_downtime": [{"day": "sun", "window": "06:00-07:00"}]}}
    return parse_plant(raw, "paris.yaml")


def _ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=PARIS).timestamp() * 1000)


@pytest.mark.parametrize(("first_day", "switch_offsets"), [
    ((2026, 3, 27), (1, 2)),   # CET -> CEST on Sunday 2026-03-29
    ((2026, 10, 23), (2, 1)),  # CEST -> CET on Sunday 2026-10-25
])
def test_calendar_follows_local_time_across_the_switch(
        first_day: tuple[int, int, int], switch_offsets: tuple[int, int]) -> None:
    plant = _paris_plant()
    start = _ms(*first_day)
    model = PlantModel(plant, 1, start, Intervals.from_seconds(60.0))
    on_minutes: Counter[str] = Counter()
    first_on: dict[str, str] = {}
    for minute in range(4 * 24 * 60):  # four local days, minute by minute (UTC)
        ts = start + minute * 60_000
        if model.calendar_now(ts)[0] == CAL_ON:
            local = dt.datetime.fromtimestamp(ts / 1000, PARIS)
            day = local.strftime("%a %d")
            on_minutes[day] += 1
            first_on.setdefault(day, local.strftime("%H:%M"))
    # Every day the shift starts at 06:00 local (07:00 on Sunday after the planned
    # downtime) and is 8 h minus the 30 min break, on both sides of the switch.
    assert set(first_on.values()) == {"06:00", "07:00"}
    assert first_on["Sun 29" if first_day[1] == 3 else "Sun 25"] == "07:00"
    assert sorted(on_minutes.values()) == [390, 450, 450, 450]
    # ... which is a different UTC hour before and after the switch.
    sat, mon = (28, 30) if first_day[1] == 3 else (24, 26)
    utc_start = [dt.datetime(2026, first_day[1], d, 6, tzinfo=PARIS).astimezone(dt.UTC).hour
                 for d in (sat, mon)]
    assert utc_start == [6 - switch_offsets[0], 6 - switch_offsets[1]]


def test_model_follows_local_time_on_the_spring_forward_sunday() -> None:
    """Preventive maintenance 06:00-07:00 CEST, then the warm-up at 07:00 CEST."""
    plant = _paris_plant()
    start = _ms(2026, 3, 29, 0, 0)  # Sunday, CET
    model = PlantModel(plant, 1, start, Intervals.from_seconds(60.0))
    first: dict[int, int] = {}
    for _ in range(24 * 60):
        model.step()
        first.setdefault(int(model.state[0]), model.now_ms)
    local = {st: dt.datetime.fromtimestamp(ts / 1000, PARIS) for st, ts in first.items()}
    maint, setup = MachineState.MAINTENANCE, MachineState.SETUP
    assert (local[maint].hour, local[maint].minute) == (6, 0)
    assert (local[setup].hour, local[setup].minute) == (7, 0)
    assert local[setup].utcoffset() == dt.timedelta(hours=2)


def test_local_clock_day_and_offsets() -> None:
    clock = LocalClock(PARIS)
    before = _ms(2026, 10, 25, 1, 59)  # first 01:59 CEST
    assert clock.offset_s(before) == 7200
    assert clock.offset_s(before + 2 * 3_600_000) == 3600  # 02:59 CET, after fall-back
    late = _ms(2026, 3, 28, 23, 30)  # Saturday 23:30 CET = 22:30 UTC
    assert clock.day(late) == "20260328" and clock.day(late + 3_600_000) == "20260329"
    assert clock.local_s(late) % 86400 == 23 * 3600 + 30 * 60
