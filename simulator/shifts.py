"""Shift calendars (week and holidays included) and the plant's time zone.

Calendars are in site-local minutes of the day; the plant's ``timezone`` (an IANA name,
summer time included) or ``utc_offset_h`` (a fixed offset) turns UTC into local time.
A calendar works its shifts on its ``days`` (weekdays; default every day) except on its
holidays (the plant's ``holidays:`` list unless the calendar gives its own). A shift
that passes midnight belongs to the day it starts on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulator.plant_check import Ctx, as_list, as_map, join, known, num, show, text

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_FIXED = re.compile(r"^UTC([+-])(\d\d):(\d\d)\Z")


# -- time zone -----------------------------------------------------------------------------
def zone_for_offset(hours: float) -> str:
    """The zone name of a fixed UTC offset: ``Etc/GMT-8`` for +8 (POSIX signs are
    inverted), ``UTC`` for 0, ``UTC+05:30`` for an offset that is not whole hours."""
    if hours == 0:
        return "UTC"
    if float(hours).is_integer() and -12 <= hours <= 14:
        return f"Etc/GMT{-int(hours):+d}"
    minutes = round(abs(hours) * 60)
    return f"UTC{'+' if hours > 0 else '-'}{minutes // 60:02d}:{minutes % 60:02d}"


def tzinfo_for(name: str) -> dt.tzinfo:
    """``datetime.tzinfo`` of a zone name: an IANA zone or a ``UTC+hh:mm`` fixed offset."""
    fixed = _FIXED.match(name)
    if fixed:
        sign = 1 if fixed.group(1) == "+" else -1
        delta = dt.timedelta(hours=int(fixed.group(2)), minutes=int(fixed.group(3)))
        return dt.timezone(sign * delta, name)
    return ZoneInfo(name)


def standard_offset_h(tz: dt.tzinfo) -> float:
    """The zone's standard (winter) offset in hours, as of 2026."""
    for month in (1, 7):
        t = dt.datetime(2026, month, 15, 12, tzinfo=tz)
        if not t.dst():
            off = t.utcoffset()
            assert off is not None
            return off.total_seconds() / 3600
    off = dt.datetime(2026, 1, 15, 12, tzinfo=tz).utcoffset()
    return 0.0 if off is None else off.total_seconds() / 3600


class LocalClock:
    """UTC epoch ms -> the plant's local wall-clock seconds (DST included).

    The offset is looked up once per UTC minute (zone transitions fall on whole minutes).
    """

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self._minute = -1
        self._offset_s = 0

    def offset_s(self, ts_ms: int) -> int:
        """Seconds to add to UTC for local time at ``ts_ms``."""
        minute = int(ts_ms) // 60_000
        if minute != self._minute:
            off = dt.datetime.fromtimestamp(minute * 60, self.tz).utcoffset()
            self._offset_s = 0 if off is None else int(off.total_seconds())
            self._minute = minute
        return self._offset_s

    def local_s(self, ts_ms: int) -> int:
        """Local wall-clock seconds since 1970-01-01 00:00 local."""
        return int(ts_ms) // 1000 + self.offset_s(ts_ms)

    def day(self, ts_ms: int) -> str:
        """The local date, ``YYYYMMDD``."""
        return dt.datetime.fromtimestamp(ts_ms / 1000, self.tz).strftime("%Y%m%d")


def parse_zone(ctx: Ctx, m: Mapping[str, Any]) -> tuple[str, float]:
    """``timezone:`` or ``utc_offset_h:`` (one or the other; default UTC) -> (name, hours)."""
    if m.get("timezone") is not None and m.get("utc_offset_h") is not None:
        raise ctx.fail("timezone", "give timezone or utc_offset_h, not both")
    if m.get("timezone") is None:
        offset = num(ctx, m, "utc_offset_h", "", 0.0, lo=-12.0, hi=14.0)
        return zone_for_offset(offset), offset
    name = text(ctx, m, "timezone", "")
    try:
        tz = tzinfo_for(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ctx.fail("timezone", f"unknown time zone {name!r} (an IANA name such as "
                       "Europe/Paris or Asia/Shanghai)") from None
    return name, standard_offset_h(tz)


# -- calendars -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Calendar:
    """Shift calendar in site-local minutes of the day.

    ``shifts`` and ``breaks`` are (start_min, end_min) windows (end may pass midnight:
    22:00-06:00); ``downtime`` are planned-maintenance windows on given weekdays
    (0 = Monday).
    """

    id: str
    shifts: tuple[tuple[int, int], ...]
    breaks: tuple[tuple[int, int], ...] = ()
    downtime: tuple[tuple[int, int, int], ...] = ()  # (weekday, start_min, end_min)
    shift_starts: tuple[int, ...] = field(default=())
    days: frozenset[int] = frozenset(range(7))  # weekdays worked, 0 = Monday
    holidays: frozenset[int] = frozenset()  # local dates off, as days since 1970-01-01


def _window(ctx: Ctx, raw: Any, path: str) -> tuple[int, int]:
    if not isinstance(raw, str) or not _WINDOW.match(raw.strip()):
        raise ctx.fail(path, f"must be a time window like \"06:00-14:00\", got {show(raw)}")
    mt = _WINDOW.match(raw.strip())
    assert mt is not None
    h1, m1, h2, m2 = (int(g) for g in mt.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
        raise ctx.fail(path, f"{raw!r} is not a valid time of day window")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ctx.fail(path, f"{raw!r} is empty")
    return start % 1440, end if end <= 1440 else end % 1440


_EPOCH = dt.date(1970, 1, 1)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
#: At most this many days in one holiday range.
MAX_HOLIDAY_SPAN = 366


def _date(ctx: Ctx, raw: Any, path: str) -> dt.date:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw  # YAML reads an unquoted 2026-10-01 as a date
    if isinstance(raw, str) and _DATE.match(raw.strip()):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ctx.fail(path, f"must be a date like 2026-10-01 or a range like "
                   f"2026-10-01..2026-10-07, got {show(raw)}")


def parse_holidays(ctx: Ctx, raw: Any, path: str) -> frozenset[int]:
    """A ``holidays:`` list: ISO dates and ``first..last`` ranges (inclusive) -> days
    since 1970-01-01."""
    out: set[int] = set()
    for i, item in enumerate(as_list(ctx, raw, path, nonempty=False)):
        p = f"{path}[{i}]"
        if isinstance(item, str) and ".." in item:
            a, _, b = item.partition("..")
            first, last = _date(ctx, a, p), _date(ctx, b, p)
            span = (last - first).days + 1
            if not 1 <= span <= MAX_HOLIDAY_SPAN:
                raise ctx.fail(p, f"range {item!r} must run forward and span at most "
                               f"{MAX_HOLIDAY_SPAN} days")
        else:
            first = _date(ctx, item, p)
            span = 1
        start = (first - _EPOCH).days
        out.update(range(start, start + span))
    return frozenset(out)


def _days(ctx: Ctx, raw: Any, path: str) -> frozenset[int]:
    days: set[int] = set()
    for i, d in enumerate(as_list(ctx, raw, path)):
        day = d.lower()[:3] if isinstance(d, str) else None
        if day not in WEEKDAYS:
            raise ctx.fail(f"{path}[{i}]", f"must be a weekday ({', '.join(WEEKDAYS)}), "
                           f"got {show(d)}")
        days.add(WEEKDAYS.index(day))
    return frozenset(days)


def parse_calendar(ctx: Ctx, cid: str, raw: Any, path: str,
                   holidays: frozenset[int] = frozenset()) -> Calendar:
    """One ``calendars.<id>`` entry; ``holidays``: the plant's, unless it gives its own."""
    m = as_map(ctx, raw, path)
    known(ctx, m, path, ("shifts", "breaks", "planned_downtime", "days", "holidays"))
    shifts = tuple(_window(ctx, w, f"{path}.shifts[{i}]")
                   for i, w in enumerate(as_list(ctx, m.get("shifts"), join(path, "shifts"))))
    breaks = tuple(_window(ctx, w, f"{path}.breaks[{i}]")
                   for i, w in enumerate(as_list(ctx, m.get("breaks", []), join(path, "breaks"),
                                               nonempty=False)))
    downtime: list[tuple[int, int, int]] = []
    dpath = join(path, "planned_downtime")
    for i, d in enumerate(as_list(ctx, m.get("planned_downtime", []), dpath, nonempty=False)):
        p = f"{dpath}[{i}]"
        dm = as_map(ctx, d, p)
        known(ctx, dm, p, ("day", "window"))
        day = text(ctx, dm, "day", p).lower()[:3]
        if day not in WEEKDAYS:
            raise ctx.fail(join(p, "day"), f"must be a weekday ({', '.join(WEEKDAYS)})")
        s, e = _window(ctx, dm.get("window"), join(p, "window"))
        downtime.append((WEEKDAYS.index(day), s, e))
    days = (_days(ctx, m["days"], join(path, "days")) if m.get("days") is not None
            else frozenset(range(7)))
    if m.get("holidays") is not None:
        holidays = parse_holidays(ctx, m["holidays"], join(path, "holidays"))
    return Calendar(id=cid, shifts=shifts, breaks=breaks, downtime=tuple(downtime),
                    shift_starts=tuple(sorted({s for s, _ in shifts})), days=days,
                    holidays=holidays)


def _in_window(minute: int, w: tuple[int, int]) -> bool:
    s, e = w
    return s <= minute < e if s < e else (minute >= s or minute < e)


# Calendar status codes (per machine per tick). CAL_HOLIDAY: a shift's time on a holiday.
CAL_OFF, CAL_ON, CAL_BREAK, CAL_DOWNTIME, CAL_HOLIDAY = 0, 1, 2, 3, 4


def calendar_status(cal: Calendar, local_minute: int, weekday: int,
                    day: int | None = None) -> int:
    """Status of a calendar at a site-local minute of day and weekday (0 = Monday);
    ``day`` (local days since 1970-01-01) checks holidays, None skips them."""
    for wd, s, e in cal.downtime:
        # A window past midnight belongs to the day it starts on.
        if s < e and wd == weekday and s <= local_minute < e:
            return CAL_DOWNTIME
        if s > e and ((wd == weekday and local_minute >= s)
                      or ((wd + 1) % 7 == weekday and local_minute < e)):
            return CAL_DOWNTIME
    status = CAL_OFF
    for w in cal.shifts:
        if not _in_window(local_minute, w):
            continue
        back = 1 if w[0] > w[1] and local_minute < w[1] else 0  # started yesterday
        if (weekday - back) % 7 not in cal.days:
            continue
        if day is not None and day - back in cal.holidays:
            status = CAL_HOLIDAY
            continue
        status = CAL_ON
        break
    if status != CAL_ON:
        return status
    if any(_in_window(local_minute, w) for w in cal.breaks):
        return CAL_BREAK
    return CAL_ON


