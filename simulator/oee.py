"""OEE arithmetic, the standard way, from the sums the `counts` messages carry.

availability = run / planned, performance = ideal / run, quality = good / (good + scrap),
OEE = availability x performance x quality. An empty denominator gives 0 (nothing was
planned, run or made), so a window with no production reads as 0 %, never as NaN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else 0.0


def oee_from_sums(run_s: float, planned_s: float, ideal_s: float, good: int,
                  scrap: int) -> dict[str, float]:
    """OEE factors (0-1) from summed run, planned and ideal seconds and part counts."""
    availability = _ratio(run_s, planned_s)
    performance = _ratio(ideal_s, run_s)
    quality = _ratio(good, good + scrap)
    return {
        "availability": round(availability, 6),
        "performance": round(performance, 6),
        "quality": round(quality, 6),
        "oee": round(availability * performance * quality, 6),
    }


def oee_from_counts(payloads: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """OEE over any set of `counts` payloads (sums of their interval deltas)."""
    run = planned = ideal = 0.0
    good = scrap = 0
    for p in payloads:
        run += float(p.get("run_s", 0.0))
        planned += float(p.get("planned_s", 0.0))
        ideal += float(p.get("ideal_s", 0.0))
        good += int(p.get("good", 0))
        scrap += int(p.get("scrap", 0))
    return oee_from_sums(run, planned, ideal, good, scrap)
