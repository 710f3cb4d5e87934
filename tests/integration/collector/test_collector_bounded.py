"""Bounded in bytes under hostile input, against the real Mosquitto and influxd: a flood of
1 MB payloads and of long distinct topics leaves the collector's memory (peak RSS from
/proc) and its dead-letter file small."""

from __future__ import annotations

import json
import os
import re
import stat
import urllib.request
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from stack.services import free_port
from telemetry.endpoints import MqttEndpoint
from telemetry.topics import machine_topic

from .conftest import CollectorProcess, influx, run_args, wait_until

pytestmark = pytest.mark.integration

MB = 1024 * 1024


def _kb(pid: int, key: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
    assert m, status
    return int(m.group(1))


def _metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    m = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text.decode(), re.M)
    return float(m.group(1)) if m else 0.0


def test_a_flood_of_1mb_payloads_and_long_topics_stays_bounded(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        collector_procs: Callable[..., CollectorProcess]) -> None:
    port = free_port()
    argv = run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool", "--topic",
                    f"{topic_prefix}/#")
    argv[argv.index("--metrics-port") + 1] = str(port)
    proc = collector_procs(argv, tmp_path / "collector.log")
    proc.start()
    assert proc.proc is not None
    wait_until(lambda: "connected to" in proc.log(), 30, "the collector connected")
    pid = proc.proc.pid
    ep = MqttEndpoint.from_url(mqtt_url)
    pub = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    pub.max_inflight_messages_set(50)
    pub.connect(ep.host, ep.port)
    pub.loop_start()
    topic = machine_topic(topic_prefix, "sz", "hw", "l1", "m1", "telemetry")
    big = b'{"temp_c": ' + b"1" * (MB - 20) + b"}"
    try:
        wait_until(lambda: _metric(port, "collector_mqtt_connected") == 1, 30, "subscribed")
        baseline_kb = _kb(pid, "VmRSS")
        infos = [pub.publish(topic, big, qos=q) for q in (0, 1) for _ in range(150)]
        # long distinct topics (a 60 KB level each): rejected, never cached
        long_level = "x" * 60_000
        infos += [pub.publish(f"{topic_prefix}/sz/hw/l1/{i}{long_level}/telemetry",
                              b'{"temp_c": 1}', qos=1) for i in range(300)]
        infos.append(pub.publish(topic, b'{"ts": 1796000000000, "temp_c": 2}', qos=1))
        for info in infos:
            info.wait_for_publish(120)
        wait_until(lambda: _metric(port, "collector_points_written_total") >= 1, 120,
                   "the marker written after the flood")
        oversize = _metric(port, 'collector_deadletters_total{reason="oversize"}')
        bad_level = _metric(port, 'collector_deadletters_total{reason="bad_topic_level"}')
        peak_kb = _kb(pid, "VmHWM")
    finally:
        pub.disconnect()
        pub.loop_stop()
    assert oversize == 300 and bad_level == 300
    # 300 MB of payloads and 18 MB of topics went through; the process grew by little.
    grown_mb = (peak_kb - baseline_kb) / 1024
    assert grown_mb < 100, f"peak RSS {peak_kb / 1024:.0f} MB, {grown_mb:.0f} MB above idle"
    dl_file = tmp_path / "spool" / "deadletters.jsonl"
    assert stat.S_IMODE(dl_file.stat().st_mode) == 0o600
    assert dl_file.stat().st_size < 5 * MB  # 600 records: heads of 4 KiB + size + digest
    recs = [json.loads(x) for x in dl_file.read_text().splitlines()]
    big_rec = next(r for r in recs if r["reason"] == "oversize")
    assert big_rec["payload_size"] == len(big) and big_rec["payload_truncated"] is True
    assert len(big_rec["payload"]) == 4096
    assert proc.terminate() == 0
    print(f"idle RSS {baseline_kb / 1024:.0f} MB, peak {peak_kb / 1024:.0f} MB; "
          f"dead letters {dl_file.stat().st_size / MB:.1f} MB")
    assert influx(influx_url, influx_db).query("SELECT count(temp_c) FROM telemetry")[0][
        "series"][0]["values"][0][1] == 1
    assert os.path.getsize(tmp_path / "collector.log") < MB
