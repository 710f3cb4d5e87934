"""The hardware workshop floor plan: Canvas elements generated from the plant YAML.

Reads the plant file directly (``areas[].lines[].machines[]`` with ``id``, ``count``,
``pos: [x, y]`` in metres and ``pos_step``), expanding counted machines the way the
simulator names them (``laser`` x 6 -> ``laser-01`` .. ``laser-06``), so dashboards/
needs no simulator import. Each machine becomes a coloured box whose text and colour
follow its latest ``state_code`` through the panel's value mappings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telemetry.contract import HARDWARE_AREA
from telemetry.endpoints import load_yaml

#: The default plant, next to the simulator code that owns it.
DEFAULT_PLANT = Path(__file__).resolve().parent.parent / "simulator" / "data" / "plant.yaml"

BOX_W_PX = 78
MIN_BOX_W_PX = 40
GAP_PX = 4
BOX_H_PX = 34
LABEL_H_PX = 16
MARGIN_PX = 12


@dataclass(frozen=True)
class PlacedMachine:
    machine: str
    line: str
    x_m: float
    y_m: float


def _num_pair(raw: Any, where: str) -> tuple[float, float]:
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)):
        raise ValueError(f"{where}: must be [x, y] numbers, got {raw!r}")
    return float(raw[0]), float(raw[1])


def placed_machines(plant: dict[str, Any], area: str = HARDWARE_AREA) -> list[PlacedMachine]:
    """Machines of `area` that carry a floor-plan position, in file order."""
    out: list[PlacedMachine] = []
    for a in plant.get("areas") or []:
        if not isinstance(a, dict) or a.get("id") != area:
            continue
        for line in a.get("lines") or []:
            for m in line.get("machines") or []:
                if m.get("pos") is None:
                    continue
                where = f"areas[{area}].lines[{line.get('id')}].machines[{m.get('id')}]"
                x, y = _num_pair(m["pos"], f"{where}.pos")
                if "count" not in m:
                    out.append(PlacedMachine(str(m["id"]), str(line["id"]), x, y))
                    continue
                dx, dy = _num_pair(m.get("pos_step", [1, 0]), f"{where}.pos_step")
                for i in range(int(m["count"])):
                    out.append(PlacedMachine(f"{m['id']}-{i + 1:02d}", str(line["id"]),
                                             x + dx * i, y + dy * i))
    return out


def load_placed_machines(path: str | Path | None = None,
                         area: str = HARDWARE_AREA) -> list[PlacedMachine]:
    return placed_machines(load_yaml(path or DEFAULT_PLANT), area)


def canvas_elements(machines: list[PlacedMachine], width_px: int,
                    height_px: int) -> list[dict[str, Any]]:
    """Canvas element JSON: a state box and a name label per machine, scaled to fit."""
    if not machines:
        return []
    xs = [m.x_m for m in machines]
    ys = [m.y_m for m in machines]
    span_x = max(max(xs) - min(xs), 1.0)
    span_y = max(max(ys) - min(ys), 1.0)
    scale = min((width_px - 2 * MARGIN_PX - BOX_W_PX) / span_x,
                (height_px - 2 * MARGIN_PX - BOX_H_PX - LABEL_H_PX) / span_y)
    # Narrower boxes where machines stand closer than a box width (e.g. press brakes).
    gaps = [abs(a.x_m - b.x_m) * scale for a in machines for b in machines
            if a is not b and a.y_m == b.y_m and a.x_m != b.x_m]
    box_w = int(min([BOX_W_PX, *[g - GAP_PX for g in gaps]]))
    if box_w < MIN_BOX_W_PX:
        raise ValueError(f"floor plan: machines stand too close to draw in {width_px} px "
                         f"({box_w} px per box)")
    elements: list[dict[str, Any]] = []
    for m in machines:
        left = round(MARGIN_PX + (m.x_m - min(xs)) * scale)
        top = round(MARGIN_PX + LABEL_H_PX + (m.y_m - min(ys)) * scale)
        elements.append({
            "type": "metric-value",
            "name": m.machine,
            "config": {
                "text": {"mode": "field", "field": m.machine, "fixed": ""},
                "color": {"fixed": "#ffffff"},
                "size": 12,
                "align": "center",
                "valign": "middle",
            },
            "background": {"color": {"field": m.machine, "fixed": "#5a5a5a"}},
            "border": {"color": {"fixed": "#111217"}, "width": 1},
            "placement": {"left": left, "top": top, "width": box_w, "height": BOX_H_PX},
            "constraint": {"horizontal": "left", "vertical": "top"},
        })
        elements.append({
            "type": "rectangle",
            "name": f"{m.machine} label",
            "config": {
                "text": {"mode": "fixed", "fixed": m.machine},
                "color": {"fixed": "#d8d9da"},
                "size": 10,
                "align": "center",
                "valign": "middle",
            },
            "background": {"color": {"fixed": "transparent"}},
            "border": {"color": {"fixed": "transparent"}, "width": 0},
            "placement": {"left": left, "top": top - LABEL_H_PX, "width": box_w,
                          "height": LABEL_H_PX},
            "constraint": {"horizontal": "left", "vertical": "top"},
        })
    return elements
