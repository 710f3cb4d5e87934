"""Shared pieces of the collector benchmarks: a local stack, a paced QoS 1 publisher
(run as its own process so it does not share a GIL with what is measured), contract
messages, RSS sampling. Not a benchmark itself (make bench runs bench_*.py only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stack.services import Influxd, Mosquitto, free_port  # noqa: E402
from telemetry.topics import machine_topic  # noqa: E402

T0_MS = 1_764_201_600_000

PUBLISHER = r'''
import json, sys, time
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
host, port, prefix, n, rate, machines, live = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), sys.argv[7] == "live"
c = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
c.max_inflight_messages_set(1000)
c.max_queued_messages_set(0)
c.connect(host, port)
c.loop_start()
T0 = 1764201600000
t0 = time.monotonic()
pending = []
for i in range(n):
    if rate > 0:
        ahead = t0 + i / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    m = i % machines
    ts = int(time.time() * 1000) if live else T0 + (i // machines) * 1000
    topic = f"{prefix}/sz/hardware/cut/m{m:04d}/telemetry"
    payload = json.dumps({"ts": ts, "temp_c": 20.0 + i % 13, "power_kw": i * 0.5,
                          "seq": i})
    pending.append(c.publish(topic, payload, qos=1))
    if len(pending) >= 1000:
        for p in pending:
            p.wait_for_publish(60)
        pending = []
for p in pending:
    p.wait_for_publish(60)
print(json.dumps({"published": n, "elapsed_s": time.monotonic() - t0}), flush=True)
c.disconnect()
c.loop_stop()
'''


def start_stack(run_dir: Path) -> tuple[Mosquitto, Influxd]:
    m = Mosquitto(run_dir=run_dir / "mosquitto", port=free_port())
    i = Influxd(run_dir=run_dir / "influxd", port=free_port(), database="bench")
    m.start(timeout_s=60)
    i.start(timeout_s=60)
    return m, i


def publisher(mqtt: Mosquitto, prefix: str, n: int, rate: float, machines: int = 1000,
              live: bool = False) -> subprocess.Popen[str]:
    """Publish n telemetry messages (unique series x ts) at `rate` msg/s (0 = flat out)."""
    return subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, "127.0.0.1", str(mqtt.port), prefix, str(n),
         str(rate), str(machines), "live" if live else "fixed"],
        stdout=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout_s: float = 600) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=timeout_s)
    lines = [x for x in out.splitlines() if x.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def collector_cmd(mqtt: Mosquitto, influx: Influxd, spool: Path, prefix: str,
                  metrics_port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "collector", "run", "--mqtt-url", mqtt.url, "--influx-url",
            influx.url, "--influx-db", "bench", "--spool-dir", str(spool), "--topic",
            f"{prefix}/#", "--client-id", f"{prefix}-collector", "--metrics-port",
            str(metrics_port), "--log-level", "WARNING", *extra]


def metric(port: int, name: str) -> float:
    import urllib.request  # noqa: PLC0415

    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    except OSError:
        return -1.0
    total = 0.0
    for line in text.decode().splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def influx_count(influx: Influxd, measurement: str = "telemetry", where: str = "") -> int:
    body = json.loads(influx.query(f'SELECT count("temp_c") FROM "{measurement}" {where}',
                                   db="bench"))
    series = body["results"][0].get("series") or []
    return int(series[0]["values"][0][1]) if series else 0


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def machine(prefix: str, m: int) -> str:
    return machine_topic(prefix, "sz", "hardware", "cut", f"m{m:04d}", "telemetry")


def dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


class LinePublisher:
    """Load from `mosquitto_pub -l -q 1` (C, cheap) fed paced lines from a thread, so the
    publisher does not eat the CPU the collector is measured on. Each of `topics` gets its
    own process; message i of a topic has ts = t0_ms + i (unique per series)."""

    def __init__(self, mqtt: Mosquitto, topics: list[str], n: int, rate: float,
                 t0_ms: int) -> None:
        import threading  # noqa: PLC0415

        self.procs = [subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(mqtt.port), "-q", "1", "-l",
             "-t", t, "-i", f"loadpub-{k}-{os.getpid()}"],
            stdin=subprocess.PIPE, text=True) for k, t in enumerate(topics)]
        self.n, self.rate, self.t0_ms = n, rate, t0_ms
        self.elapsed_s = 0.0
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        start = time.monotonic()
        per = len(self.procs)
        i = 0
        while i < self.n:
            due = min(self.n, int((time.monotonic() - start) * self.rate) + 1)
            while i < due:
                p = self.procs[i % per]
                assert p.stdin is not None
                p.stdin.write(f'{{"ts": {self.t0_ms + i // per}, "temp_c": {20 + i % 13}, '
                              f'"seq": {i}}}\n')
                i += 1
            for p in self.procs:
                assert p.stdin is not None
                p.stdin.flush()
            time.sleep(0.005)
        self.elapsed_s = time.monotonic() - start
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.close()

    def wait(self) -> float:
        self.thread.join()
        for p in self.procs:
            p.wait(120)
        return self.elapsed_s


class PahoLoad:
    """Fallback load when mosquitto_pub (package mosquitto-clients) is missing: the paho
    publisher process (costs more CPU, so latency figures come out worse)."""

    def __init__(self, mqtt: Mosquitto, prefix: str, n: int, rate: float) -> None:
        self.proc = publisher(mqtt, prefix, n, rate, live=True)

    def wait(self) -> float:
        return float(finish(self.proc).get("elapsed_s", 0.0))


def load_publisher(mqtt: Mosquitto, prefix: str, topics: list[str], n: int, rate: float,
                   t0_ms: int) -> LinePublisher | PahoLoad:
    import shutil  # noqa: PLC0415

    if shutil.which("mosquitto_pub"):
        return LinePublisher(mqtt, topics, n, rate, t0_ms)
    print("note: mosquitto_pub not found (apt-get install mosquitto-clients); using a paho "
          "publisher process for the load", flush=True)
    return PahoLoad(mqtt, prefix, n, rate)
