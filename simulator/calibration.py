"""Where a plant's time goes: OEE per line and plant and the losses behind it, from the
model alone (no messages), for calibrating the loss numbers of a plant/types file.

Used by ``benchmarks/calibrate_losses.py`` (prints it) and by the test that keeps the
demo plant in its calibrated band. A coarse tick (30-60 s) is fine: micro-stops,
repairs and queues lose the same time at any tick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from simulator.downtime import REASONS
from simulator.model import Intervals, PlantModel
from simulator.plant import Plant
from simulator.truth import downtime_by_reason, oee_truth

#: Downtime reasons that are part of a breakdown (besides the fault codes themselves:
#: the wait for a technician).
BREAKDOWN_REASONS = ("repair", "waiting-parts")
#: Knock-on stops: a machine waiting on its neighbours (or supply), not stopped itself.
KNOCK_ON_REASONS = ("starved", "blocked")


def run_model(plant: Plant, *, days: float, seed: int, start_ms: int, step_s: float,
              progress: Callable[[int], None] | None = None) -> PlantModel:
    """Step a model ``days`` simulated days at a ``step_s`` tick (``progress(ticks)``)."""
    model = PlantModel(plant, seed, start_ms, Intervals.from_seconds(step_s))
    ticks = round(days * 86400 / step_s)
    per_day = max(1, round(86400 / step_s))
    for k in range(ticks):
        model.after_emit(model.step())
        if progress is not None and (k + 1) % per_day == 0:
            progress(per_day)
    if progress is not None and ticks % per_day:
        progress(ticks % per_day)
    return model


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole > 0 else 0.0


def loss_report(model: PlantModel) -> dict[str, Any]:
    """OEE of the plant and every line, and the loss shares of planned time.

    ``losses``: shares of the producing machines' planned time lost to availability
    (by downtime reason, the fault codes summed as ``breakdown (waiting)``; the machines'
    own stops are all but the knock-on ones, starved and blocked),
    performance (micro-stops and slow cycles) and quality (scrap at its ideal time).
    """
    prod = model.producing
    oee = oee_truth(model)
    planned = float(model.truth_planned_s[prod].sum())
    run = float(model.truth_run_s[prod].sum())
    ideal = float(model.truth_ideal_s[prod].sum())
    scrap_s = float((model.truth_scrap * model.ideal_s)[prod].sum())
    codes = {c[0] for c in model.fault_codes} - set(REASONS)
    down: dict[str, float] = {}
    for reason, secs in downtime_by_reason(model).items():
        key = "breakdown (waiting)" if reason in codes else reason
        down[key] = down.get(key, 0.0) + secs
    breakdown = sum(v for k, v in down.items()
                    if k == "breakdown (waiting)" or k in BREAKDOWN_REASONS)
    down_total = sum(down.values())
    own_total = down_total - sum(down.get(k, 0.0) for k in KNOCK_ON_REASONS)
    micro_s = float(model.micro.truth_s[prod].sum())
    closed = [e for e in model.episodes if e.end_ms is not None]
    dur_h = np.array([(e.end_ms - e.start_ms) / 3.6e6 for e in closed if e.end_ms])
    lines = {k: v.get("oee") for k, v in oee["lines"].items() if "oee" in v}
    values = [v for v in lines.values() if v is not None]
    return {
        "days": round((model.now_ms - model.start_ms) / 86.4e6, 3),
        "plant": oee["plant"],
        "lines": oee["lines"],
        "line_oee_spread": round(max(values) - min(values), 4) if values else None,
        "losses": {
            "availability": _share(planned - run, planned),
            "performance": _share(run - ideal, planned),
            "micro_stops": _share(micro_s, planned),
            "quality": _share(scrap_s, planned),
        },
        "downtime_share": {k: _share(v, down_total)
                           for k, v in sorted(down.items(), key=lambda kv: -kv[1])},
        "breakdown_share_of_downtime": _share(breakdown, down_total),
        "knock_on_share_of_downtime": _share(down_total - own_total, down_total),
        "breakdown_share_of_own_downtime": _share(breakdown, own_total),
        "faults": {
            "count": len(model.episodes),
            "queued_for_technician": model.crew.truth_queued,
            "duration_h": ({q: round(float(np.percentile(dur_h, p)), 2) for q, p in
                            (("median", 50), ("p90", 90), ("p99", 99), ("max", 100))}
                           | {"mean": round(float(dur_h.mean()), 2)}) if dur_h.size else {},
        },
        "micro_stops": int(model.micro.truth[prod].sum()),
    }
