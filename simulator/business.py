"""Business streams: sales orders by region and channel, from the plant's business block.

Orders arrive as a Poisson process whose rate follows what the plant makes (the
finished-goods stock of :mod:`simulator.stock`: units ordered per second = the stock's
demand, so sales follow production and slow down when the stock runs low) and the
local hour of day (a daytime peak and an evening peak); the product of an order is
drawn in proportion to each product's demand. Regions and channels are drawn so that,
in expectation, each region's share of REVENUE is its ``share`` and each channel's
share of its kind's revenue (export or domestic) is its ``share``: a region is drawn
with probability proportional to share / mean order amount. Export regions buy
through export channels, domestic ones through the others. Each order gets a unique
millisecond timestamp inside its tick, so no two orders of one (region, channel) series
ever share a `ts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simulator.plant import Plant
    from simulator.plant_business import Business

from simulator.stock import FinishedStock

#: Relative order rate by local hour (mean 1.0).
HOURLY = np.array([0.25, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.4, 1.6, 1.5,
                   1.2, 1.3, 1.5, 1.4, 1.3, 1.2, 1.2, 1.6, 2.2, 2.3, 1.7, 0.8])
HOURLY = HOURLY / HOURLY.mean()
#: Orders are sold at 82-100 % of list price (uniform): mean 0.91.
DISCOUNT_LO, DISCOUNT_SPAN = 0.82, 0.18


def region_names(plant: Plant) -> tuple[str, ...]:
    """The ``region`` tag values this plant's sales orders carry (what a spike may name)."""
    return tuple(r.name for r in plant.business.regions)


@dataclass(frozen=True)
class SalesOrder:
    ts_ms: int
    order_id: str
    region: str
    channel: str
    product: str
    units: int
    amount_cny: float  # in the plant's currency (business.currency); the name is historical


class SalesMix:
    """Cumulative draw tables of a business block (pure arithmetic, no randomness)."""

    def __init__(self, business: Business) -> None:
        self.regions = [r.name for r in business.regions]
        self.channels = [c.name for c in business.channels]
        self.products = [(p.name, p.price) for p in business.products]
        p_share = np.array([p.share for p in business.products])
        p_share = p_share / p_share.sum()
        mean_price = float(p_share @ np.array([p.price for p in business.products]))
        self.units = np.array([c.units for c in business.channels], np.int64)
        mean_units = self.units.mean(axis=1)
        mean_amount = mean_units * mean_price * (DISCOUNT_LO + DISCOUNT_SPAN / 2)
        export_r = np.array([r.export for r in business.regions])
        export_c = np.array([c.export for c in business.channels])
        c_share = np.array([c.share for c in business.channels])
        #: Per kind (0 domestic, 1 export): the channels' cumulative draw and mean amount.
        self.channel_idx: list[np.ndarray] = []
        self.channel_cum: list[np.ndarray] = []
        kind_amount = np.zeros(2)
        for kind in (False, True):
            idx = np.flatnonzero(export_c == kind)
            if idx.size == 0:
                self.channel_idx.append(idx)
                self.channel_cum.append(np.zeros(0))
                continue
            w = c_share[idx] / mean_amount[idx]  # orders so that revenue follows share
            w = w / w.sum()
            self.channel_idx.append(idx)
            self.channel_cum.append(np.cumsum(w)[:-1])
            kind_amount[int(kind)] = float(w @ mean_amount[idx])
        self.region_export = export_r.astype(np.int64)
        r_share = np.array([r.share for r in business.regions])
        w = r_share / kind_amount[self.region_export]
        self.region_cum = np.cumsum(w / w.sum())[:-1]
        #: Mean units per order (channels' mean units, weighted as they are drawn).
        region_p = np.diff(np.concatenate([[0.0], self.region_cum, [1.0]]))
        self.mean_units = 0.0
        for k in (0, 1):
            cum, idx = self.channel_cum[k], self.channel_idx[k]
            if idx.size:
                chan_p = np.diff(np.concatenate([[0.0], cum, [1.0]]))
                self.mean_units += float(region_p[self.region_export == k].sum()
                                         * (chan_p @ mean_units[idx]))


class SalesModel:
    def __init__(self, plant: Plant, rng: np.random.Generator) -> None:
        self.rng = rng
        self.seq = 0
        self._day: tuple[int, str] = (-1, "")
        self.mix = SalesMix(plant.business)
        index = {m.id: i for i, m in enumerate(plant.machines)}
        self.stock = FinishedStock(plant, index, plant.business.stock_days)
        self.region_amount = np.zeros(len(self.mix.regions))
        self.channel_amount = np.zeros(len(self.mix.channels))
        #: Demo spikes (simulator.effects): order-rate factor, and a region that takes the
        #: extra orders.
        self.rate_factor = 1.0
        self.region_cum = self.mix.region_cum

    def spike(self, region: str | None, factor: float) -> None:
        """Orders x ``factor``, the extra ones all in ``region``; ``spike(None, 1)`` ends it."""
        weights = np.diff(np.concatenate([[0.0], self.mix.region_cum, [1.0]]))
        if region is not None and factor > 1:
            weights = weights / factor
            weights[self.mix.regions.index(region)] += 1 - 1 / factor
        self.rate_factor = factor if region is not None else 1.0
        self.region_cum = np.cumsum(weights / weights.sum())[:-1]

    def orders(self, prev_ts: int, ts: int, offset_s: int) -> list[SalesOrder]:
        """Orders placed in (prev_ts, ts]; ``offset_s``: local time minus UTC at prev_ts."""
        span_ms = ts - prev_ts
        local = prev_ts / 1000 + offset_s
        hour = int(local // 3600 % 24)
        demand = self.stock.demand()
        units_per_s = float(demand.sum())
        lam = (units_per_s / max(self.mix.mean_units, 1e-9) * self.rate_factor
               * HOURLY[hour] * span_ms / 1000)
        rng = self.rng
        n = min(int(rng.poisson(lam)), span_ms)
        if n == 0:
            return []
        product_cum = np.cumsum(demand / units_per_s)[:-1]
        mix = self.mix
        r = rng.random((6, n))
        # One order per equal slot of the tick: distinct, increasing ms offsets in 1..span.
        offsets = ((np.arange(n) + r[5]) * (span_ms / n)).astype(np.int64) + 1
        regions = np.searchsorted(self.region_cum, r[0], side="right")
        kinds = mix.region_export[regions]
        channels = np.empty(n, np.int64)
        for kind in (0, 1):
            sel = kinds == kind
            if sel.any():
                pick = np.searchsorted(mix.channel_cum[kind], r[1][sel], side="right")
                channels[sel] = mix.channel_idx[kind][pick]
        products = np.minimum(np.searchsorted(product_cum, r[2], side="right"),
                              len(demand) - 1)
        lo, hi = mix.units[channels, 0], mix.units[channels, 1]
        units = lo + np.minimum((r[3] * (hi - lo + 1)).astype(np.int64), hi - lo)
        discount = DISCOUNT_LO + DISCOUNT_SPAN * r[4]
        day_key = int(local // 86400)
        if day_key != self._day[0]:
            self._day = (day_key, np.datetime64(day_key, "D").astype(str).replace("-", ""))
        day = self._day[1]
        self.stock.take(products, units)
        out = []
        for j in range(n):
            region, channel = int(regions[j]), int(channels[j])
            name, price = mix.products[int(products[j])]
            amount = round(int(units[j]) * price * float(discount[j]), 2)
            self.seq += 1
            self.region_amount[region] += amount
            self.channel_amount[channel] += amount
            out.append(SalesOrder(prev_ts + int(offsets[j]), f"SO-{day}-{self.seq:06d}",
                                  mix.regions[region], mix.channels[channel], name,
                                  int(units[j]), amount))
        return out

    def truth(self) -> dict[str, float]:
        """Revenue by region (every region of the plant, zeros included)."""
        return {r: round(float(a), 2) for r, a in zip(self.mix.regions, self.region_amount,
                                                      strict=True)}

    def produced(self, good: np.ndarray, dt: float) -> None:
        """This tick's good units per machine: the finished output goes to the stock."""
        self.stock.produce(good, dt)

    def stock_truth(self) -> dict[str, dict[str, float]]:
        """Finished goods per product: units made, sold (ordered), stock."""
        return self.stock.truth([name for name, _ in self.mix.products])

    def channel_truth(self) -> dict[str, float]:
        return {c: round(float(a), 2) for c, a in zip(self.mix.channels, self.channel_amount,
                                                      strict=True)}
