"""The native demo, end to end and headless, on free ports.

Runs ``python -m stack.demo`` as a user would (real Mosquitto and influxd from the local
stack, a short real backfill, the real-time simulator and the collector as children) and
checks that the overview shows live data, that a second demo refuses to start, and that
``down`` stops exactly what the demo started.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from simulator.plant import load_plant
from stack.services import free_port, port_open, process_start_time
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient, series_rows

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 150.0


def demo_cmd(run_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "stack.demo", *args, "--run-dir", str(run_dir)]


def stack_cmd(run_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "stack", *args, "--run-dir", str(run_dir / "stack")]


def wait_for(cond: Any, what: str, timeout_s: float = DEADLINE_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def read_json(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data


def alive(entry: dict[str, Any]) -> bool:
    return process_start_time(int(entry["pid"])) == entry["start_time"]


def frames(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "overview.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def ports() -> dict[str, int]:
    return {"mqtt": free_port(), "influx": free_port(), "rpc": free_port()}


def port_args(ports: dict[str, int]) -> list[str]:
    return ["--mqtt-port", str(ports["mqtt"]), "--influx-port", str(ports["influx"]),
            "--influx-rpc-port", str(ports["rpc"])]


def test_headless_demo_shows_live_figures_and_runs_once(tmp_path: Path,
                                                        ports: dict[str, int]) -> None:
    # The stack is started beforehand (as `make demo` would find one already running):
    # the demo must use it and leave it running, while stopping its own children.
    up = subprocess.run([*stack_cmd(tmp_path, "up"), "--mqtt-port", str(ports["mqtt"]),
                         "--influx-port", str(ports["influx"]), "--influx-rpc-port",
                         str(ports["rpc"])], capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    out = tmp_path / "demo.out"
    try:
        with out.open("w") as f:
            demo = subprocess.Popen(
                [*demo_cmd(tmp_path, "up"), *port_args(ports), "--backfill-days", "0.05",
                 "--for", "25s", "--refresh-s", "4", "--width", "140"],
                stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            state = wait_for(lambda: (s := read_json(tmp_path / "demo.json")) and
                             {"collector", "simulator", "pdm"} <= set(s.get("children", {})) and s,
                             "the demo to start its children")
            children = state["children"]
            # A second demo in the same run directory says so and starts nothing.
            second = subprocess.run([*demo_cmd(tmp_path, "up"), *port_args(ports), "--once"],
                                    capture_output=True, text=True, timeout=60, cwd=ROOT)
            assert second.returncode == 1
            assert "already running" in second.stdout
            assert f"pid {demo.pid}" in second.stdout
            assert demo.wait(DEADLINE_S) == 0, out.read_text()[-3000:]
        finally:
            if demo.poll() is None:
                demo.send_signal(signal.SIGTERM)
                demo.wait(60)
        text = out.read_text()
        # Exactly what it started is gone; the stack it found is still up.
        assert not any(alive(c) for c in children.values())
        assert port_open(ports["mqtt"]) and port_open(ports["influx"])
        assert "demo stopped: simulator, collector, pdm" in text
        # Predictive maintenance read the backfill back and stopped cleanly on SIGTERM.
        pdm_log = (tmp_path / "logs" / "pdm.log").read_text()
        assert "read back" in pdm_log and "stopped after" in pdm_log, pdm_log
        assert "Traceback" not in pdm_log
        assert "the local stack" not in text.split("demo stopped:")[-1]

        shown = frames(tmp_path)
        assert len(shown) >= 3, text[-3000:]
        last = shown[-1]
        plant = load_plant()
        # Live: data newer than the demo's start reached the overview, and it moved on.
        assert last["latest_data_ms"] is not None and last["live"]
        assert last["latest_data_ms"] >= last["sim_started_ms"]  # not the backfill's
        assert last["latest_data_ms"] > min(f["latest_data_ms"] or 0 for f in shown)
        # Every machine of the plant reports a state; the per-state counts add up.
        assert last["machines_total"] == len(plant.machines)
        assert sum(last["states"].values()) == len(plant.machines)
        assert set(last["floor_states"]) == {
            m.id for a in plant.areas if a.id == "hardware" for ln in a.lines
            for m in ln.machines}
        # (Output, OEE and energy depend on the shift calendar at the time the test runs:
        # they are checked against the database below rather than for being > 0.)
        assert abs(sum(last["sales_share_pct"].values()) - 100) < 1e-6
        for wo in last["work_orders"]:
            assert 0 <= wo["progress_pct"] <= 100
        # The text shows those figures (the last frame printed is the last one recorded).
        shown_last = text.split(" live overview ")[-1]
        output = "—" if last["output_today"] is None else f"{last['output_today']:,}"
        assert f"{output} / " in shown_last
        assert last["machines_running"] is not None  # the states are in (above)
        assert f"{last['machines_running']} / {last['machines_total']} running" in shown_last

        # Independently of the demo and of dashboards/queries.py: the database holds what
        # the overview showed for the same window.
        client = InfluxClient(InfluxEndpoint(url=f"http://127.0.0.1:{ports['influx']}",
                                             db="factory"))
        window = f"time >= {last['range_from_ms']}ms AND time <= {last['now_ms']}ms"
        machines = series_rows(client.query(
            f'SELECT last("state_code") FROM "state" WHERE {window} GROUP BY "machine"')[0])
        assert len(machines) == last["machines_total"]
        sales = series_rows(client.query(
            f'SELECT sum("amount_cny") FROM "sales" WHERE {window} GROUP BY "region"')[0])
        total = sum(r["sum"] for r in sales)
        for r in sales:
            assert abs(r["sum"] / total * 100 - last["sales_share_pct"][r["region"]]) < 0.5
        # Output today: the good units of the plant's output machines since local midnight
        # (the dashboards' definition of output). The DB may hold a few more (points
        # stamped before the frame that arrived after it).
        from dashboards.wall import Wall, load

        outputs = "|".join(m.id for m in Wall.of("en", load()).output_machines)
        today = f"time >= {last['today_from_ms']}ms AND time <= {last['now_ms']}ms"
        good = series_rows(client.query(
            f'SELECT sum("good") FROM "counts" WHERE "machine" =~ /^({outputs})$/ '
            f'AND {today}')[0])
        db_output = int(good[0]["sum"]) if good else 0
        shown_output = last["output_today"] or 0
        assert shown_output <= db_output <= shown_output * 1.05 + 50
        oee = series_rows(client.query(
            f'SELECT sum("run_s"), sum("planned_s"), sum("ideal_s"), sum("good"), '
            f'sum("scrap") FROM "counts" WHERE {window}')[0])
        o = oee[0] if oee else {}
        if o.get("sum_1") and (o["sum_3"] + o["sum_4"]) > 0:
            db_oee = o["sum_2"] / o["sum_1"] * o["sum_3"] / (o["sum_3"] + o["sum_4"]) * 100
            assert last["oee_pct"] is not None and abs(last["oee_pct"] - db_oee) < 1.0
        else:  # nothing planned or produced in the window: no OEE, not 0 %
            assert last["oee_pct"] is None
        client.close()
    finally:
        subprocess.run(stack_cmd(tmp_path, "down"), capture_output=True, timeout=120)


def test_demo_down_stops_exactly_what_the_demo_started(tmp_path: Path,
                                                       ports: dict[str, int]) -> None:
    out = tmp_path / "demo.out"
    with out.open("w") as f:
        demo = subprocess.Popen(
            [*demo_cmd(tmp_path, "up"), *port_args(ports), "--backfill-days", "0",
             "--for", "10m", "--refresh-s", "5"],
            stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        state = wait_for(lambda: (s := read_json(tmp_path / "demo.json")) and
                         {"collector", "simulator", "pdm"} <= set(s.get("children", {})) and s,
                         "the demo to start its children")
        assert state["stack"]["started_by_demo"] is True
        stack_state = read_json(tmp_path / "stack" / "stack.json")
        started = [*state["children"].values(), *stack_state.values()]
        assert all(alive(e) for e in started)
        # A process the demo did not start, on the same machine, must survive `down`.
        bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        try:
            res = subprocess.run(demo_cmd(tmp_path, "down"), capture_output=True, text=True,
                                 timeout=180, cwd=ROOT)
            assert res.returncode == 0, res.stdout + res.stderr
            assert demo.wait(60) == 0
            assert not any(alive(e) for e in started)
            assert not port_open(ports["mqtt"]) and not port_open(ports["influx"])
            assert bystander.poll() is None
        finally:
            bystander.kill()
            bystander.wait()
        assert not (tmp_path / "demo.json").exists()
        again = subprocess.run(demo_cmd(tmp_path, "down"), capture_output=True, text=True,
                               timeout=60, cwd=ROOT)
        assert "no demo running" in again.stdout
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
            demo.wait(90)
        subprocess.run(stack_cmd(tmp_path, "down"), capture_output=True, timeout=120)


def test_demo_down_cleans_up_after_a_killed_demo(tmp_path: Path,
                                                 ports: dict[str, int]) -> None:
    """If the demo itself dies (SIGKILL), `down` still stops its children and stack."""
    demo = subprocess.Popen(
        [*demo_cmd(tmp_path, "up"), *port_args(ports), "--backfill-days", "0",
         "--for", "10m"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        state = wait_for(lambda: (s := read_json(tmp_path / "demo.json")) and
                         {"collector", "simulator", "pdm"} <= set(s.get("children", {})) and s,
                         "the demo to start its children")
        os.kill(demo.pid, signal.SIGKILL)
        demo.wait(30)
        children = list(state["children"].values())
        assert all(alive(c) for c in children)  # orphaned, still running
        res = subprocess.run(demo_cmd(tmp_path, "down"), capture_output=True, text=True,
                             timeout=180, cwd=ROOT)
        assert res.returncode == 0
        assert "stopped collector" in res.stdout and "stopped simulator" in res.stdout
        assert "stopped pdm" in res.stdout
        assert not any(alive(c) for c in children)
        assert not port_open(ports["mqtt"]) and not port_open(ports["influx"])
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(30)
        subprocess.run(stack_cmd(tmp_path, "down"), capture_output=True, timeout=120)


def test_interactive_demo_quits_on_q_and_stops_everything(tmp_path: Path,
                                                          ports: dict[str, int]) -> None:
    """On a terminal the overview is live (rich, full screen); `]` selects the next machine
    and `f` makes it fault on cue (through the director's control API); `q` quits and
    cleans up."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    demo = subprocess.Popen(
        [*demo_cmd(tmp_path, "up"), *port_args(ports), "--backfill-days", "0",
         "--refresh-s", "2"],
        stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color"})
    os.close(slave)
    screen = bytearray()

    def read_some() -> bytes:
        import select

        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return b""
            screen.extend(chunk)
            return chunk
        return b""

    try:
        state = wait_for(lambda: (read_some() or True) and
                         (s := read_json(tmp_path / "demo.json")) and
                         {"collector", "simulator", "pdm"} <= set(s.get("children", {})) and s,
                         "the demo to start its children")
        wait_for(lambda: read_some() is not None and b"quits" in screen and
                 b"running" in screen, "the live overview on the terminal")
        started = [*state["children"].values(),
                   *read_json(tmp_path / "stack" / "stack.json").values()]
        # `]` selects the second machine, `f` makes it fault on cue; the overview shows it.
        wait_for(lambda: read_some() is not None and any(f["live"] for f in frames(tmp_path)),
                 "live data on the overview")
        os.write(master, b"]")
        wait_for(lambda: read_some() is not None and b"selected: laser-02" in screen,
                 "laser-02 selected")
        os.write(master, b"f")
        wait_for(lambda: read_some() is not None and b"fault queued" in screen,
                 "the fault note")
        machine = re.search(rb"fault queued for the next tick \(([A-Za-z0-9_.-]+)\)",
                            bytes(screen))
        assert machine is not None
        name = machine.group(1).decode()
        wait_for(lambda: read_some() is not None and any(
            f["floor_states"].get(name) == "FAULT" or
            any(a["machine"] == name for a in f["alarms"]) for f in frames(tmp_path)),
            f"{name} in FAULT on the overview")
        os.write(master, b"q")
        deadline = time.monotonic() + 120
        while demo.poll() is None and time.monotonic() < deadline:
            read_some()
        assert demo.wait(5) == 0
        assert not any(alive(e) for e in started)
        assert not port_open(ports["mqtt"])
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
            demo.wait(90)
        os.close(master)
        subprocess.run(stack_cmd(tmp_path, "down"), capture_output=True, timeout=120)


def test_another_plant_runs_end_to_end(tmp_path: Path, ports: dict[str, int]) -> None:
    """`python -m stack.demo --plant` (what `make demo PLANT=...` runs natively): backfill,
    simulator, collector and overview all follow the plant's enterprise/site and areas."""
    plant_file = ROOT / "tests" / "data" / "acme-lyon.yaml"
    plant = load_plant(plant_file)
    res = subprocess.run(
        [*demo_cmd(tmp_path, "up"), "--plant", str(plant_file), *port_args(ports),
         "--backfill-days", "0.02", "--once", "--width", "140"],
        capture_output=True, text=True, timeout=DEADLINE_S + 60, cwd=ROOT)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert f"{plant.name} · live overview" in res.stdout
    assert "Moulding hall equipment status" in res.stdout
    assert "demo stopped: simulator, collector, pdm, the local stack" in res.stdout
    last = frames(tmp_path)[-1]
    assert last["live"]
    assert last["machines_total"] == len(plant.machines) == 5
    assert set(last["floor_states"]) == {m.id for m in plant.machines if m.area == "moulding"}
    # The database the demo filled (its stack is stopped; start it again to read it).
    up = subprocess.run([*stack_cmd(tmp_path, "up"), "--mqtt-port", str(ports["mqtt"]),
                         "--influx-port", str(ports["influx"]), "--influx-rpc-port",
                         str(ports["rpc"])], capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        client = InfluxClient(InfluxEndpoint(url=f"http://127.0.0.1:{ports['influx']}",
                                             db="factory"))
        for key, want in (("enterprise", {"acme"}), ("site", {"lyon"}),
                          ("area", {"moulding", "bottling"})):
            rows = series_rows(client.query(f'SHOW TAG VALUES FROM "state" WITH KEY = "{key}"')[0])
            assert {r["value"] for r in rows} == want
        # Both writers followed the plant: the backfill (before the simulator started)
        # and the simulator through the collector (after).
        for when, what in ((f"time < {last['sim_started_ms']}ms", "backfill"),
                           (f"time >= {last['sim_started_ms']}ms", "simulator")):
            rows = series_rows(client.query(
                f'SELECT count("power_kw") FROM "telemetry" WHERE "enterprise" = \'acme\' '
                f'AND "site" = \'lyon\' AND {when}')[0])
            assert rows and rows[0]["count"] > 0, what
        client.close()
    finally:
        subprocess.run(stack_cmd(tmp_path, "down"), capture_output=True, timeout=120)
