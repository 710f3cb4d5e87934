"""Sparkplug B through the real Mosquitto and influxd: the same points as the JSON contract,
nothing lost across a collector restart (birth tables restored from the spool).

Expected points come from the same seeded run written to stdout as JSON (as in
test_collector_simulator.py). Sparkplug runs use `--qos telemetry=1` (every message QoS 1)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from collector.config import CollectorConfig
from collector.service import Collector
from telemetry.endpoints import MqttEndpoint

from .conftest import REPO, influx, make_config, run_args, wait_until

pytestmark = pytest.mark.integration

SIM = ["--seed", "5", "--start", "2026-01-05T00:00:00Z", "--speed", "max"]


def _sim_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulator", "run", *SIM, *args]


def _sim(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(_sim_argv(*args), cwd=REPO, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def _expected(ident: list[str], duration: str) -> Counter[str]:
    """Points per measurement of the live run: the stdout run's, and meta twice (the
    birth, online, and the clean stop's offline meta)."""
    out = _sim("--sink", "stdout", "--duration", duration, *ident).stdout
    want = Counter(json.loads(line)["topic"].rsplit("/", 1)[1] for line in out.splitlines())
    want["meta"] *= 2
    return want


def _rows(db: Any, kind: str, where: str = "") -> list[dict[str, Any]]:
    res = db.query(f'SELECT * FROM "{kind}" {where}')
    series = res[0].get("series") or []
    return [dict(zip(s["columns"], v, strict=True)) for s in series for v in s["values"]]


def _counts(db: Any, kinds: list[str]) -> Counter[str]:
    return Counter({k: len(_rows(db, k)) for k in kinds})


def _wait_for(db: Any, want: Counter[str], c: Collector, what: str) -> None:
    try:
        wait_until(lambda: _counts(db, list(want)) == want, 120, what)
    except AssertionError:
        raise AssertionError(f"{what}: InfluxDB holds {dict(_counts(db, list(want)))}, "
                             f"expected {dict(want)}; dead letters "
                             f"{c.metrics.deadletter_counts}") from None


def _ident() -> tuple[list[str], str]:
    site = f"s{uuid.uuid4().hex[:8]}"
    return ["--enterprise", f"e{uuid.uuid4().hex[:8]}", "--site", site], site


def _noisy_sensors_plant(tmp_path: Path) -> list[str]:
    """The demo plant with sensor faults every few seconds (dropouts: JSON omits the field,
    Sparkplug sends is_null; both must store the same rows)."""
    text = (REPO / "simulator" / "data" / "plant.yaml").read_text()
    head, rest = text.split("sensor_faults:", 1)
    body = rest.split("\ntechnicians:", 1)[1]
    plant = tmp_path / "plant.yaml"
    plant.write_text(head + "sensor_faults: {dropout_per_month: 20000, stuck_per_month: 5000, "
                     "spike_per_month: 5000, dropout_min: 0.5, stuck_min: 0.5}\ntechnicians:"
                     + body)
    return ["--plant", str(plant)]


def test_sparkplug_and_json_runs_store_the_same_points(
        mqtt_url: str, influx_url: str, influxd: Any, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    ident, site = _ident()
    ident += _noisy_sensors_plant(tmp_path)
    want = _expected(ident, "2m")
    dbs = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    try:
        c_json = running_collectors(make_config(run_args(
            mqtt_url, influx_url, dbs[0], tmp_path / "spool-json", "--topic",
            f"{ident[1]}/#")))
        c_sp = running_collectors(make_config(run_args(
            mqtt_url, influx_url, dbs[1], tmp_path / "spool-sp", "--sparkplug", "--topic",
            f"spBv1.0/{site}/#")))
        _sim("--duration", "2m", "--mqtt-url", mqtt_url, *ident)
        _sim("--duration", "2m", "--mqtt-url", mqtt_url, "--format", "sparkplug",
             "--qos", "telemetry=1", *ident)
        db_json, db_sp = influx(influx_url, dbs[0]), influx(influx_url, dbs[1])
        _wait_for(db_json, want, c_json, "the JSON run")
        _wait_for(db_sp, want, c_sp, "the Sparkplug run")
        assert c_sp.metrics.total_deadletters == 0 == c_json.metrics.total_deadletters
        # Same rows, every measurement (so every machine's values, tags and timestamps).
        for kind in want:
            a, b = _rows(db_json, kind), _rows(db_sp, kind)
            key = sorted(a[0])
            assert sorted(map(repr, (tuple(r.get(k) for k in key) for r in a))) == \
                sorted(map(repr, (tuple(r.get(k) for k in key) for r in b))), kind
    finally:
        for db in dbs:
            influxd.query(f'DROP DATABASE "{db}"')


def test_a_collector_restart_mid_stream_loses_no_alias_and_no_point(
        mqtt_url: str, influx_url: str, influx_db: str, tmp_path: Path) -> None:
    ident, site = _ident()
    want = _expected(ident, "3m")
    cfg = make_config(run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool",
                               "--sparkplug", "--topic", f"spBv1.0/{site}/#"))
    # An observer: pauses the simulator (SIGSTOP) at its first DDATA, so the first
    # collector sees the births and the start of the data, and the rest waits for the
    # second one in the broker; counts births to show none was repeated.
    seen: Counter[str] = Counter()
    first_data = threading.Event()
    sim: list[subprocess.Popen[bytes]] = []
    ep = MqttEndpoint.from_url(mqtt_url)
    obs = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    subscribed = threading.Event()

    def on_message(_c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        mtype = msg.topic.split("/")[2]
        seen[mtype] += 1
        if mtype == "DDATA" and not first_data.is_set():
            os.kill(sim[0].pid, signal.SIGSTOP)
            first_data.set()

    obs.on_message = on_message
    obs.on_subscribe = lambda *a: subscribed.set()
    obs.on_connect = lambda c, *a: c.subscribe(f"spBv1.0/{site}/#", qos=0)
    obs.connect(ep.host, ep.port)
    obs.loop_start()
    first = Collector(cfg)
    second: Collector | None = None
    try:
        assert subscribed.wait(10)
        first.start()
        assert first.intake.subscribed.wait(30)
        sim.append(subprocess.Popen(
            _sim_argv("--duration", "3m", "--mqtt-url", mqtt_url, "--format", "sparkplug",
                      "--qos", "telemetry=1", *ident),
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        assert first_data.wait(60), "no DDATA from the simulator"
        db = influx(influx_url, influx_db)
        wait_until(lambda: _counts(db, ["meta"])["meta"] > 0, 60, "the births' meta stored")
        first.stop()
        first_points = sum(_counts(db, list(want)).values())
        os.kill(sim[0].pid, signal.SIGCONT)
        _, err = sim[0].communicate(timeout=180)
        assert sim[0].returncode == 0, err.decode()[-2000:]
        assert seen["NDEATH"] > 0 and seen["NBIRTH"] == seen["NDEATH"], seen  # no rebirth
        second = Collector(cfg)  # a new process's worth: alias tables only from the spool
        assert second.mapper.nodes, "no birth table restored from the spool"
        second.start()
        _wait_for(db, want, second, "every point after the restart")
        assert 0 < first_points < sum(want.values())
        assert second.metrics.total_deadletters == 0 == first.metrics.total_deadletters
        assert not second.mapper.rebirths, second.mapper.rebirths
    finally:
        obs.disconnect()
        obs.loop_stop()
        if sim and sim[0].poll() is None:
            os.kill(sim[0].pid, signal.SIGCONT)
            sim[0].kill()
        first.stop()
        if second is not None:
            second.stop()


def test_seq_gap_and_data_without_birth_ask_for_a_rebirth(
        mqtt_url: str, influx_url: str, influx_db: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    from simulator.model import Intervals, PlantModel
    from simulator.plant import load_plant
    from simulator.sparkplug import SparkplugEncoder
    from telemetry import sparkplug_b_pb2 as pb
    from telemetry.sparkplug import seq_suffix

    site = f"s{uuid.uuid4().hex[:8]}"
    model = PlantModel(load_plant(None, 1, site=site), 2, 1_767_571_200_000,
                       Intervals.from_seconds(5, 30, 60))
    enc = SparkplugEncoder(model)
    c = running_collectors(make_config(run_args(
        mqtt_url, influx_url, influx_db, tmp_path / "spool", "--sparkplug", "--topic",
        f"spBv1.0/{site}/#")))
    commands: list[tuple[str, Any]] = []
    cond = threading.Condition()
    ep = MqttEndpoint.from_url(mqtt_url)
    cl = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    subscribed = threading.Event()

    def on_message(_c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with cond:
            commands.append((msg.topic, pb.Payload.FromString(msg.payload)))
            cond.notify_all()

    cl.on_message = on_message
    cl.on_subscribe = lambda *a: subscribed.set()
    cl.on_connect = lambda cc, *a: cc.subscribe(f"spBv1.0/{site}/NCMD/#", qos=1)
    cl.connect(ep.host, ep.port)
    cl.loop_start()
    try:
        assert subscribed.wait(10)
        node = "hardware:cutting"
        frames = [model.step() for _ in range(3)]
        data = [next(m for m in enc.convert(enc.messages(f), f.ts_ms)
                     if m[1].endswith(f"/{node}/laser-01")) for f in frames]
        # data from an edge node the collector never saw born
        cl.publish(data[0][1], data[0][2] + seq_suffix(7), qos=1).wait_for_publish(10)
        with cond:
            assert cond.wait_for(lambda: len(commands) == 1, 30), "no NCMD for a stranger"
        births = enc.births(node, 0, model.now_ms)
        for seq, (_, topic, body) in enumerate(births):
            cl.publish(topic, body + seq_suffix(seq), qos=1).wait_for_publish(10)
        seq = len(births)
        cl.publish(data[1][1], data[1][2] + seq_suffix(seq), qos=1).wait_for_publish(10)
        cl.publish(data[2][1], data[2][2] + seq_suffix(seq + 3), qos=1).wait_for_publish(10)
        with cond:  # the gap: a second rebirth request (the throttle was reset by NBIRTH)
            assert cond.wait_for(lambda: len(commands) == 2, 30), "no NCMD for a seq gap"
        for topic, cmd in commands:
            assert topic == f"spBv1.0/{site}/NCMD/{node}"
            assert [(m.name, m.boolean_value) for m in cmd.metrics] == [
                ("Node Control/Rebirth", True)]
        assert c.mapper.rebirths == Counter({"no_birth": 1, "seq_gap": 1})
        assert c.metrics.deadletter_counts == {"sparkplug_no_birth": 1}
        db = influx(influx_url, influx_db)
        # both data messages after the birth are stored, the gap's too
        wait_until(lambda: len(_rows(db, "telemetry", "WHERE machine = 'laser-01'")) == 2,
                   60, "the data around the gap")
    finally:
        cl.disconnect()
        cl.loop_stop()


def test_the_collector_as_primary_host_lets_the_simulator_publish(
        mqtt_url: str, influx_url: str, influx_db: str, tmp_path: Path) -> None:
    ident, site = _ident()
    host = f"h{uuid.uuid4().hex[:8]}"
    want = _expected(ident, "1m")
    c = Collector(make_config(run_args(
        mqtt_url, influx_url, influx_db, tmp_path / "spool", "--sparkplug",
        "--sparkplug-host-id", host, "--topic", f"spBv1.0/{site}/#")))
    states: list[dict[str, Any]] = []
    cond = threading.Condition()
    ep = MqttEndpoint.from_url(mqtt_url)
    obs = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)

    def on_message(_c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        if msg.payload:  # not the retained message's clearing at the end
            with cond:
                states.append(json.loads(msg.payload))
                cond.notify_all()

    obs.on_message = on_message
    obs.on_connect = lambda cc, *a: cc.subscribe(f"spBv1.0/STATE/{host}", qos=1)
    obs.connect(ep.host, ep.port)
    obs.loop_start()
    try:
        c.start()
        with cond:
            assert cond.wait_for(lambda: states and states[-1]["online"], 30), states
        _sim("--duration", "1m", "--mqtt-url", mqtt_url, "--format", "sparkplug",
             "--qos", "telemetry=1", "--sparkplug-host", host, *ident)
        _wait_for(influx(influx_url, influx_db), want, c, "the run behind a primary host")
        c.stop()
        with cond:
            assert cond.wait_for(lambda: not states[-1]["online"], 30), states
        assert states[-1]["timestamp"] == states[0]["timestamp"]
    finally:
        c.stop()
        obs.publish(f"spBv1.0/STATE/{host}", b"", qos=1, retain=True).wait_for_publish(10)
        obs.disconnect()
        obs.loop_stop()
