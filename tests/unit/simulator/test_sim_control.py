from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.control import fault_payload, parse_duration_s, parse_fault_payload, parse_scenario
from simulator.plant import PlantError, load_plant


def test_durations() -> None:
    assert parse_duration_s("90") == 90
    assert parse_duration_s("10m") == 600
    assert parse_duration_s("2h") == 7200
    assert parse_duration_s("1.5d") == 129600
    for bad in ("ten", "-1m", "5 parsecs", ""):
        with pytest.raises(ValueError):
            parse_duration_s(bad)


def test_fault_payload_round_trip_and_rejects() -> None:
    cmd = parse_fault_payload(fault_payload(1, "laser-03", "LSR-CHILLER", 5))
    assert (cmd.action, cmd.machine, cmd.params["code"], cmd.params["duration_s"]) == \
        ("fault", "laser-03", "LSR-CHILLER", 300.0)
    for bad in (b"nope", b"[]", b'{"machine": 3}', b'{"machine": "m", "duration_min": -1}',
                b'{"machine": "m", "code": 5}'):
        with pytest.raises(ValueError):
            parse_fault_payload(bad)


def test_scenario_errors_name_the_path() -> None:
    plant = load_plant()
    with pytest.raises(PlantError, match=r"s.yaml: events\[1\].machine: unknown machine"):
        parse_scenario({"events": [{"at": "1m", "machine": "laser-01"},
                                   {"at": "2m", "machine": "nope"}]}, "s.yaml", plant)
    with pytest.raises(PlantError, match=r"events\[0\].at"):
        parse_scenario({"events": [{"at": "soon", "machine": "laser-01"}]}, "s.yaml", plant)
    with pytest.raises(PlantError, match=r"events\[0\].action"):
        parse_scenario({"events": [{"at": 5, "machine": "laser-01", "action": "explode"}]},
                       "s.yaml", plant)


def test_scenario_run_writes_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scen = tmp_path / "demo.yaml"
    scen.write_text("name: chiller\nevents:\n"
                    "  - {at: 2m, machine: laser-03, action: fault, code: LSR-CHILLER,"
                    " duration: 10m}\n"
                    "  - {at: 3m, machine: press-02, action: wear, value: 1.5}\n")
    labels = tmp_path / "labels.json"
    assert main(["run", "--seed", "4", "--duration", "20m", "--speed", "max", "--sink",
                 "stdout", "--scenario", str(scen), "--labels-out", str(labels),
                 "--log-level", "WARNING"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    data = json.loads(labels.read_text())
    start = data["start_ms"]
    fault = [f for f in data["faults"] if f["source"] == "scenario"]
    assert len(fault) == 1 and fault[0]["machine"] == "laser-03"
    assert fault[0]["code"] == "LSR-CHILLER"
    assert fault[0]["start_ms"] - start == 125_000  # first tick after 2 min (5 s ticks)
    assert fault[0]["end_ms"] - fault[0]["start_ms"] == 600_000
    assert [c["action"] for c in data["commands"]] == ["fault", "wear"]
    alarms = [m["payload"] for m in out if m["topic"].endswith("/laser-03/alarm")]
    assert [a["active"] for a in alarms] == [True, False]
    assert alarms[0]["ts"] == fault[0]["start_ms"]
    wos = [m["payload"]["status"] for m in out if m["topic"].endswith("/laser-03/workorder")]
    assert wos[0] == "open" and wos[-1] == "done" and "in_progress" in wos
