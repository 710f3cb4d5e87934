"""Ids and fault codes are matched in full: a trailing newline is not part of an id.

A ``$`` anchor also matches just before a final newline, so ``"LSR-X\\n"`` used to pass
every check and produced dead letters downstream (#12). ``\\Z`` / ``fullmatch`` do not.
"""

from __future__ import annotations

import json

import pytest

from collector.mapping import Mapper, Rejected
from simulator.control import check_fault_code
from telemetry.contract import ContractError
from telemetry.topics import ID_PATTERN, check_id, machine_topic

HOSTILE = ["laser-01\n", "laser-01\r\n", "laser-01\n\n", "\nlaser-01", "laser 01",
           "laser-01\x00", "a" * 65]


@pytest.mark.parametrize("value", HOSTILE)
def test_topic_ids_are_matched_in_full(value: str) -> None:
    with pytest.raises(ContractError, match="invalid"):
        check_id("machine", value)
    assert ID_PATTERN.match(value) is None  # callers that use .match are safe too


def test_valid_ids_still_pass() -> None:
    for value in ("laser-01", "a", "A.b_c-9", "x" * 64):
        assert check_id("machine", value) == value


@pytest.mark.parametrize("code", ["LSR-X\n", "LSR-X\r\n", "LSR X", "LSR-X\t"])
def test_fault_codes_are_matched_in_full(code: str) -> None:
    with pytest.raises(ValueError, match="use 1-32"):
        check_fault_code(code, "--code")
    assert check_fault_code("LSR-X") == "LSR-X"


def test_the_collector_rejects_a_topic_level_with_a_trailing_newline() -> None:
    payload = json.dumps({"ts": 1_800_000_000_000, "temp_c": 21.5}).encode()
    good = machine_topic("hearth", "shengzhou", "hardware", "cutting", "laser-01",
                         "telemetry")
    assert not isinstance(Mapper().map(good, payload, 0), Rejected)
    bad = machine_topic("hearth", "shengzhou", "hardware", "cutting", "LSR-X\n", "telemetry")
    result = Mapper().map(bad, payload, 0)
    assert isinstance(result, Rejected) and result.reason == "bad_topic_level"


def test_a_plant_fault_code_with_a_trailing_newline_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    import yaml

    from simulator.plant import DEFAULT_PLANT, PlantError, load_plant

    d = Path(str(tmp_path))
    types = yaml.safe_load((DEFAULT_PLANT.parent / "types.yaml").read_text())
    first = next(iter(types.values()))
    first["faults"][0]["code"] = first["faults"][0]["code"] + "\n"
    (d / "types.yaml").write_text(yaml.safe_dump(types, allow_unicode=True))
    (d / "plant.yaml").write_text(DEFAULT_PLANT.read_text())
    with pytest.raises(PlantError, match="code"):
        load_plant(d / "plant.yaml")


@pytest.mark.parametrize("name", ["../../../../../../etc/passwd", "/etc/passwd",
                                  "sub/../../types.yaml"])
def test_a_plant_file_reads_no_file_outside_its_folder(tmp_path: object, name: str) -> None:
    """`types: ../../../../etc/passwd` was followed and its first line echoed in the
    error; now it is refused by name before anything is read."""
    from pathlib import Path

    from simulator.plant import PlantError, load_plant

    second = Path(__file__).resolve().parents[2] / "data" / "acme-lyon.yaml"
    plant = Path(str(tmp_path)) / "plant.yaml"
    plant.write_text(second.read_text().replace("types: types.yaml", f"types: {name}"))
    with pytest.raises(PlantError, match="leaves the plant file's folder") as err:
        load_plant(plant)
    assert "root:" not in str(err.value)
    plant.write_text(second.read_text())  # a types file inside the folders still loads
    assert load_plant(plant).enterprise == "acme"
