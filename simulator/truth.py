"""The simulator's ground truth for a window: what the written data must reproduce."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.model import PlantModel
from telemetry.contract import MachineState


def ground_truth(model: PlantModel) -> dict[str, Any]:
    """Truth for (start_ms, end_ms] of everything the model has stepped.

    `counts` messages are stamped at the end of the interval they cover, so the data
    reproduces these figures with ``time > start_ms AND time <= end_ms``.
    """
    names = [s.name for s in MachineState]
    producing = model.producing
    return {
        "window": {"start_ms": model.start_ms, "end_ms": model.now_ms},
        "oee": model.oee_truth(),
        "downtime_s": downtime_by_reason(model),
        "state_seconds": {
            mid: {names[k]: round(float(v), 3) for k, v in enumerate(row) if v > 0}
            for mid, row in zip(model.ids, model.state_seconds.tolist(), strict=True)},
        "counts": {"good": int(model.truth_good[producing].sum()),
                   "scrap": int(model.truth_scrap[producing].sum())},
        "good_by_machine": {mid: int(g) for mid, g, p in zip(
            model.ids, model.truth_good.tolist(), producing.tolist(), strict=True) if p},
        "sales": model.sales.truth(),
        "energy_kwh": {a: round(float(v), 3)
                       for a, v in zip(model.area_ids, model.truth_kwh, strict=True)},
        "faults": [e.as_dict() for e in model.episodes],
    }


def downtime_by_reason(model: PlantModel) -> dict[str, float]:
    """Planned downtime seconds by reason of the machines that send `counts`, largest first.

    What the `downtime` messages sum to by `reason`; in total Σplanned_s - Σrun_s.
    """
    per_key = model.truth_down_s[model.producing].sum(axis=0)
    out: dict[str, float] = {}
    for key in np.flatnonzero(per_key).tolist():
        reason = model.down_reason(key)
        out[reason] = out.get(reason, 0.0) + float(per_key[key])
    return {r: round(v, 3) for r, v in sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))}
