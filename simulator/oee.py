"""OEE arithmetic, the standard way, from the sums the `counts` messages carry.

availability = run / planned, performance = ideal / run, quality = good / (good + scrap),
OEE = availability x performance x quality. A ratio whose denominator is zero is
undefined and left out (``None`` / absent in JSON), never written as 0: a line that was
never planned has no OEE. OEE itself is defined whenever time was planned; when it was
but nothing ran or nothing was made, it is 0 (there is no good output).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FACTORS = ("availability", "performance", "quality", "oee")


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den > 0 else None


def oee_from_sums(run_s: float, planned_s: float, ideal_s: float, good: int,
                  scrap: int) -> dict[str, float]:
    """OEE factors (0-1) from summed run, planned and ideal seconds and part counts.

    Only the defined ones: an empty denominator leaves its ratio out.
    """
    availability = _ratio(run_s, planned_s)
    performance = _ratio(ideal_s, run_s)
    quality = _ratio(good, good + scrap)
    out: dict[str, float] = {}
    for key, value in (("availability", availability), ("performance", performance),
                       ("quality", quality)):
        if value is not None:
            out[key] = round(value, 6)
    if availability is not None:
        product = (availability * performance * quality
                   if performance is not None and quality is not None else 0.0)
        out["oee"] = round(product, 6)
    return out


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
