"""The plant file's loss settings: the maintenance crew (``maintenance:``) and what the
time of day does to production (``shift_effects:``).

```yaml
maintenance:
  crew: 4                  # technicians on duty: the first 4 of `technicians:` (default all)
  parts_share: 0.12        # share of repairs that wait for spare parts
  parts_wait_h: 2          # median wait for them (lognormal)
  parts_sigma: 1.0         # its spread (log scale): the long tail of repair times
shift_effects:             # site-local windows; every calendar unless `calendars:` says
  - {window: "22:00-06:00", performance: 0.95, scrap_factor: 1.4}
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.plant_check import Ctx, as_list, as_map, join, known, num, show
from simulator.shifts import Calendar
from simulator.shifts import _window as time_window


@dataclass(frozen=True)
class Maintenance:
    """Repairs: ``crew`` technicians on duty (None: every one listed), a share of repairs
    waiting for parts a lognormal time (median ``parts_wait_h``, log-sd ``parts_sigma``)."""

    crew: int | None = None
    parts_share: float = 0.1
    parts_wait_h: float = 2.0
    parts_sigma: float = 1.0


@dataclass(frozen=True)
class ShiftEffect:
    """In the site-local ``window`` (start_min, end_min), cycles take 1/``performance``
    as long and the scrap rate is x ``scrap_factor``; ``calendars`` empty = every one."""

    window: tuple[int, int]
    performance: float = 1.0
    scrap_factor: float = 1.0
    calendars: tuple[str, ...] = ()


def parse_maintenance(ctx: Ctx, raw: Any, crew_max: int) -> Maintenance:
    if raw is None:
        return Maintenance()
    p = "maintenance"
    m = as_map(ctx, raw, p)
    known(ctx, m, p, ("crew", "parts_share", "parts_wait_h", "parts_sigma"))
    crew: int | None = None
    if m.get("crew") is not None:
        c = m["crew"]
        if isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= crew_max:
            raise ctx.fail(join(p, "crew"), f"must be a whole number of technicians 1-"
                           f"{crew_max} (the `technicians:` listed), got {show(c)}")
        crew = c
    d = Maintenance()
    return Maintenance(crew=crew,
                       parts_share=num(ctx, m, "parts_share", p, d.parts_share, hi=1.0),
                       parts_wait_h=num(ctx, m, "parts_wait_h", p, d.parts_wait_h, lo=0.0,
                                        lo_open=True, hi=24 * 90),
                       parts_sigma=num(ctx, m, "parts_sigma", p, d.parts_sigma, hi=3.0))


def parse_shift_effects(ctx: Ctx, raw: Any,
                        calendars: Mapping[str, Calendar]) -> tuple[ShiftEffect, ...]:
    if raw is None:
        return ()
    out = []
    for i, item in enumerate(as_list(ctx, raw, "shift_effects", nonempty=False)):
        p = f"shift_effects[{i}]"
        m = as_map(ctx, item, p)
        known(ctx, m, p, ("window", "performance", "scrap_factor", "calendars"))
        cals = tuple(str(c) for c in as_list(ctx, m.get("calendars", []),
                                             join(p, "calendars"), nonempty=False))
        for c in cals:
            if c not in calendars:
                raise ctx.fail(join(p, "calendars"), f"unknown calendar {c!r} (have: "
                               f"{', '.join(calendars)})")
        out.append(ShiftEffect(
            window=time_window(ctx, m.get("window"), join(p, "window")),
            performance=num(ctx, m, "performance", p, 1.0, lo=0.0, lo_open=True, hi=2.0),
            scrap_factor=num(ctx, m, "scrap_factor", p, 1.0, hi=100.0),
            calendars=cals))
    return tuple(out)
