"""Plant-declared signals end to end, and the plant-format examples of docs/simulator.md
run as written: the plant file block, the worked machine type, the second plant."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.encode import Encoder
from simulator.lines import LineEncoder
from simulator.model import Intervals, PlantModel
from simulator.plant import DATA_DIR, load_plant, load_yaml_text, parse_plant
from telemetry.points import to_line

from .helpers_sim import MONDAY_0800_LOCAL_MS

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "simulator.md").read_text()
ACME = ROOT / "docs" / "examples" / "acme-lyon.yaml"


def _yaml_block(after: str) -> object:
    block = re.search(re.escape(after) + r".*?```yaml\n(.*?)```", DOC, flags=re.S)
    assert block is not None, after
    return load_yaml_text(block.group(1), "docs/simulator.md")


def test_the_plant_file_example_parses_as_written() -> None:
    plant = parse_plant(_yaml_block("## Plant file format"), "doc", DATA_DIR)
    (area,) = plant.areas
    (line,) = area.lines
    assert (plant.timezone, area.name_zh, line.flow, line.output) == (
        "Asia/Shanghai", "五金车间", "parallel", ("laser-06",))
    assert plant.machine("laser-03").buffer == 5 and plant.machine("marker-01").buffer is None
    assert plant.business.products[0].price == 8999


def test_the_worked_machine_type_runs_and_publishes_its_signals() -> None:
    types = _yaml_block("### Adding a machine type")
    raw = {"enterprise": "acme", "site": "lyon", "timezone": "Europe/Paris", "types": types,
           "areas": [{"id": "turning", "lines": [{"id": "t1", "machines": [
               {"id": "lathe", "type": "cnc_lathe", "count": 2}]}]}]}
    plant = parse_plant(raw, "doc")
    coolant = plant.types["cnc_lathe"].signals[1]
    assert (coolant.unit, coolant.label, coolant.label_zh) == (
        "degC", "Coolant temperature", "冷却液温度")
    model = PlantModel(plant, 1, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(5.0))
    enc = Encoder(model)
    tele = []
    for _ in range(120):
        frame = model.step()
        tele += [p for k, _, p in enc.messages(frame) if k == "telemetry"]
        model.after_emit(frame)
    assert all({"spindle_rpm", "coolant_temp_c"} <= set(p) for p in tele)
    # Thermal: at the running level 31 (the machines start running), 1 % sensor noise.
    assert 24 < tele[-1]["coolant_temp_c"] < 31 * 1.04


def test_custom_signals_on_the_wire_and_in_line_protocol() -> None:
    plant = load_plant(ACME)
    model = PlantModel(plant, 3, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(5.0))
    enc, lines = Encoder(model), LineEncoder()
    seen = set()
    for _ in range(24):
        frame = model.step()
        for kind, topic, payload in enc.messages(frame):
            if kind == "telemetry":
                seen |= set(payload) & {"barrel_temp_c", "clamp_force_kn", "fill_level_ml"}
                line = lines.line(kind, topic, payload)
                assert line == to_line(topic, payload)
                for key in ("barrel_temp_c", "clamp_force_kn", "fill_level_ml"):
                    if key in payload:
                        assert f"{key}={float(payload[key])!r}" in line  # a float field
        model.after_emit(frame)
    assert seen == {"barrel_temp_c", "clamp_force_kn", "fill_level_ml"}


def test_second_plant_runs_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--plant", str(ACME), "--seed", "2", "--duration", "2m",
                 "--speed", "max", "--sink", "stdout", "--log-level", "WARNING"]) == 0
    msgs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert all(m["topic"].startswith("acme/lyon/") for m in msgs)
    imm = [m["payload"] for m in msgs if m["topic"].endswith("/imm-01/telemetry")]
    assert imm and all(200 < p["barrel_temp_c"] < 300 for p in imm)
    meta = [m["payload"] for m in msgs if m["topic"].endswith("/imm-01/meta")]
    assert meta[0]["type_name_zh"] == "注塑机"


def test_alarm_and_work_order_carry_chinese_names() -> None:
    plant = load_plant()
    model = PlantModel(plant, 1, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(5.0))
    enc = Encoder(model)
    model.command("fault", "laser-01", code="LSR-CHILLER", duration_s=600)
    out = []
    for _ in range(130):
        frame = model.step()
        out += [(k, p) for k, _, p in enc.messages(frame) if k in ("alarm", "workorder")]
        model.after_emit(frame)
    alarms = [p for k, p in out if k == "alarm"]
    assert alarms[0]["message_zh"] == "冷水机冷却液流量低"
    assert alarms[-1]["message_zh"] == "已清除：冷水机冷却液流量低" and not alarms[-1]["active"]
    started = [p for k, p in out if k == "workorder" and p["status"] == "in_progress"]
    crew = {p.name: p.name_zh for p in plant.technicians}
    assert started and crew[started[0]["technician"]] == started[0]["technician_zh"]
    for k, p in out:
        to_line(f"hearth/shengzhou/hardware/cutting/laser-01/{k}", p)
