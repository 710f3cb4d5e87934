"""The simulator's ground truth for a window: what the written data must reproduce."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.model import PlantModel
from simulator.oee import oee_from_sums
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
        "oee": oee_truth(model),
        "output": output_truth(model),
        "downtime_s": downtime_by_reason(model),
        "state_seconds": {
            mid: {names[k]: round(float(v), 3) for k, v in enumerate(row) if v > 0}
            for mid, row in zip(model.ids, model.state_seconds.tolist(), strict=True)},
        "counts": {"good": int(model.truth_good[producing].sum()),
                   "scrap": int(model.truth_scrap[producing].sum())},
        "good_by_machine": {mid: int(g) for mid, g, p in zip(
            model.ids, model.truth_good.tolist(), producing.tolist(), strict=True) if p},
        "sales": model.sales.truth(),
        "sales_channels": model.sales.channel_truth(),
        "finished_goods": model.sales.stock_truth(),
        "energy_kwh": {a: round(float(v), 3)
                       for a, v in zip(model.area_ids, model.truth_kwh, strict=True)},
        "faults": [e.as_dict() for e in model.episodes],
        "sensor_faults": model.sensors.labels(model.now_ms),
    }


def _sums(model: PlantModel, idx: list[int] | np.ndarray) -> dict[str, float]:
    ix = np.asarray(idx, np.int64)
    return oee_from_sums(float(model.truth_run_s[ix].sum()),
                         float(model.truth_planned_s[ix].sum()),
                         float(model.truth_ideal_s[ix].sum()),
                         int(model.truth_good[ix].sum()), int(model.truth_scrap[ix].sum()))


def oee_truth(model: PlantModel) -> dict[str, Any]:
    """OEE of the plant, every line ("area/line") and every machine that makes parts,
    from the sums over their producing machines. Undefined ratios are left out."""
    prod = np.flatnonzero(model.producing)
    lines: dict[str, list[int]] = {}
    for i in prod:
        m = model.machines[i]
        lines.setdefault(f"{m.area}/{m.line}", []).append(int(i))
    return {"plant": _sums(model, prod), "lines": {k: _sums(model, v) for k, v in lines.items()},
            "machines": {model.ids[i]: _sums(model, [int(i)]) for i in prod}}


def output_truth(model: PlantModel) -> dict[str, Any]:
    """Good and scrap parts of every line's output machines ("area/line"), and the plant's:
    the sum over the lines whose output is finished goods."""
    plant = model.plant
    lines = {}
    for area, line in plant.lines:
        if line.output:
            ix = [model.index[m] for m in line.output]
            lines[f"{area.id}/{line.id}"] = {"good": int(model.truth_good[ix].sum()),
                                             "scrap": int(model.truth_scrap[ix].sum())}
    finished = [model.index[m.id] for m in plant.output_machines]
    return {"plant": {"good": int(model.truth_good[finished].sum()),
                      "scrap": int(model.truth_scrap[finished].sum())},
            "lines": lines}


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
