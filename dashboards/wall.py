"""What one screen is built for: a plant (the plant file, parsed by the simulator's own
validator) in one language, and the facts about it the screens need.

Everything a plant decides reaches the dashboards through here: its name, time zone,
areas and lines, the machines whose good parts are the plant's output, machine count,
shift start times. Pure: no I/O after :func:`load`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from dashboards.i18n import (
    PDM_SOURCE_NAMES,
    PDM_UNKNOWN_MODE,
    REASON_NAMES,
    Lang,
    LangCode,
    reason_label,
)
from dashboards.queries import (
    VAR_OUTPUT,
    VAR_PLANT_TZ,
    VAR_SHIFT_OFFSET,
    Variable,
    multi,
    single,
)
from simulator.downtime import REASONS
from simulator.plant import Area, Calendar, Line, Machine, Plant, load_plant
from simulator.shifts import WEEKDAYS

#: A machine whose latest state is older than this shows grey "Offline" (3 state
#: intervals of 60 s: one lost message never turns a machine grey).
FRESH_WINDOW = "3m"
#: The data-age stat turns red when nothing arrived for this long.
DATA_AGE_LIMIT_S = 60


def load(path: str | Path | None = None) -> Plant:
    """The plant file at `path` (default: the demo plant), validated like the simulator."""
    return load_plant(path)


@dataclass(frozen=True)
class Wall:
    """One language's wall for one plant; ``wall.t(en, zh)`` picks a label."""

    lang: Lang
    plant: Plant

    @classmethod
    def of(cls, code: LangCode, plant: Plant) -> Wall:
        return cls(Lang(code), plant)

    def t(self, en: str, zh: str) -> str:
        return self.lang.t(en, zh)

    # -- names ---------------------------------------------------------------------------
    @property
    def plant_name(self) -> str:
        return self.t(self.plant.name, self.plant.name_zh)

    def area_name(self, area: Area) -> str:
        return self.t(area.name, area.name_zh)

    def line_name(self, line: Line) -> str:
        return self.t(line.name, line.name_zh)

    def type_name(self, type_id: str) -> str:
        mt = self.plant.types[type_id]
        return self.t(mt.name, mt.name_zh)

    def fault_message(self, code: str) -> str:
        for mt in self.plant.types.values():
            for f in mt.faults:
                if f.code == code:
                    return self.t(f.message, f.message_zh)
        return code

    def region_names(self) -> dict[str, str]:
        """The `region` tag values -> their names in this language."""
        return {r.name: self.t(r.name, r.name_zh) for r in self.plant.business.regions}

    def channel_names(self) -> dict[str, str]:
        return {c.name: self.t(c.name, c.name_zh) for c in self.plant.business.channels}

    def untranslated(self) -> set[str]:
        """Names the plant file gives in one language only (``name_zh`` defaulted to the
        name): the Chinese wall shows them as they are."""
        p = self.plant
        named: list[tuple[str, str]] = [(p.name, p.name_zh)]
        named += [(a.name, a.name_zh) for a in p.areas]
        named += [(ln.name, ln.name_zh) for _, ln in p.lines]
        named += [(mt.name, mt.name_zh) for mt in p.types.values()]
        named += [(f.message, f.message_zh) for mt in p.types.values() for f in mt.faults]
        named += [(s.name, s.name_zh) for s in (*p.business.regions, *p.business.channels)]
        named += [(t.name, t.name_zh) for t in p.technicians]
        # signals: a label without name_zh, and the unit as the plant file writes it
        signals = [s for mt in p.types.values() for s in mt.signals]
        named += [(s.label, s.label_zh) for s in signals] + [(s.unit, s.unit) for s in signals]
        return {en for en, zh in named if en == zh}

    # -- value mappings: tag values (ids, codes) -> names in this language ---------------
    def area_mappings(self) -> list[dict[str, Any]]:
        return _value_map({a.id: self.area_name(a) for a in self.plant.areas})

    def line_mappings(self) -> list[dict[str, Any]]:
        return _value_map({ln.id: self.line_name(ln) for _, ln in self.plant.lines})

    def fault_mappings(self) -> list[dict[str, Any]]:
        """Fault codes -> their message (a FAULT state's reason, a downtime reason)."""
        return _value_map({f.code: self.fault_message(f.code)
                           for mt in self.plant.types.values() for f in mt.faults})

    def technician_mappings(self) -> list[dict[str, Any]]:
        """The crew's names (the `technician` field) -> their names in this language."""
        return _value_map({p.name: self.t(p.name, p.name_zh) for p in self.plant.technicians})

    def reason_mappings(self) -> list[dict[str, Any]]:
        """Every state / downtime reason the simulator has (simulator.downtime.REASONS, so a
        reason added there is labelled here, as are those announced for it) and the plant's
        fault codes."""
        names = {r: reason_label(r, self.lang) for r in (*REASONS, *REASON_NAMES) if r}
        return _value_map({**names, **{f.code: self.fault_message(f.code)
                                       for mt in self.plant.types.values()
                                       for f in mt.faults}})

    def machine_mappings(self) -> list[dict[str, Any]]:
        """Machine ids -> the id and its type's name in this language ("press-03 冲床")."""
        return _value_map({m.id: f"{m.id} {self.type_name(m.type)}" for m in self.machines})

    def mode_mappings(self) -> list[dict[str, Any]]:
        """A prediction's failure mode: the fault code with its message in this language,
        and ``wear`` (the detector cannot tell which) in words."""
        codes = {f.code: f"{f.code} · {self.fault_message(f.code)}"
                 for mt in self.plant.types.values() for f in mt.faults}
        unknown, names = PDM_UNKNOWN_MODE
        return _value_map({**codes, unknown: self.t(*names)})

    def pdm_source_mappings(self) -> list[dict[str, Any]]:
        return _value_map({s: self.t(*n) for s, n in PDM_SOURCE_NAMES.items()})

    # -- structure -----------------------------------------------------------------------
    @cached_property
    def machines(self) -> list[Machine]:
        return self.plant.machines

    @cached_property
    def output_machines(self) -> list[Machine]:
        """The machines whose good parts are the lines' output (every line's ``output``)."""
        return self.plant.output_machines

    @property
    def timezone(self) -> str:
        """The plant's time zone for the dashboards' ``timezone``: its IANA name, or
        ``utc`` for a fixed offset that is not whole hours (Grafana knows no other)."""
        zone = self.plant.timezone
        return "utc" if zone.startswith("UTC") and zone != "UTC" else zone

    @property
    def utc_offset(self) -> dt.timedelta:
        return dt.timedelta(hours=self.plant.utc_offset_h)

    @property
    def currency(self) -> str:
        """ISO 4217 code of the sales amounts."""
        return self.plant.business.currency

    @property
    def daily_target(self) -> int:
        """Finished units per plant-local day (the plant's business target)."""
        return round(self.plant.business.daily_output_target)

    @property
    def currency_zh(self) -> str:
        return CURRENCY_ZH.get(self.currency, self.currency)

    def line_of(self, machine: Machine) -> Line:
        return next(ln for a, ln in self.plant.lines
                    if a.id == machine.area and ln.id == machine.line)

    def first_area(self) -> Area:
        return self.plant.areas[0]

    # -- shifts ----------------------------------------------------------------------------
    def calendar(self, area: Area | None = None) -> Calendar:
        """The calendar of `area`, else the one most machines of the plant work to."""
        if area is not None:
            return self.plant.calendars[area.calendar]
        counts: dict[str, int] = {}
        for a in self.plant.areas:
            n = sum(len(ln.machines) for ln in a.lines)
            counts[a.calendar] = counts.get(a.calendar, 0) + n
        return self.plant.calendars[max(counts, key=lambda c: counts[c])]

    def output_calendar(self) -> Calendar:
        """The calendar the output machines work to (the first output machine's area)."""
        first = self.output_machines[0] if self.output_machines else self.machines[0]
        return self.calendar(next(a for a in self.plant.areas if a.id == first.area))

    @property
    def shift_length_min(self) -> int:
        """Bucket length of "output by shift": the output calendar's first shift."""
        start, end = self.output_calendar().shifts[0]
        return (end - start) % MIN_PER_DAY or MIN_PER_DAY

    @property
    def shift_offset(self) -> str:
        """InfluxQL GROUP BY time offset that puts bucket edges on the shift changes: in
        local minutes, the buckets being aligned to the local clock by ``tz()`` (see
        :attr:`query_zone`); for a fixed ``UTC+hh:mm`` offset, in UTC minutes."""
        start = self.output_calendar().shifts[0][0]
        if self.iana_zone is None:
            start = round(start - self.plant.utc_offset_h * 60)
        return f"{start % self.shift_length_min}m"

    @property
    def query_zone(self) -> str:
        """The zone InfluxQL's ``tz()`` gets: the plant's IANA zone, else UTC (a fixed
        offset, already in :attr:`shift_offset`)."""
        return self.iana_zone or "UTC"

    def shifts(self, area: Area | None = None) -> list[tuple[str, int, int]]:
        """(label, start, end) in minutes of the local day covering the whole day: each
        shift (one over midnight split in two ranges with the same label) and the time
        between shifts as "No shift"."""
        out: list[tuple[str, int, int]] = []
        for i, (start, end) in enumerate(self.calendar(area).shifts):
            stop = end % MIN_PER_DAY or MIN_PER_DAY
            hhmm = f"{start // 60:02d}:{start % 60:02d}-{stop // 60:02d}:{stop % 60:02d}"
            label = self.t(f"Shift {i + 1} {hhmm}", f"{ZH_ORDINALS[i % 10]}班 {hhmm}")
            if end > MIN_PER_DAY:
                out += [(label, start, MIN_PER_DAY), (label, 0, end - MIN_PER_DAY)]
            elif end < start:
                out += [(label, start, MIN_PER_DAY), (label, 0, end)]
            else:
                out.append((label, start, end))
        out.sort(key=lambda s: s[1])
        gaps, edge = [], 0
        for _, start, end in out:
            if start > edge:
                gaps.append((self.t("No shift", "非生产时间"), edge, start))
            edge = max(edge, end)
        if edge < MIN_PER_DAY:
            gaps.append((self.t("No shift", "非生产时间"), edge, MIN_PER_DAY))
        return sorted(out + gaps, key=lambda s: s[1])

    def week_shifts(self, area: Area | None = None) -> list[tuple[str, int, int, int]]:
        """(label, weekday (0 = Monday), start, end) in minutes of the local day, covering
        the whole week: each day's shifts (a shift over midnight belongs to the day it
        starts on, its hours after midnight to the next day) and the rest "No shift". A
        calendar's worked weekdays (``days``, when the plant file gives them) count; other
        days have no shift of their own."""
        cal = self.calendar(area)
        worked = worked_weekdays(cal)
        segments: list[list[tuple[str, int, int]]] = [[] for _ in range(7)]
        for i, (start, end) in enumerate(cal.shifts):
            stop = end % MIN_PER_DAY or MIN_PER_DAY
            hhmm = f"{start // 60:02d}:{start % 60:02d}-{stop // 60:02d}:{stop % 60:02d}"
            label = self.t(f"Shift {i + 1} {hhmm}", f"{ZH_ORDINALS[i % 10]}班 {hhmm}")
            for day in sorted(worked):
                if start < end <= MIN_PER_DAY:
                    segments[day].append((label, start, end))
                else:  # over midnight
                    segments[day].append((label, start, MIN_PER_DAY))
                    segments[(day + 1) % 7].append((label, 0, end % MIN_PER_DAY))
        out: list[tuple[str, int, int, int]] = []
        for day, segs in enumerate(segments):
            edge = 0
            for label, start, end in sorted(segs, key=lambda x: x[1]):
                if start > edge:
                    out.append((self.t("No shift", "非生产时间"), day, edge, start))
                out.append((label, day, max(start, edge), end))
                edge = max(edge, end)
            if edge < MIN_PER_DAY:
                out.append((self.t("No shift", "非生产时间"), day, edge, MIN_PER_DAY))
        return [s for s in out if s[3] > s[2]]

    def holiday_shifts(self, area: Area | None = None) -> list[tuple[str, dt.date, int, int]]:
        """("Holiday", local date, start, end): the shift time the calendar's holidays
        (``holidays``, when the plant file gives them) take off, a night shift counted on
        the day it starts (its hours after midnight on the next date)."""
        cal = self.calendar(area)
        worked = worked_weekdays(cal)
        label = self.t("Holiday", "节假日")
        out: list[tuple[str, dt.date, int, int]] = []
        for number in sorted(getattr(cal, "holidays", ()) or ()):
            day = EPOCH + dt.timedelta(days=int(number))
            if day.weekday() not in worked:
                continue
            for start, end in cal.shifts:
                if start < end <= MIN_PER_DAY:
                    out.append((label, day, start, end))
                else:
                    out += [(label, day, start, MIN_PER_DAY),
                            (label, day + dt.timedelta(days=1), 0, end % MIN_PER_DAY)]
        return [h for h in out if h[3] > h[2]]

    @property
    def several_calendars(self) -> bool:
        """Whether the plant's areas work to different calendars."""
        return len({a.calendar for a in self.plant.areas}) > 1

    @property
    def iana_zone(self) -> str | None:
        """The plant's IANA time zone (DST rules included), or None for a fixed ``UTC+hh:mm``
        offset that no IANA name has."""
        zone = self.plant.timezone
        return None if zone.startswith(("UTC+", "UTC-")) else zone

    # -- variables the queries expand -------------------------------------------------------
    def query_variables(self) -> dict[str, Variable]:
        """The plant-generated variables (output machines, shift offset), as
        :func:`dashboards.queries.substitute` takes them."""
        return {VAR_OUTPUT: multi(*[m.id for m in self.output_machines]),
                VAR_SHIFT_OFFSET: single(self.shift_offset),
                VAR_PLANT_TZ: single(self.query_zone)}


def worked_weekdays(cal: Calendar) -> set[int]:
    """The weekdays (0 = Monday) a calendar works: its ``days`` (names such as ``mon`` or
    numbers) when it has them, else every day."""
    days = getattr(cal, "days", None)
    if not days:
        return set(range(7))
    return {WEEKDAYS.index(str(d).lower()[:3]) if isinstance(d, str) else int(d) % 7
            for d in days}


def _value_map(texts: dict[str, str]) -> list[dict[str, Any]]:
    """One Grafana value mapping (JSON) from value -> text, in the given order."""
    return [{"type": "value", "options": {
        value: {"text": text, "index": i} for i, (value, text) in enumerate(texts.items())}}]


MIN_PER_DAY = 24 * 60
#: Holidays are day numbers since this date (simulator.shifts).
EPOCH = dt.date(1970, 1, 1)
#: Chinese names of currencies a plant may sell in (others show their ISO code).
CURRENCY_ZH = {"CNY": "元", "USD": "美元", "EUR": "欧元", "JPY": "日元", "GBP": "英镑",
               "HKD": "港元"}
ZH_ORDINALS = "一二三四五六七八九十"
