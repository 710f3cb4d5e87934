"""The plant-format keys (issue 10): names in two languages, time zone, lines, business,
plant-declared signals, checked on the demo plant and on a second plant (acme/lyon)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from simulator.cli import main
from simulator.plant import (
    DEFAULT_BUFFER,
    DEFAULT_TECHNICIANS,
    PlantError,
    load_plant,
    parse_plant,
    scale_plant,
)

from .helpers_sim import tiny_plant_raw

ACME = Path(__file__).resolve().parents[3] / "docs" / "examples" / "acme-lyon.yaml"


def test_second_plant_parses_with_its_own_identity_zone_and_signals() -> None:
    plant = load_plant(ACME)
    assert (plant.enterprise, plant.site, plant.name_zh) == ("acme", "lyon", "里昂工厂")
    assert {a.id for a in plant.areas} == {"moulding", "bottling", "utilities"}
    assert plant.timezone == "Europe/Paris" and plant.utc_offset_h == 1.0
    winter = dt.datetime(2026, 1, 15, 12, tzinfo=plant.tzinfo).utcoffset()
    summer = dt.datetime(2026, 7, 15, 12, tzinfo=plant.tzinfo).utcoffset()
    assert (winter, summer) == (dt.timedelta(hours=1), dt.timedelta(hours=2))
    imm = plant.types["injection_moulder"]
    assert imm.name_zh == "注塑机"
    barrel, clamp = imm.signals
    assert (barrel.name, barrel.model, barrel.unit, barrel.label, barrel.label_zh) == (
        "barrel_temp_c", "thermal", "degC", "Barrel temperature", "料筒温度")
    assert barrel.by_state[2] == 245 and barrel.tau_s == 1200
    assert (clamp.unit, clamp.label, clamp.label_zh, clamp.noise) == (
        "kN", "clamp_force_kn", "clamp_force_kn", 0.02)
    assert plant.types["filler"].signals[0].unit == "ml"
    chiller = plant.types["chiller"].signals[0]  # a built-in signal keeps its unit
    assert (chiller.unit, chiller.label) == ("bar", "Pressure")
    assert plant.types["filler"].name_zh == "Bottle filler"  # default: name
    fault = imm.faults[0]
    assert (fault.message, fault.message_zh) == ("Barrel heater zone failed", "料筒加热区故障")
    assert [p.name for p in plant.technicians] == ["Claire Martin", "Karim Haddad"]
    assert plant.technicians[0].name_zh == "Claire Martin"
    b = plant.business
    assert (b.currency, b.daily_output_target, b.stock_days) == ("EUR", 40000, 5)
    assert [(r.name, r.share, r.map, r.export) for r in b.regions] == [
        ("France", 0.7, None, False), ("Benelux", 0.2, None, False),
        ("Export", 0.1, None, True)]
    assert plant.sales_orders_per_h is None  # orders follow production
    assert [p.made_by for p in b.products] == [("bottling",), ("bottling",)]


def test_second_plant_lines_flow_buffers_and_outputs() -> None:
    plant = load_plant(ACME)
    lines = {ln.id: ln for _, ln in plant.lines}
    cells, b1, b2, cooling = (lines[k] for k in ("preforms", "bottling-1", "bottling-2",
                                                  "cooling"))
    assert cells.flow == "parallel" and cells.output == tuple(f"imm-{i:02d}"
                                                              for i in range(1, 7))
    assert (b1.flow, b1.buffer, b1.daily_target, b1.output) == ("serial", 200, 20000,
                                                                ("palletiser-1",))
    assert b1.buffer_after(plant.machine("filler-1")) == 400
    assert b1.buffer_after(plant.machine("capper-1")) == 200
    assert (b2.name, b2.name_zh, b2.flow, b2.buffer) == ("bottling-2", "bottling-2",
                                                         "serial", DEFAULT_BUFFER)
    assert b2.output == ("palletiser-2",) and b2.daily_target is None
    assert cooling.output == ()  # no producing machine
    assert [m.id for m in plant.output_machines] == [
        *cells.output, "palletiser-1", "palletiser-2"]
    assert plant.areas[1].name_zh == "Bottling"


def test_validate_accepts_the_second_plant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ACME)]) == 0
    assert "OK" in capsys.readouterr().out


def test_demo_plant_defaults_and_names() -> None:
    plant = load_plant()
    assert plant.timezone == "Asia/Shanghai" and plant.utc_offset_h == 8.0
    assert all(a.name_zh != a.name for a in plant.areas)
    assert all(ln.name_zh != ln.name for _, ln in plant.lines)
    assert all(t.name_zh != t.name for t in plant.types.values())
    assert all(f.message_zh != f.message for t in plant.types.values() for f in t.faults)
    assert plant.technicians == DEFAULT_TECHNICIANS
    lines = {ln.id: ln for _, ln in plant.lines}
    assert lines["cutting"].flow == "parallel" and len(lines["cutting"].output) == 6
    assert lines["stove-1"].flow == "serial" and lines["stove-1"].output == ("s1-pack",)
    assert lines["powder-1"].output == ("booth-1-02",)
    targets = sum(ln.daily_target or 0 for ln in lines.values() if ln.finished)
    assert {m.line for m in plant.output_machines} == {"stove-1", "stove-2", "hood-1",
                                                       "hood-2"}
    assert not lines["cutting"].finished and not lines["powder-1"].finished
    assert plant.business.daily_output_target == targets
    b = plant.business
    overseas = sum(r.share for r in b.regions if r.export) / sum(r.share for r in b.regions)
    assert overseas < 0.1 and b.regions[0].name == "East China"


def test_defaults_when_the_new_keys_are_absent() -> None:
    raw = tiny_plant_raw()
    del raw["areas"][0]["lines"][0]["flow"]
    plant = parse_plant(raw, "t.yaml")
    assert plant.timezone == "Etc/GMT-8" and plant.utc_offset_h == 8
    assert dt.datetime(2026, 7, 1, tzinfo=plant.tzinfo).utcoffset() == dt.timedelta(hours=8)
    assert plant.name_zh == plant.name == "sz"
    assert plant.business.currency == "CNY" and plant.business.sales_orders_per_h is None
    assert plant.business.stock_days == 3.0
    assert plant.business.regions[0].name == "East China"
    (ln,) = [ln for _, ln in plant.lines]
    assert (ln.name, ln.flow, ln.buffer, ln.output) == ("l1", "serial", DEFAULT_BUFFER,
                                                       ("p-02",))
    (par,) = [ln for _, ln in parse_plant(tiny_plant_raw(flow="parallel"), "t").lines]
    assert par.output == ("p-01", "p-02")


@pytest.mark.parametrize(("offset", "zone", "hours"), [
    (0, "UTC", 0), (-5, "Etc/GMT+5", -5), (5.5, "UTC+05:30", 5.5), (-3.5, "UTC-03:30", -3.5)])
def test_utc_offset_gives_a_fixed_zone(offset: float, zone: str, hours: float) -> None:
    raw = tiny_plant_raw()
    raw["utc_offset_h"] = offset
    plant = parse_plant(raw, "t.yaml")
    assert plant.timezone == zone and plant.utc_offset_h == hours
    off = dt.datetime(2026, 7, 1, tzinfo=plant.tzinfo).utcoffset()
    assert off == dt.timedelta(hours=hours)


def test_scale_keeps_line_keys_and_grows_targets() -> None:
    plant = load_plant(ACME)
    big = scale_plant(plant, 3)
    lines = {ln.id: ln for _, ln in big.lines}
    assert lines["bottling-1-s3"].output == ("palletiser-1-s3",)
    assert lines["bottling-1-s3"].buffer == 200 and lines["bottling-1-s3"].flow == "serial"
    assert big.machine("filler-1-s2").buffer == 400
    assert big.business.daily_output_target == 3 * 40000
    assert big.timezone == "Europe/Paris" and big.technicians == plant.technicians


def _set(*keys: Any) -> Any:
    """A mutation that sets raw[k1][k2]...[kn-1] = kn."""
    *path, last, value = keys

    def mutate(raw: dict[str, Any]) -> None:
        node: Any = raw
        for k in path:
            node = node[k]
        node[last] = value
    return mutate


_LINE = ("areas", 0, "lines", 0)


@pytest.mark.parametrize(("mutate", "path", "words"), [
    (lambda r: (r.pop("utc_offset_h"), r.update(timezone="Mars/Olympus")), "timezone",
     "unknown time zone"),
    (lambda r: (r.pop("utc_offset_h"), r.update(timezone="../etc/passwd")), "timezone",
     "unknown time zone"),
    (_set("timezone", "Europe/Paris"), "timezone", "not both"),
    (_set("name_zh", ""), "name_zh", "non-empty"),
    (_set("technicians", [{"nom": "x"}]), "technicians[0].nom", "unknown key"),
    (_set("technicians", []), "technicians", "empty"),
    (_set("business", {"currency": "euro"}), "business.currency", "ISO 4217"),
    (_set("business", {"daily_output_target": 0}), "business.daily_output_target", "> 0"),
    (lambda r: r.update(sales_orders_per_h=5, business={"sales_orders_per_h": 5}),
     "sales_orders_per_h", "not both"),
    (_set("business", {"regions": [{"name": "A", "share": 0}]}), "business.regions[0].share",
     "> 0"),
    (_set("business", {"regions": [{"name": "A", "share": 1}, {"name": "A", "share": 1}]}),
     "business.regions[1].name", "duplicate"),
    (_set("business", {"regions": [{"name": "A", "share": 1, "map": "East!"}]}),
     "business.regions[0].map", "map region id"),
    (_set("business", {"channels": [{"name": "c", "share": 1, "map": "east"}]}),
     "business.channels[0].map", "unknown key"),
    (_set("business", {"channels": [{"name": "c", "share": 1}]}), "business.channels",
     "no export channel"),
    (_set("business", {"regions": [{"name": "A", "share": 1, "export": "yes"}]}),
     "business.regions[0].export", "true or false"),
    (_set(*_LINE, "flow", "zigzag"), "areas[0].lines[0].flow", "serial, parallel"),
    (_set(*_LINE, "buffer", 0), "areas[0].lines[0].buffer", "integer 1-"),
    (_set(*_LINE, "buffer", 2.5), "areas[0].lines[0].buffer", "integer"),
    (_set(*_LINE, "daily_target", 0), "areas[0].lines[0].daily_target", "> 0"),
    (_set(*_LINE, "output", ["p-09"]), "areas[0].lines[0].output[0]", "not a machine"),
    (_set(*_LINE, "output", []), "areas[0].lines[0].output", "empty"),
    (_set(*_LINE, "output", ["p-01", "p-01"]), "areas[0].lines[0].output", "twice"),
    (_set(*_LINE, "machines", 0, "buffer", "big"), "areas[0].lines[0].machines[0].buffer",
     "integer"),
    (_set("areas", 0, "name_zh", 3), "areas[0].name_zh", "non-empty string"),
    (_set("types", "press", "name_zh", ""), "types.press.name_zh", "non-empty"),
    (_set("types", "press", "faults", 0, "message_zh", "\n"), "types.press.faults[0].message_zh",
     "non-empty"),
    (_set("types", "press", "signals", "fill_level_ml", {"run": 1}),
     "types.press.signals.fill_level_ml.unit", "is required"),
    (_set("types", "press", "signals", "temp_c", {"run": 1, "unit": "C"}),
     "types.press.signals.temp_c", "not a signal name"),
    (_set("types", "press", "signals", "time", {"run": 1, "unit": "s"}),
     "types.press.signals.time", "not a signal name"),
    (_set("types", "press", "signals", "x", {"run": 1, "unit": "s", "model": "wave"}),
     "types.press.signals.x.model", "level, thermal, charge"),
])
def test_new_keys_fail_with_one_line_naming_the_key(mutate, path: str, words: str) -> None:  # type: ignore[no-untyped-def]
    raw = tiny_plant_raw()
    mutate(raw)
    with pytest.raises(PlantError) as exc:
        parse_plant(raw, "f.yaml")
    msg = str(exc.value)
    assert msg.startswith(f"f.yaml: {path}: ") and words in msg and "\n" not in msg, msg


def test_output_must_make_parts() -> None:
    raw = tiny_plant_raw()
    raw["types"]["belt"] = {"power_kw": {"run": 1}}
    raw["areas"][0]["lines"][0]["machines"].append({"id": "belt", "type": "belt"})
    raw["areas"][0]["lines"][0]["output"] = ["belt"]
    with pytest.raises(PlantError, match=r"output\[0\]: 'belt' is a machine that makes no"):
        parse_plant(raw, "f.yaml")
