from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulator.cli import main
from simulator.plant import PlantError, load_plant, parse_plant
from telemetry.contract import DEFAULT_ENTERPRISE, DEFAULT_SITE, HARDWARE_AREA

from .helpers_sim import tiny_plant_raw

HARDWARE_TYPES = {"laser_cutter", "turret_punch", "press_brake", "stamping_press",
                  "welding_cell"}


def test_default_plant_matches_the_contract_identity() -> None:
    plant = load_plant()
    assert (plant.enterprise, plant.site) == (DEFAULT_ENTERPRISE, DEFAULT_SITE)
    assert 100 <= len(plant.machines) <= 150
    areas = {a.id for a in plant.areas}
    assert {HARDWARE_AREA, "coating", "assembly", "logistics", "utilities"} <= areas
    hardware = [m for m in plant.machines if m.area == HARDWARE_AREA]
    assert {m.type for m in hardware} == HARDWARE_TYPES
    assert all(m.pos is not None for m in hardware)
    assert len({m.pos for m in hardware}) == len(hardware)  # no two on one spot
    assert sum(m.type == "abb_robot_cell" for m in plant.machines) >= 40
    assert len({m.id for m in plant.machines}) == len(plant.machines)


def test_scale_repeats_lines_with_unique_ids() -> None:
    plant = load_plant(scale=3)
    assert len(plant.machines) == 3 * len(load_plant().machines)
    assert len({m.id for m in plant.machines}) == len(plant.machines)
    assert any(m.line.endswith("-s3") for m in plant.machines)


def _write(tmp_path: Path, raw: object) -> Path:
    p = tmp_path / "plant.yaml"
    p.write_text(yaml.safe_dump(raw))
    return p


def test_unknown_type_names_file_and_path(tmp_path: Path) -> None:
    raw = yaml.safe_load((Path(load_plant().source)).read_text())
    raw["types"] = str(Path(load_plant().source).parent / "types.yaml")
    raw["areas"][1]["lines"][0]["machines"][3]["type"] = "warp_drive"
    p = _write(tmp_path, raw)
    with pytest.raises(PlantError) as exc:
        load_plant(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}: areas[1].lines[0].machines[3].type: ")
    assert "warp_drive" in msg and "\n" not in msg


@pytest.mark.parametrize(("mutate", "path", "words"), [
    (lambda r: r.pop("site"), "site", "required"),
    (lambda r: r.__setitem__("site", "bad/site"), "site", "invalid"),
    (lambda r: r.__setitem__("colour", 1), "colour", "unknown key"),
    (lambda r: r["areas"][0]["lines"][0]["machines"].append({"id": "p-01", "type": "press"}),
     "areas[0].lines[0].machines[1].id", "duplicate"),
    (lambda r: r["calendars"]["main"].__setitem__("shifts", ["25:00-26:00"]),
     "calendars.main.shifts[0]", "valid"),
    (lambda r: r["areas"][0].__setitem__("calendar", "nope"), "areas[0].calendar", "unknown"),
    (lambda r: r["types"]["press"].__setitem__("mtbf_h", -1), "types.press.mtbf_h", "> 0"),
    (lambda r: r["types"]["press"]["power_kw"].pop("run"), "types.press.power_kw.run",
     "required"),
    (lambda r: r["types"]["press"]["signals"].__setitem__("warp", {"run": 1}),
     "types.press.signals.warp.unit", "is required"),
    (lambda r: r["types"]["press"]["signals"].__setitem__("Warp", {"run": 1, "unit": "x"}),
     "types.press.signals.Warp", "not a signal name"),
    (lambda r: r["areas"][0]["lines"][0]["machines"][0].__setitem__("count", 0),
     "areas[0].lines[0].machines[0].count", "1-999"),
    (lambda r: r["areas"][0]["lines"][0]["machines"][0].__setitem__("pos", [1]),
     "areas[0].lines[0].machines[0].pos", "[x, y]"),
    (lambda r: r.__setitem__("areas", []), "areas", "empty"),
])
def test_validation_errors_name_the_path(mutate, path: str, words: str) -> None:  # type: ignore[no-untyped-def]
    raw = tiny_plant_raw()
    mutate(raw)
    with pytest.raises(PlantError) as exc:
        parse_plant(raw, "f.yaml")
    assert str(exc.value).startswith(f"f.yaml: {path}: "), str(exc.value)
    assert words in str(exc.value)


def test_yaml_off_key_is_a_state_not_false() -> None:
    plant = parse_plant(tiny_plant_raw(), "f.yaml")
    assert plant.types["press"].power_kw[0] == 0.5  # off


def test_validate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, tiny_plant_raw())
    assert main(["validate", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("areas: [\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"factory-sim: {bad}:") and "YAML" in err and "\n" not in err
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_shipped_data_validates() -> None:
    assert main(["validate", str(Path(load_plant().source))]) == 0
