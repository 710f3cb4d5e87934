"""Finished-goods stock: what the plant makes feeds what it sells.

Each product of the business block is made by finished lines (``made_by:``; default
every finished line). A line's good output units (its ``output`` machines) go to the
products it makes, split by their ``share``. Per product:

- ``rate``: the units made per second, a moving average over ``TAU_S`` (a week), seeded
  from the lines' capacity (bottleneck ideal cycle x worked share of the week x
  ``NOMINAL_OEE``);
- ``stock``: units made minus units ordered; it starts at the target,
  ``stock_days`` x a day of ``rate``;
- the demand (units per second) is ``rate`` x clip(stock / target, 0, ``MAX_PULL``):
  orders follow what is made, slow down as the stock runs low (none once it is gone;
  an order larger than the stock is back-ordered, the stock going negative) and pick
  up when it piles up. Over days the units sold follow the units made, within the
  stock band.

Everything is arrays over the products and the output machines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulator.plant_layout import served_lines

if TYPE_CHECKING:
    from simulator.plant import Calendar, Line, Plant

#: Averaging time of the made rate: a week, so weekends and shifts average out.
TAU_S = 7 * 86400.0
#: The share of capacity the seed estimate assumes a line makes.
NOMINAL_OEE = 0.65
#: Demand at most this many times the made rate (a large stock sells faster).
MAX_PULL = 3.0


def worked_share(cal: Calendar) -> float:
    """Share of a week a calendar is on shift (breaks out, holidays ignored)."""
    def minutes(windows: tuple[tuple[int, int], ...]) -> int:
        return sum((e - s) % 1440 or 1440 for s, e in windows)
    return len(cal.days) / 7 * max(minutes(cal.shifts) - minutes(cal.breaks), 0) / 1440


def line_capacity(plant: Plant, line: Line) -> float:
    """Finished units per second a line makes at full speed on shift: its bottleneck
    (serial) or the sum of its output machines (parallel)."""
    ideal = [plant.types[m.type].ideal_cycle_s for m in line.machines
             if plant.types[m.type].producing]
    if not ideal:
        return 0.0
    if line.flow == "serial":
        return 1.0 / max(ideal)
    return sum(1.0 / plant.types[m.type].ideal_cycle_s for m in line.machines
               if m.id in line.output)


def product_lines(plant: Plant) -> list[list[Line]]:
    """Per product, the finished lines that make it (validated by the plant parser)."""
    finished = [ln for _, ln in plant.lines if ln.finished and ln.output]
    return [[ln for r in p.made_by for ln in served_lines(plant.areas, r)]
            if p.made_by else finished for p in plant.business.products]


class FinishedStock:
    """Per-product stock and made rate of a plant (``index``: machine id -> position)."""

    def __init__(self, plant: Plant, index: dict[str, int], stock_days: float) -> None:
        products = plant.business.products
        makers = product_lines(plant)
        line_ids = list(dict.fromkeys(id(ln) for lines in makers for ln in lines))
        line_of = {id(ln): ln for lines in makers for ln in lines}
        share = np.zeros((len(line_ids), len(products)))
        for p, lines in enumerate(makers):
            for ln in lines:
                share[line_ids.index(id(ln)), p] = products[p].share
        share /= np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
        area_of = {id(ln): a for a, ln in plant.lines}
        out_idx: list[int] = []
        out_line: list[int] = []
        seed = np.zeros(len(line_ids))
        for k, lid in enumerate(line_ids):
            ln = line_of[lid]
            cal = plant.calendars[area_of[lid].calendar]
            seed[k] = line_capacity(plant, ln) * worked_share(cal) * NOMINAL_OEE
            for mid in ln.output:
                out_idx.append(index[mid])
                out_line.append(k)
        self.out_idx = np.array(out_idx, np.int64)
        #: (output machine, product): the share of its units that are that product.
        self.split = share[np.array(out_line, np.int64)] if out_line else np.zeros(
            (0, len(products)))
        self.rate = seed @ share  # units / s per product
        self.target_days = stock_days
        self.stock = self.target
        self.start_stock = self.stock.copy()
        self.made = np.zeros(len(products))
        self.sold = np.zeros(len(products))

    @property
    def target(self) -> np.ndarray:
        return self.target_days * 86400.0 * self.rate

    def produce(self, good: np.ndarray, dt: float) -> None:
        """Add this tick's good output units (``good``: per machine) to the stock."""
        made = good[self.out_idx] @ self.split
        self.stock += made
        self.made += made
        self.rate += (made / dt - self.rate) * (dt / TAU_S)

    def demand(self) -> np.ndarray:
        """Units per second each product sells at now."""
        pull = np.clip(self.stock / np.maximum(self.target, 1e-9), 0.0, MAX_PULL)
        out: np.ndarray = self.rate * pull
        return out

    def take(self, products: np.ndarray, units: np.ndarray) -> None:
        """Orders draw their units from the stock (back-ordered below zero)."""
        drawn = np.bincount(products, units, minlength=len(self.stock))
        self.stock -= drawn
        self.sold += drawn

    def truth(self, names: list[str]) -> dict[str, dict[str, float]]:
        """Per product: units made, sold, stock at the start and now."""
        return {n: {"made": round(float(self.made[k]), 3),
                    "sold": round(float(self.sold[k]), 3),
                    "stock_start": round(float(self.start_stock[k]), 3),
                    "stock": round(float(self.stock[k]), 3)}
                for k, n in enumerate(names)}
