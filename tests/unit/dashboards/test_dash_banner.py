"""The banner's shift in the plant's local time, daylight saving included: the banner
panel's transformations and range mappings, read with a small model of what Grafana
does with exactly these (calculateField +, convertFieldType to time / number, formatTime
with an explicit zone; the first range mapping that holds the value), give the shift
the simulator's own calendar is in, every 10 minutes across a DST change."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.screens import base
from dashboards.wall import Wall, load, worked_weekdays
from simulator.plant import Area, Plant
from simulator.shifts import CAL_BREAK, CAL_OFF, CAL_ON, calendar_status

LYON = Path(__file__).resolve().parents[3] / "docs" / "examples" / "acme-lyon.yaml"
MIN_MS = 60_000


def _banner(wall: Wall, area: Area | None) -> dict[str, Any]:
    """The banner's shift panel as JSON, for a screen of `area` (None: a site screen)."""
    panels = [json.loads(json.dumps(b.build(), cls=JSONEncoder))
              for b in base.banner(wall, "screen", area)]
    model: dict[str, Any] = next(pn for pn in panels if pn["id"] == base.BANNER_SHIFT_ID)
    return model


def shown(panel: dict[str, Any], utc_ms: int) -> str | None:
    """What the banner's stat shows for a newest bucket at `utc_ms` (None: no mapping)."""
    value: Any = utc_ms
    for tr in panel["transformations"]:
        o = tr["options"]
        if tr["id"] == "calculateField":
            assert o["binary"]["left"] == "Time" and o["binary"]["operator"] == "+"
            value = value + float(o["binary"]["right"])
        elif tr["id"] == "formatTime":
            # moment: YYYY-MM-DD, d = weekday 0 = Sunday, HH, mm
            assert o["outputFormat"] == "YYYY-MM-DD d HHmm"
            zone = dt.UTC if o["timezone"] == "utc" else ZoneInfo(o["timezone"])
            t = dt.datetime.fromtimestamp(value / 1000, zone)
            value = f"{t:%Y-%m-%d} {t.isoweekday() % 7} {t:%H%M}"
        elif tr["id"] == "convertFieldType":
            (conv,) = o["conversions"]
            assert conv["destinationType"] == "time"
        else:
            raise AssertionError(f"unexpected transformation {tr['id']}")
    assert panel["options"]["reduceOptions"]["fields"] == f"/^{base.LOCAL_FIELD}$/"
    for m in panel["fieldConfig"]["defaults"]["mappings"]:
        # Grafana: a pattern without slashes is anchored at both ends (stringToJsRegex)
        assert m["type"] == "regex"
        if re.fullmatch(m["options"]["pattern"], value):
            return str(m["options"]["result"]["text"])
    return None


def expected(plant: Plant, area_calendar: str, utc_ms: int) -> str:
    """The shift the simulator's calendar is in at `utc_ms`, from the plant's own clock
    (planned-downtime windows left out: they sit inside or outside the shifts)."""
    local = dt.datetime.fromtimestamp(utc_ms / 1000, plant.tzinfo)
    minute = local.hour * 60 + local.minute
    cal = dataclasses.replace(plant.calendars[area_calendar], downtime=())
    # the day number checks holidays where the calendar has them (issue 16's week calendars)
    day = {"day": (local.date() - dt.date(1970, 1, 1)).days} if "day" in inspect.signature(
        calendar_status).parameters else {}
    status = calendar_status(cal, minute, local.weekday(), **day)
    if status == CAL_OFF:
        return "No shift"
    if status not in (CAL_ON, CAL_BREAK):
        return "Holiday"
    for i, (s, e) in enumerate(cal.shifts):
        if (s <= minute < e) if s < e else (minute >= s or minute < e):
            return f"Shift {i + 1} "
    raise AssertionError("in a shift but in none of its windows")


@pytest.mark.parametrize(("plant_file", "start"), [
    (LYON, "2026-03-27T00:00:00+00:00"),   # Europe/Paris: summer time from 29 March 01:00 UTC
    (LYON, "2026-10-23T00:00:00+00:00"),   # and back on 25 October
    (None, "2026-03-27T00:00:00+00:00"),   # Asia/Shanghai, a night shift over midnight
])
def test_banner_shift_follows_the_local_clock_across_dst(plant_file: Path | None,
                                                        start: str) -> None:
    """Every area's screen (its calendar) and the site screens (the calendar most machines
    work to), every 10 minutes for five days around the change."""
    plant = load(plant_file)
    wall = Wall.of("en", plant)
    t0 = int(dt.datetime.fromisoformat(start).timestamp() * 1000)
    for area in (None, *plant.areas):
        panel = _banner(wall, area)
        calendar = wall.calendar(area)
        for k in range(0, 5 * 24 * 60, 10):
            ts = t0 + k * MIN_MS
            text = shown(panel, ts)
            want = expected(plant, calendar.id, ts)
            assert text is not None and text.startswith(want), (area, ts, text, want)


def test_summer_morning_is_the_morning_shift_not_the_standard_offset() -> None:
    """06:30 in Lyon on 30 March 2026 is 04:30 UTC: the bottling hall's morning shift (the
    standard offset, +1 h, reads 05:30: no shift, what the banner showed before)."""
    plant = load(LYON)
    wall = Wall.of("en", plant)
    bottling = next(a for a in plant.areas if a.id == "bottling")
    ts = int(dt.datetime(2026, 3, 30, 4, 30, tzinfo=dt.UTC).timestamp() * 1000)
    assert shown(_banner(wall, bottling), ts) == "Shift 1 06:00-14:00"
    jan = int(dt.datetime(2026, 1, 5, 4, 30, tzinfo=dt.UTC).timestamp() * 1000)
    assert shown(_banner(wall, bottling), jan) == "No shift"  # 05:30 in winter
    assert shown(_banner(wall, bottling), jan + 30 * MIN_MS) == "Shift 1 06:00-14:00"


def test_site_banner_names_its_calendar_when_areas_differ() -> None:
    lyon = Wall.of("en", load(LYON))
    assert lyon.several_calendars
    assert _banner(lyon, None)["title"] == "Shift (most machines)"
    assert _banner(lyon, lyon.plant.areas[1])["title"] == "Shift"


def test_worked_weekdays_and_a_night_shift_belonging_to_its_start_day(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A calendar with ``days`` (issue 16: mon..fri): Friday's night shift runs into
    Saturday morning; Monday's small hours belong to Sunday, which is not worked."""
    assert worked_weekdays(SimpleNamespace(days=["mon", "Tue", 6])) == {0, 1, 6}
    assert worked_weekdays(SimpleNamespace()) == set(range(7))
    cal = SimpleNamespace(id="weekdays", shifts=((1320, 360),),
                          days=("mon", "tue", "wed", "thu", "fri"))
    wall = Wall.of("en", load())
    monkeypatch.setattr(Wall, "calendar", lambda self, area=None: cal)
    week = wall.week_shifts()
    def at(day: int, minute: int) -> str:
        return next(lbl for lbl, d, s, e in week if d == day and s <= minute < e)
    assert at(4, 23 * 60).startswith("Shift 1")   # Friday 23:00
    assert at(5, 3 * 60).startswith("Shift 1")    # Saturday 03:00, Friday's night
    assert at(5, 23 * 60) == "No shift"           # Saturday night: not worked
    assert at(0, 3 * 60) == "No shift"            # Monday 03:00: Sunday's night, not worked
    assert sum(e - s for _, d, s, e in week) == 7 * 24 * 60


def test_holidays_read_holiday_on_the_shift_time_they_take_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A holiday (issue 16: days since 1970-01-01, as the simulator's calendar holds them):
    its own shifts, and its night shift's hours after midnight, read "Holiday"; the night
    shift of the day before, running into the holiday, is still a shift."""
    holiday = dt.date(2026, 10, 1)  # a Thursday
    cal = SimpleNamespace(id="nights", shifts=((360, 840), (1320, 360)),
                          holidays=frozenset({(holiday - dt.date(1970, 1, 1)).days}))
    monkeypatch.setattr(Wall, "calendar", lambda self, area=None: cal)
    wall = Wall.of("zh", load(LYON))  # Europe/Paris: summer time on 1 October
    panel = _banner(wall, None)

    def at(iso: str) -> str | None:
        local = dt.datetime.fromisoformat(iso).replace(tzinfo=ZoneInfo("Europe/Paris"))
        return shown(panel, int(local.timestamp() * 1000))

    assert at("2026-09-30T23:00") == at("2026-10-01T03:00") == "二班 22:00-06:00"
    assert at("2026-10-01T07:00") == at("2026-10-01T23:00") == "节假日"
    assert at("2026-10-02T03:00") == "节假日"    # the holiday's night, after midnight
    assert at("2026-10-01T15:00") == "非生产时间"  # between its shifts, as any day
    assert at("2026-10-02T07:00") == "一班 06:00-14:00"
    assert at("2026-10-08T07:00") == "一班 06:00-14:00"  # a week later: a working day
