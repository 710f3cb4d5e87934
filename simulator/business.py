"""Business streams: sales orders by region and channel.

Orders arrive as a Poisson process whose rate follows the hour of day (a daytime dealer
peak and an evening live-stream peak). Each order gets a unique millisecond timestamp
inside its tick, so no two orders of one (region, channel) series ever share a `ts`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from telemetry.contract import SALES_REGIONS

if TYPE_CHECKING:
    from simulator.plant import Plant

#: Share of orders per region (East China is the home market), same order as SALES_REGIONS.
REGION_WEIGHTS = np.array([0.34, 0.17, 0.12, 0.11, 0.09, 0.05, 0.04, 0.08])
DOMESTIC_CHANNELS = ("dealer", "online", "live-stream")
#: (product, list price CNY)
PRODUCTS = (
    ("Integrated stove X7", 8999.0),
    ("Integrated stove S5", 6499.0),
    ("Steam-oven integrated stove Z9", 12999.0),
    ("Range hood H3", 2599.0),
    ("Gas hob G2", 1899.0),
)
PRODUCT_WEIGHTS = np.array([0.3, 0.25, 0.1, 0.25, 0.1])
#: Relative order rate by local hour (mean 1.0).
HOURLY = np.array([0.25, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.4, 1.6, 1.5,
                   1.2, 1.3, 1.5, 1.4, 1.3, 1.2, 1.2, 1.6, 2.2, 2.3, 1.7, 0.8])
HOURLY = HOURLY / HOURLY.mean()
_REGION_CUM = np.cumsum(REGION_WEIGHTS)[:-1] / REGION_WEIGHTS.sum()
_PRODUCT_CUM = np.cumsum(PRODUCT_WEIGHTS)[:-1] / PRODUCT_WEIGHTS.sum()
_CH_CUM_DAY = np.cumsum([0.55, 0.33, 0.12])[:-1]
_CH_CUM_EVENING = np.cumsum([0.35, 0.3, 0.35])[:-1]


def region_names(plant: Plant) -> tuple[str, ...]:
    """The ``region`` tag values this plant's sales orders carry (what a spike may name)."""
    del plant  # the contract's list, until SalesModel draws regions from the plant file
    return tuple(SALES_REGIONS)


@dataclass(frozen=True)
class SalesOrder:
    ts_ms: int
    order_id: str
    region: str
    channel: str
    product: str
    units: int
    amount_cny: float


class SalesModel:
    def __init__(self, plant: Plant, rng: np.random.Generator) -> None:
        self.rate_per_s = plant.sales_orders_per_h / 3600.0
        self.rng = rng
        self.seq = 0
        self._day: tuple[int, str] = (-1, "")
        self.region_amount = np.zeros(len(SALES_REGIONS))
        #: Demo spikes (simulator.effects): order-rate factor, and a region that takes the
        #: extra orders.
        self.rate_factor = 1.0
        self.region_cum = _REGION_CUM

    def spike(self, region: str | None, factor: float) -> None:
        """Orders x ``factor``, the extra ones all in ``region``; ``spike(None, 1)`` ends it."""
        weights = REGION_WEIGHTS / REGION_WEIGHTS.sum()
        if region is not None and factor > 1:
            weights = weights / factor
            weights[SALES_REGIONS.index(region)] += 1 - 1 / factor
        self.rate_factor = factor if region is not None else 1.0
        self.region_cum = np.cumsum(weights)[:-1] / weights.sum()

    def orders(self, prev_ts: int, ts: int, offset_s: int) -> list[SalesOrder]:
        """Orders placed in (prev_ts, ts]; ``offset_s``: local time minus UTC at prev_ts."""
        span_ms = ts - prev_ts
        local = prev_ts / 1000 + offset_s
        hour = int(local // 3600 % 24)
        lam = self.rate_per_s * self.rate_factor * HOURLY[hour] * span_ms / 1000
        rng = self.rng
        n = min(int(rng.poisson(lam)), span_ms)
        if n == 0:
            return []
        r = rng.random((7, n))
        # One order per equal slot of the tick: distinct, increasing ms offsets in 1..span.
        offsets = ((np.arange(n) + r[6]) * (span_ms / n)).astype(np.int64) + 1
        regions = np.searchsorted(self.region_cum, r[0], side="right")
        evening = 19 <= hour <= 23
        channels = np.searchsorted(_CH_CUM_EVENING if evening else _CH_CUM_DAY, r[1],
                                   side="right")
        products = np.searchsorted(_PRODUCT_CUM, r[2], side="right")
        u = r[3]
        dealer_units = 2 + (r[4] * 11).astype(np.int64)  # 2-12 units
        export_units = 10 + (r[4] * 51).astype(np.int64)  # 10-60 units
        discount = 0.82 + 0.18 * r[5]
        day_key = int(local // 86400)
        if day_key != self._day[0]:
            self._day = (day_key, dt.datetime.fromtimestamp(local, dt.UTC).strftime("%Y%m%d"))
        day = self._day[1]
        out = []
        for j in range(n):
            region = int(regions[j])
            if SALES_REGIONS[region] == "Overseas":
                channel, units = "cross-border", int(export_units[j])
            else:
                channel = DOMESTIC_CHANNELS[int(channels[j])]
                units = int(dealer_units[j]) if channel == "dealer" else 1 + int(u[j] < 0.1)
            name, price = PRODUCTS[int(products[j])]
            amount = round(units * price * float(discount[j]), 2)
            self.seq += 1
            self.region_amount[region] += amount
            out.append(SalesOrder(prev_ts + int(offsets[j]), f"SO-{day}-{self.seq:06d}",
                                  SALES_REGIONS[region], channel, name, units, amount))
        return out

    def truth(self) -> dict[str, float]:
        return {r: round(float(a), 2) for r, a in zip(SALES_REGIONS, self.region_amount,
                                                      strict=True)}
