"""The home screen's floor plan: the whole plant as Canvas elements, generated from the plant.

A zone per area (its name on top), a row per line (its name on the left) and a box per
machine in line order. Positions from the plant file (``pos: [x, y]``) order the lines
(by y) and the machines in a line (by x); machines without a position keep file order.
Zones are packed into columns, choosing the packing with the largest boxes, so any number
of machines fits the panel. Each box's colour follows its machine's latest state through
the panel's value mappings; a machine with no fresh state has no field, so the box shows
its fixed grey and "Offline".
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

from simulator.plant import Area, Line, Machine

MARGIN_PX = 6
ZONE_PAD_PX = 6
ZONE_TITLE_PX = 24
#: Line labels: 13 px type, the column as wide as the longest name (within these bounds).
LABEL_FONT_PX = 13
MIN_LABEL_PX, MAX_LABEL_PX = 64, 200
GAP_PX = 3
MAX_BOX_W_PX = 72
MAX_ROW_H_PX = 40
#: Boxes narrower than this show colour only (no state text).
TEXT_MIN_W_PX = 58
#: Below this a box is too small to see from across the room: the plan refuses to build.
MIN_BOX_PX = 8
LEGEND_H_PX = 22
ZONE_BORDER = "#1f60c4"
TITLE_COLOUR = "#33d6ff"
LABEL_COLOUR = "#c7d0d9"
OFFLINE_GREY = "#5a5a5a"


@dataclass(frozen=True)
class Row:
    label: str
    machines: tuple[Machine, ...]


@dataclass(frozen=True)
class Zone:
    title: str
    rows: tuple[Row, ...]

    @property
    def width_units(self) -> int:
        return max(len(r.machines) for r in self.rows)


def _line_key(line: Line) -> tuple[float, float]:
    placed = [m.pos for m in line.machines if m.pos is not None]
    if not placed:
        return (float("inf"), 0.0)
    return (min(p[1] for p in placed), min(p[0] for p in placed))


def _ordered(line: Line) -> tuple[Machine, ...]:
    if all(m.pos is not None for m in line.machines):
        return tuple(sorted(line.machines, key=lambda m: (m.pos or (0, 0))[0]))
    return line.machines


def zones(areas: tuple[Area, ...], area_name: Any, line_name: Any) -> list[Zone]:
    """One zone per area, lines in position order (file order where none is given)."""
    out = []
    for a in areas:
        lines = sorted(a.lines, key=_line_key)  # stable: file order among unplaced lines
        rows = tuple(Row(line_name(ln), _ordered(ln)) for ln in lines if ln.machines)
        if rows:
            out.append(Zone(area_name(a), rows))
    return out


@dataclass(frozen=True)
class Packing:
    columns: tuple[tuple[Zone, ...], ...]
    box_w: float
    row_h: float
    label_w: float


def text_px(text: str, font_px: int = LABEL_FONT_PX) -> float:
    """Rough width of `text`: a CJK character is a square, a Latin one about 0.58 of it."""
    return sum(font_px if ord(c) >= 0x2E80 else 0.58 * font_px for c in text)


def label_px(zs: list[Zone]) -> float:
    widest = max((text_px(r.label) for z in zs for r in z.rows), default=0.0)
    return min(max(widest + 10, MIN_LABEL_PX), MAX_LABEL_PX)


def _fit(columns: tuple[tuple[Zone, ...], ...], width: int, height: int) -> Packing:
    col_w = (width - 2 * MARGIN_PX - GAP_PX * (len(columns) - 1)) / len(columns)
    label_w = label_px([z for col in columns for z in col])
    box_w = min((col_w - 2 * ZONE_PAD_PX - label_w) / max(z.width_units for z in col)
                for col in columns)
    row_h = min((height - 2 * MARGIN_PX - sum(ZONE_TITLE_PX + 2 * ZONE_PAD_PX + GAP_PX
                                              for _ in col)) / sum(len(z.rows) for z in col)
                for col in columns)
    return Packing(columns, min(box_w, MAX_BOX_W_PX), min(row_h, MAX_ROW_H_PX), label_w)


#: A long line may wrap onto several rows of at most this many machines.
WRAP_WIDTHS = (None, 60, 40, 30, 20, 15, 10)


def wrapped(zs: list[Zone], per_row: int | None) -> list[Zone]:
    """The zones with each line cut into rows of at most `per_row` machines (the line's
    name on its first row)."""
    if per_row is None:
        return zs
    return [Zone(z.title, tuple(
        Row(r.label if i == 0 else "", r.machines[i:i + per_row])
        for r in z.rows for i in range(0, len(r.machines), per_row))) for z in zs]


def pack(zs: list[Zone], width: int, height: int, max_columns: int = 4) -> Packing:
    """Split the zones (in order) into 1..max_columns columns, wrapping long lines if that
    helps; keep the layout with the largest boxes."""
    if not zs:
        raise ValueError("floor plan: the plant has no machines")
    best: Packing | None = None
    for per_row in WRAP_WIDTHS:
        wz = wrapped(zs, per_row)
        for k in range(1, min(max_columns, len(wz)) + 1):
            for cuts in combinations(range(1, len(wz)), k - 1):
                edges = (0, *cuts, len(wz))
                columns = tuple(tuple(wz[edges[i]:edges[i + 1]]) for i in range(k))
                p = _fit(columns, width, height)
                if best is None or (min(p.box_w, p.row_h * 1.6)
                                    > min(best.box_w, best.row_h * 1.6)):
                    best = p
    assert best is not None
    if best.box_w < MIN_BOX_PX or best.row_h < MIN_BOX_PX:
        raise ValueError(f"floor plan: {sum(len(r.machines) for z in zs for r in z.rows)} "
                         f"machines do not fit {width}x{height} px "
                         f"({best.box_w:.0f}x{best.row_h:.0f} px per box)")
    return best


def _text(text: str, left: float, top: float, width: float, height: float, size: int,
          colour: str, align: str = "left") -> dict[str, Any]:
    return {"type": "rectangle", "name": f"label {text} {round(left)},{round(top)}",
            "config": {"text": {"mode": "fixed", "fixed": text}, "color": {"fixed": colour},
                       "size": size, "align": align, "valign": "middle"},
            "background": {"color": {"fixed": "transparent"}},
            "border": {"color": {"fixed": "transparent"}, "width": 0},
            "placement": _place(left, top, width, height)}


def _place(left: float, top: float, width: float, height: float) -> dict[str, int]:
    return {"left": round(left), "top": round(top), "width": max(1, round(width)),
            "height": max(1, round(height))}


def legend_elements(legend: list[tuple[str, str]], width_px: int,
                    top: float) -> list[dict[str, Any]]:
    """A row of colour swatches with their names, right-aligned at `top`."""
    item_w = min(120.0, (width_px - 2 * MARGIN_PX) / max(len(legend), 1))
    left = width_px - MARGIN_PX - item_w * len(legend)
    out: list[dict[str, Any]] = []
    for i, (text, colour) in enumerate(legend):
        x = left + i * item_w
        out.append({"type": "rectangle", "name": f"legend {text}",
                    "config": {"text": {"mode": "fixed", "fixed": ""},
                               "color": {"fixed": ""}, "size": 12, "align": "center",
                               "valign": "middle"},
                    "background": {"color": {"fixed": colour}},
                    "border": {"color": {"fixed": colour}, "width": 0},
                    "placement": _place(x, top + 4, 14, LEGEND_H_PX - 8)})
        out.append(_text(text, x + 18, top, item_w - 20, LEGEND_H_PX, 13, LABEL_COLOUR))
    return out


def canvas_elements(zs: list[Zone], width_px: int, height_px: int, offline: str,
                    legend: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """Canvas element JSON for the zones, scaled to fit `width_px` x `height_px`, with a
    legend row (colour, name) along the bottom when given."""
    if legend:
        height_px -= LEGEND_H_PX
    p = pack(zs, width_px, height_px)
    col_w = (width_px - 2 * MARGIN_PX - GAP_PX * (len(p.columns) - 1)) / len(p.columns)
    box_w, box_h = p.box_w - GAP_PX, p.row_h - GAP_PX
    font = max(9, min(14, int(box_h * 0.45)))
    elements: list[dict[str, Any]] = []
    for ci, col in enumerate(p.columns):
        x0 = MARGIN_PX + ci * (col_w + GAP_PX)
        y = float(MARGIN_PX)
        for z in col:
            zone_h = ZONE_TITLE_PX + 2 * ZONE_PAD_PX + len(z.rows) * p.row_h
            elements.append({
                "type": "rectangle", "name": f"zone {z.title}",
                "config": {"text": {"mode": "fixed", "fixed": ""}, "color": {"fixed": ""},
                           "size": 12, "align": "center", "valign": "middle"},
                "background": {"color": {"fixed": "#0b1a33"}},
                "border": {"color": {"fixed": ZONE_BORDER}, "width": 1},
                "placement": _place(x0, y, col_w, zone_h)})
            elements.append(_text(z.title, x0 + ZONE_PAD_PX, y + 2, col_w - 2 * ZONE_PAD_PX,
                                  ZONE_TITLE_PX, 16, TITLE_COLOUR))
            ry = y + ZONE_TITLE_PX + ZONE_PAD_PX
            for row in z.rows:
                elements.append(_text(row.label, x0 + ZONE_PAD_PX, ry, p.label_w - 4,
                                      box_h, min(font, LABEL_FONT_PX), LABEL_COLOUR))
                for i, m in enumerate(row.machines):
                    left = x0 + ZONE_PAD_PX + p.label_w + i * p.box_w
                    elements.append(_machine_box(m.id, _place(left, ry, box_w, box_h),
                                                 offline if box_w >= TEXT_MIN_W_PX else "",
                                                 font))
                ry += p.row_h
            y += zone_h + GAP_PX
    if legend:
        elements += legend_elements(legend, width_px, height_px)
    return elements


def _machine_box(machine: str, placement: dict[str, int], offline: str,
                 font: int) -> dict[str, Any]:
    """A box coloured by the machine's state; with room, the state's name as its text."""
    text = ({"mode": "field", "field": machine, "fixed": offline} if offline
            else {"mode": "fixed", "fixed": ""})
    return {
        "type": "metric-value" if offline else "rectangle",
        "name": machine,
        "config": {"text": text, "color": {"fixed": "#ffffff"}, "size": font,
                   "align": "center", "valign": "middle"},
        "background": {"color": {"field": machine, "fixed": OFFLINE_GREY}},
        "border": {"color": {"fixed": "#0b1a33"}, "width": 1},
        "placement": placement,
    }
