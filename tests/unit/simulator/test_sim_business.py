"""Sales follow the plant file's business block: revenue shares by region and channel,
export regions buying through export channels, the plant's products and prices."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from simulator.business import SalesModel
from simulator.plant import load_plant

ACME = Path(__file__).resolve().parents[3] / "docs" / "examples" / "acme-lyon.yaml"
HOUR_MS = 3_600_000


def _orders(plant_path: Path | None, n: int = 100_000):  # type: ignore[no-untyped-def]
    """About n orders placed 10:00-11:00 local (a high hour)."""
    plant = load_plant(plant_path)
    model = SalesModel(plant, np.random.default_rng(4))
    model.stock.stock[:] = 1e15  # a stock that never runs low: a steady order rate
    orders_per_s = model.stock.demand().sum() / model.mix.mean_units
    model.rate_factor = n / 3600 / 1.6 / orders_per_s  # HOURLY at 10:00 is about 1.6x
    start = 1_767_571_200_000 + 10 * HOUR_MS  # 10:00 UTC, offset 0
    return plant, model, model.orders(start, start + HOUR_MS, 0)


@pytest.mark.parametrize("plant_path", [None, ACME])
def test_revenue_shares_follow_the_plant_file(plant_path: Path | None) -> None:
    plant, model, orders = _orders(plant_path)
    b = plant.business
    revenue: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    for o in orders:
        revenue[o.region] += o.amount_cny
        by_channel[o.channel] += o.amount_cny
    total = sum(revenue.values())
    want = {r.name: r.share / sum(x.share for x in b.regions) for r in b.regions}
    for region, share in want.items():
        assert revenue[region] / total == pytest.approx(share, abs=0.01), region
    export_rev = sum(v for k, v in revenue.items() if k in {r.name for r in b.regions
                                                             if r.export})
    for kind in (False, True):
        chans = [c for c in b.channels if c.export == kind]
        kind_total = sum(by_channel[c.name] for c in chans)
        for c in chans:
            assert by_channel[c.name] / kind_total == pytest.approx(
                c.share / sum(x.share for x in chans), abs=0.015), c.name
    # Export regions buy through export channels only, and only they do.
    export_channels = {c.name for c in b.channels if c.export}
    export_regions = {r.name for r in b.regions if r.export}
    assert all((o.channel in export_channels) == (o.region in export_regions) for o in orders)
    assert sum(by_channel[c] for c in export_channels) == pytest.approx(export_rev)
    assert model.truth() == pytest.approx(dict(revenue), abs=0.5)
    # Products and units from the plant file.
    names = {p.name for p in b.products}
    assert {o.product for o in orders} == names
    units = {c.name: c.units for c in b.channels}
    assert all(units[o.channel][0] <= o.units <= units[o.channel][1] for o in orders)


def test_demo_is_domestic_dominant_by_revenue() -> None:
    _, model, _ = _orders(None, 30_000)
    truth = model.truth()
    assert truth["Overseas"] / sum(truth.values()) < 0.08
    assert max(truth, key=lambda k: truth[k]) == "East China"


def test_second_plant_sells_its_own_products() -> None:
    plant = load_plant(ACME)
    assert plant.business.currency == "EUR"
    assert [p.name for p in plant.business.products] == ["Still water 50 cl",
                                                         "Sparkling water 1 l"]
