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
    assert fault[0]["start_ms"] - start == 120_000  # the tick at 2 min
    assert fault[0]["end_ms"] - fault[0]["start_ms"] == 600_000
    assert [c["action"] for c in data["commands"]] == ["fault", "wear"]
    alarms = [m["payload"] for m in out if m["topic"].endswith("/laser-03/alarm")]
    assert [a["active"] for a in alarms] == [True, False]
    assert alarms[0]["ts"] == fault[0]["start_ms"]
    wos = [m["payload"]["status"] for m in out if m["topic"].endswith("/laser-03/workorder")]
    assert wos[0] == "open" and wos[-1] == "done" and "in_progress" in wos


def test_paced_run_skips_instead_of_bursting(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stalled sink makes the paced runner skip ahead; counts still cover every second."""
    import time
    from typing import Any

    import simulator.runner
    from simulator.encode import Encoder
    from simulator.model import Intervals, PlantModel
    from simulator.runner import Runner

    from .helpers_sim import MONDAY_0800_LOCAL_MS, tiny_plant

    class StallingSink:
        wants_messages = True

        def __init__(self) -> None:
            self.counts: list[dict[str, Any]] = []
            self.telemetry_ts: list[int] = []
            self.stalled = False

        def send(self, kind: str, topic: str, raw: bytes) -> None:
            payload = json.loads(raw)
            if kind == "counts" and topic.endswith("p-01/counts"):
                self.counts.append(payload)
            if kind == "telemetry" and topic.endswith("p-01/telemetry"):
                self.telemetry_ts.append(payload["ts"])
                if len(self.telemetry_ts) == 4 and not self.stalled:
                    self.stalled = True
                    stall_s[0] = 1.0  # the host stalls for 20 ticks' worth of wall time

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    # The runner's wall clock, one second ahead of the real one once the sink "stalled".
    stall_s = [0.0]
    clock = type("Clock", (), {"monotonic": staticmethod(lambda: time.monotonic()
                                                         + stall_s[0])})
    monkeypatch.setattr(simulator.runner, "time", clock)
    model = PlantModel(tiny_plant(machines=1), 1, MONDAY_0800_LOCAL_MS,
                       Intervals.from_seconds(5, 10, 60))
    sink = StallingSink()
    stats = Runner(model, Encoder(model), sink, speed=100.0, duration_ticks=60).run()
    assert stats.skipped_ticks > 5
    gaps = [b - a for a, b in zip(sink.telemetry_ts, sink.telemetry_ts[1:], strict=False)]
    assert max(gaps) > 5 * 5000  # telemetry jumped over the stall, no burst of stale data
    assert len(sink.telemetry_ts) < 61
    # The counts after the gap carry the whole gap: sums stay right.
    assert sum(p["planned_s"] for p in sink.counts) == pytest.approx(
        (model.now_ms - model.start_ms) / 1000)


def test_stopping_early_reports_the_partial_interval() -> None:
    import io
    import threading

    from simulator.encode import Encoder
    from simulator.model import Intervals, PlantModel
    from simulator.runner import Runner
    from simulator.sinks import StdoutSink

    from .helpers_sim import MONDAY_0800_LOCAL_MS, tiny_plant

    model = PlantModel(tiny_plant(machines=1), 1, MONDAY_0800_LOCAL_MS,
                       Intervals.from_seconds(5, 60, 60))
    stop = threading.Event()

    class StopAfter(StdoutSink):
        def send(self, kind: str, topic: str, payload: bytes) -> None:
            super().send(kind, topic, payload)
            if kind == "telemetry" and json.loads(payload)["ts"] >= MONDAY_0800_LOCAL_MS + 95_000:
                stop.set()

    out = io.StringIO()
    Runner(model, Encoder(model), StopAfter(out), stop=stop).run()
    counts = [json.loads(x)["payload"] for x in out.getvalue().splitlines()
              if json.loads(x)["topic"].endswith("/counts")]
    assert [c["ts"] - MONDAY_0800_LOCAL_MS for c in counts] == [60_000, 95_000]
    assert sum(c["planned_s"] for c in counts) == 95.0


@pytest.mark.parametrize("code", ["BAD\\CODE", "repair", "two\nlines", "", "x" * 33, 7])
def test_ad_hoc_fault_codes_that_cannot_be_a_tag_are_refused(code: object) -> None:
    from simulator.control import check_fault_code, parse_fault_payload

    with pytest.raises(ValueError, match="A-Z a-z 0-9"):
        check_fault_code(code)
    with pytest.raises(ValueError):
        parse_fault_payload(json.dumps({"machine": "laser-03", "code": code}).encode())
