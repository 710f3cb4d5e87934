"""Business tied to production: a finished-goods stock between the units made and the
units sold; only products a line of the plant makes are sold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulator.model import Intervals, PlantModel
from simulator.plant import PlantError, load_plant, parse_plant
from simulator.stock import product_lines

from .helpers_sim import MONDAY_0800_LOCAL_MS, tiny_plant_raw

ROOT = Path(__file__).resolve().parents[3]


def _two_line_raw(days: list[str] | None = None) -> dict[str, Any]:
    """Two parallel lines of presses (10 s a part) on a day shift; product A from l1,
    B and C from l2 (3:1)."""
    raw = tiny_plant_raw(shifts=["06:00-18:00"])
    if days:
        raw["calendars"]["main"]["days"] = days
    line = raw["areas"][0]["lines"][0]
    raw["areas"][0]["lines"].append({"id": "l2", "flow": "parallel", "machines": [
        {"id": "q", "type": "press", "count": 2}]})
    line["machines"][0]["count"] = 1
    raw["business"] = {"currency": "EUR", "stock_days": 2, "products": [
        {"name": "A", "price": 10, "made_by": ["l1"]},
        {"name": "B", "price": 20, "share": 3, "made_by": ["hardware/l2"]},
        {"name": "C", "price": 30, "share": 1, "made_by": ["l2"]}]}
    return raw


def _run(raw: dict[str, Any], days: float, start: int = MONDAY_0800_LOCAL_MS,
         tick_s: float = 180.0) -> tuple[PlantModel, Counter[str], list[Counter[str]]]:
    model = PlantModel(parse_plant(raw, "two.yaml"), 2, start, Intervals.from_seconds(tick_s))
    sold: Counter[str] = Counter()
    by_day: list[Counter[str]] = []
    per_day = round(86400 / tick_s)
    for k in range(round(days * per_day)):
        if k % per_day == 0:
            by_day.append(Counter())
        frame = model.step()
        for o in frame.sales:
            sold[o.product] += o.units
            by_day[-1][o.product] += o.units
        model.after_emit(frame)
    return model, sold, by_day


def test_units_sold_follow_units_made_through_the_stock() -> None:
    model, sold, _ = _run(_two_line_raw(), 8)
    fg = model.sales.stock_truth()
    made = {p: v["made"] for p, v in fg.items()}
    # Made: l1's output is A, l2's splits 3:1 into B and C.
    out = model.truth_good
    assert made["A"] == pytest.approx(out[model.index["p-01"]])
    assert made["B"] == pytest.approx(0.75 * out[[model.index["q-01"], model.index["q-02"]]]
                                      .sum())
    for p, v in fg.items():
        # Nothing lost: stock = start + made - sold, and sold is what the orders carried.
        assert v["sold"] == sold[p]
        assert v["stock"] == pytest.approx(v["stock_start"] + v["made"] - v["sold"], abs=1e-6)
        # Over eight days the units sold are the units made, within the stock band.
        assert abs(v["sold"] - v["made"]) <= v["stock_start"], (p, v)
        assert 0.8 < v["sold"] / v["made"] < 1.2, (p, v)


def test_sales_slow_down_when_production_stops() -> None:
    """Worked on Monday only: the stock runs down over the week and sales with it."""
    model, _, by_day = _run(_two_line_raw(days=["mon"]), 7)
    totals = [sum(d.values()) for d in by_day]
    assert totals[-1] < 0.35 * totals[1], totals
    fg = model.sales.stock_truth()
    assert all(v["stock"] > -200 for v in fg.values())  # at most a few back-orders


def test_only_products_a_line_makes_are_sold() -> None:
    plant = load_plant()
    lines = product_lines(plant)
    names = [p.name for p in plant.business.products]
    assert "Gas hob G2" not in names
    for product, made_by in zip(plant.business.products, lines, strict=True):
        assert made_by and all(ln.finished and ln.output for ln in made_by), product.name
    stoves = {ln.id for ln in lines[names.index("Integrated stove X7")]}
    assert stoves == {"stove-1", "stove-2"}
    # Two days of the demo plant (coarse ticks): every sold product is one of them, and
    # the range hoods sell roughly what the two hood lines make.
    start = MONDAY_0800_LOCAL_MS - 8 * 3600_000
    model = PlantModel(plant, 1, start, Intervals.from_seconds(120.0))
    sold: Counter[str] = Counter()
    for _ in range(2 * 720):
        frame = model.step()
        sold.update({o.product: o.units for o in frame.sales})
        model.after_emit(frame)
    assert set(sold) <= set(names) and sold["Range hood H3"] > 0
    fg = model.sales.stock_truth()["Range hood H3"]
    hood_out = sum(int(model.truth_good[model.index[m]]) for m in ("h1-pack", "h2-pack"))
    assert fg["made"] == pytest.approx(hood_out)
    assert abs(fg["sold"] - fg["made"]) <= fg["stock_start"]


@pytest.mark.parametrize(("made_by", "words"), [
    (["nowhere"], "no area id, line id"),
    (["cutting"], "makes no finished goods"),
    ("stove-1", "must be a list"),
])
def test_bad_made_by_is_a_one_line_error(made_by: object, words: str) -> None:
    import yaml
    raw = yaml.safe_load((ROOT / "simulator" / "data" / "plant.yaml").read_text())
    raw["business"]["products"][0]["made_by"] = made_by
    with pytest.raises(PlantError) as err:
        parse_plant(raw, "p.yaml", ROOT / "simulator" / "data")
    assert str(err.value).startswith("p.yaml: business.products[0].made_by") and \
        words in str(err.value)


def test_scaled_plant_products_are_made_by_the_copies_too() -> None:
    big = load_plant(scale=2)
    lines = {ln.id for ln in product_lines(big)[0]}
    assert lines == {"stove-1", "stove-2", "stove-1-s2", "stove-2-s2"}
    assert np.isfinite(PlantModel(big, 1, MONDAY_0800_LOCAL_MS).sales.stock.rate).all()
