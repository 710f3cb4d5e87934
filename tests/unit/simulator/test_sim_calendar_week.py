"""Week calendars: weekdays worked (`days:`) and holidays (plant-wide or per calendar),
night shifts belonging to the day they start on, in local time across summer time."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from simulator.downtime import REASONS
from simulator.model import Intervals, PlantModel
from simulator.plant import (
    CAL_DOWNTIME,
    CAL_HOLIDAY,
    CAL_OFF,
    CAL_ON,
    PlantError,
    load_plant,
    parse_plant,
)
from telemetry.contract import MachineState

from .helpers_sim import tiny_plant_raw

SHANGHAI = ZoneInfo("Asia/Shanghai")
PARIS = ZoneInfo("Europe/Paris")


def _ms(tz: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=tz).timestamp() * 1000)


def _status_at(model: PlantModel, tz: ZoneInfo, machine: str) -> dict[str, int]:
    """Calendar status of one machine at named local times (around National Day 2026)."""
    times = {
        "fri 23:00": (2026, 10, 16, 23), "sat 09:00": (2026, 10, 17, 9),
        "mon 09:00": (2026, 10, 12, 9), "sat 23:30": (2026, 10, 17, 23, 30),
        "sun 01:00": (2026, 10, 18, 1), "sun 04:00": (2026, 10, 18, 4),
        "sun 09:00": (2026, 10, 18, 9), "mon 01:00": (2026, 10, 19, 1),
        "wed 30 23:30": (2026, 9, 30, 23, 30), "thu 01 01:00": (2026, 10, 1, 1),
        "thu 01 09:00": (2026, 10, 1, 9), "thu 08 09:00": (2026, 10, 8, 9),
        "sat 10 09:00": (2026, 10, 10, 9),
    }
    i = model.index[machine]
    return {k: int(model.calendar_now(_ms(tz, *v))[i]) for k, v in times.items()}


def test_demo_plant_week_and_holidays() -> None:
    plant = load_plant()
    model = PlantModel(plant, 1, _ms(SHANGHAI, 2026, 9, 28), Intervals.from_seconds(60.0))
    # Sheet metal: Monday to Saturday, three shifts; Saturday's night shift runs into
    # Sunday morning, then planned maintenance, then nothing until Monday 06:00.
    hw = _status_at(model, SHANGHAI, "laser-01")
    assert (hw["mon 09:00"], hw["sat 23:30"], hw["sun 01:00"]) == (CAL_ON,) * 3
    assert (hw["sun 04:00"], hw["sun 09:00"], hw["mon 01:00"]) == (CAL_DOWNTIME, CAL_OFF,
                                                                    CAL_OFF)
    # National Day (Oct 1-7): the night shift that started on Sep 30 runs into Oct 1;
    # the holiday's own shifts are holidays; Oct 8 (a Thursday) is worked again.
    assert (hw["wed 30 23:30"], hw["thu 01 01:00"]) == (CAL_ON, CAL_ON)
    assert (hw["thu 01 09:00"], hw["thu 08 09:00"]) == (CAL_HOLIDAY, CAL_ON)
    assert hw["sat 10 09:00"] == CAL_ON
    # Assembly: Monday to Friday, two shifts.
    asm = _status_at(model, SHANGHAI, "s1-pack")
    assert (asm["mon 09:00"], asm["fri 23:00"], asm["sat 09:00"]) == (CAL_ON, CAL_OFF, CAL_OFF)
    assert (asm["thu 01 09:00"], asm["sat 10 09:00"]) == (CAL_HOLIDAY, CAL_OFF)


def _paris(calendar: dict[str, object], holidays: list[object] | None = None):  # type: ignore[no-untyped-def]
    raw = tiny_plant_raw()
    raw.pop("utc_offset_h")
    raw["timezone"] = "Europe/Paris"
    raw["calendars"] = {"day": calendar}
    if holidays is not None:
        raw["holidays"] = holidays
    return parse_plant(raw, "paris.yaml")


def test_week_and_holidays_follow_local_time_across_the_spring_switch() -> None:
    """Mon-Fri 06:00-14:00 in Paris, Monday 2026-03-30 a holiday (given as a YAML date):
    from Friday 27 (CET) to Wednesday 1 (CEST) only Friday, Tuesday and Wednesday work,
    each from 06:00 local."""
    plant = _paris({"days": ["mon", "tue", "wed", "thu", "fri"], "shifts": ["06:00-14:00"]},
                   [dt.date(2026, 3, 30)])
    start = _ms(PARIS, 2026, 3, 27)
    model = PlantModel(plant, 1, start, Intervals.from_seconds(60.0))
    on: Counter[str] = Counter()
    first: dict[str, str] = {}
    holiday = Counter[str]()
    for minute in range(6 * 24 * 60):
        ts = start + minute * 60_000
        local = dt.datetime.fromtimestamp(ts / 1000, PARIS)
        status = model.calendar_now(ts)[0]
        if status == CAL_ON:
            on[local.strftime("%a")] += 1
            first.setdefault(local.strftime("%a"), local.strftime("%H:%M %z"))
        holiday[local.strftime("%a")] += status == CAL_HOLIDAY
    assert on == {"Fri": 480, "Tue": 480, "Wed": 480}
    assert first == {"Fri": "06:00 +0100", "Tue": "06:00 +0200", "Wed": "06:00 +0200"}
    assert holiday["Mon"] == 480 and sum(holiday.values()) == 480


def test_model_states_on_a_holiday_and_a_calendar_with_its_own_list() -> None:
    """The machine is OFF with reason `holiday` during the holiday's shift; a calendar
    that lists its own holidays (here none) ignores the plant's."""
    for own, want in ((None, "holiday"), ([], "producing")):
        cal: dict[str, object] = {"shifts": ["06:00-14:00"]}
        if own is not None:
            cal["holidays"] = own
        plant = _paris(cal, ["2026-05-01..2026-05-01", "2026-12-25"])
        model = PlantModel(plant, 1, _ms(PARIS, 2026, 5, 1, 5, 0),
                           Intervals.from_seconds(60.0))
        reasons = Counter()
        for _ in range(4 * 60):  # 05:00-09:00 local
            model.step()
            reasons[REASONS[int(model.reason[0])]] += 1
        assert reasons[want] >= 150, reasons
        if own is None:
            assert 59 <= reasons["no shift"] <= 60 and set(reasons) == {"no shift", "holiday"}
            assert int(model.state[0]) == MachineState.OFF


@pytest.mark.parametrize(("patch", "path", "words"), [
    ({"holidays": ["2026-13-01"]}, "holidays[0]", "must be a date"),
    ({"holidays": ["2026-10-07..2026-10-01"]}, "holidays[0]", "run forward"),
    ({"holidays": "2026-10-01"}, "holidays", "must be a list"),
    ({"calendars": {"c": {"shifts": ["06:00-14:00"], "days": ["mon", "sunday", "fun"]}}},
     "calendars.c.days[2]", "must be a weekday"),
    ({"calendars": {"c": {"shifts": ["06:00-14:00"], "days": []}}},
     "calendars.c.days", "must not be empty"),
    ({"calendars": {"c": {"shifts": ["06:00-14:00"], "holidays": [20261001]}}},
     "calendars.c.holidays[0]", "must be a date"),
])
def test_bad_days_and_holidays_are_one_line_errors(patch: dict[str, object], path: str,
                                                   words: str) -> None:
    raw = tiny_plant_raw()
    raw.update(patch)
    with pytest.raises(PlantError) as err:
        parse_plant(raw, "bad.yaml")
    msg = str(err.value)
    assert msg.startswith(f"bad.yaml: {path}: ") and words in msg and "\n" not in msg
