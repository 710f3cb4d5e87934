"""Helpers for the collector's integration tests: a contract-message publisher, a config
builder that goes through the real CLI parser, InfluxDB read-back and condition waits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from collector.cli import _parser
from collector.config import CollectorConfig, load
from collector.service import Collector
from telemetry.endpoints import InfluxEndpoint, MqttEndpoint
from telemetry.influx import InfluxClient
from telemetry.topics import area_topic, machine_topic, site_topic

T0_MS = 1_764_201_600_000
REPO = Path(__file__).resolve().parents[3]


def wait_until(pred: Callable[[], Any], timeout_s: float, what: str,
               interval_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} "
                         f"(last: {last!r})")


def contract_messages(prefix: str, n: int, machines: int = 20,
                      t0_ms: int = T0_MS) -> list[tuple[str, bytes]]:
    """n contract messages: telemetry/counts/state per machine, energy per area, sales;
    every series gets distinct timestamps, values derived from the index (checkable)."""
    out: list[tuple[str, bytes]] = []
    for i in range(n):
        m = i % machines
        step = i // machines
        ts = t0_ms + step * 1000
        sel = step % 5
        if sel in (0, 1):
            topic = machine_topic(prefix, "sz", "hardware", "cut", f"m{m:03d}", "telemetry")
            payload: dict[str, Any] = {"ts": ts + sel, "temp_c": 20 + (i % 7),
                                       "power_kw": i * 0.25}
        elif sel == 2:
            topic = machine_topic(prefix, "sz", "hardware", "cut", f"m{m:03d}", "counts")
            payload = {"ts": ts, "good": i, "scrap": i % 3, "run_s": 1.5}
        elif sel == 3:
            topic = machine_topic(prefix, "sz", "hardware", "cut", f"m{m:03d}", "state")
            payload = {"ts": ts, "state": "RUNNING", "state_code": 2, "running": 1}
        elif m % 2 == 0:
            topic = area_topic(prefix, "sz", f"a{m:03d}", "energy")
            payload = {"ts": ts, "kwh_total": float(i), "power_kw": 3}
        else:
            topic = site_topic(prefix, "sz", "sales")
            payload = {"ts": ts + m, "units": i, "amount_cny": i * 10.5,
                       "region": "East China", "channel": "online", "order_id": f"o{i}"}
        out.append((topic, json.dumps(payload).encode()))
    return out


class Publisher:
    """A QoS 1 publisher that never has more than `window` messages unconfirmed."""

    def __init__(self, mqtt_url: str, client_id: str = "", window: int = 2000) -> None:
        ep = MqttEndpoint.from_url(mqtt_url)
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=paho.MQTTv5)
        self.client.max_inflight_messages_set(window)
        self.client.max_queued_messages_set(0)
        self.client.connect(ep.host, ep.port)
        self.client.loop_start()
        self.window = window

    def publish(self, messages: list[tuple[str, bytes]], rate_per_s: float | None = None,
                stop: threading.Event | None = None) -> int:
        pending: list[paho.MQTTMessageInfo] = []
        t0 = time.monotonic()
        sent = 0
        for k, (topic, payload) in enumerate(messages):
            if stop is not None and stop.is_set():
                break
            if rate_per_s:
                ahead = t0 + k / rate_per_s - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            pending.append(self.client.publish(topic, payload, qos=1))
            sent += 1
            if len(pending) >= self.window:
                for info in pending:
                    info.wait_for_publish(60)
                pending = []
        for info in pending:
            info.wait_for_publish(60)
        return sent

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def run_args(mqtt_url: str, influx_url: str, db: str, spool_dir: Path,
             *extra: str) -> list[str]:
    return ["run", "--mqtt-url", mqtt_url, "--influx-url", influx_url, "--influx-db", db,
            "--spool-dir", str(spool_dir), "--metrics-port", "0", *extra]


def make_config(argv: list[str], config_file: Path | None = None) -> CollectorConfig:
    if config_file is not None:
        argv = [*argv, "--config", str(config_file)]
    return load(_parser().parse_args(argv), env={})


def influx(influx_url: str, db: str) -> InfluxClient:
    return InfluxClient(InfluxEndpoint(url=influx_url, db=db))


def count(client: InfluxClient, measurement: str, field_name: str) -> int:
    res = client.query(f'SELECT count("{field_name}") FROM "{measurement}"')
    series = res[0].get("series") or []
    return int(series[0]["values"][0][1]) if series else 0


def expected_counts(messages: list[tuple[str, bytes]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for topic, _ in messages:
        kind = topic.rsplit("/", 1)[1]
        out[kind] = out.get(kind, 0) + 1
    return out


#: A field every kind in contract_messages carries, to count points by.
COUNT_FIELD = {"telemetry": "temp_c", "counts": "good", "state": "state_code",
               "energy": "kwh_total", "sales": "units"}


def counts_in_db(client: InfluxClient, kinds: list[str]) -> dict[str, int]:
    return {k: count(client, k, COUNT_FIELD[k]) for k in kinds}


@dataclass
class CollectorProcess:
    """`python -m collector run ...` as a subprocess (for SIGKILL/SIGTERM tests)."""

    argv: list[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None)

    def start(self) -> None:
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "collector", *self.argv],
                                     cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)

    def terminate(self, timeout_s: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


@pytest.fixture
def collector_procs() -> Iterator[Callable[..., CollectorProcess]]:
    made: list[CollectorProcess] = []

    def make(argv: list[str], log_path: Path) -> CollectorProcess:
        p = CollectorProcess(argv, log_path)
        made.append(p)
        return p

    yield make
    for p in made:
        p.cleanup()


@pytest.fixture
def running_collectors() -> Iterator[Callable[[CollectorConfig], Collector]]:
    """Start in-process collectors; stopped (gracefully) at teardown."""
    made: list[Collector] = []

    def start(cfg: CollectorConfig) -> Collector:
        c = Collector(cfg)
        made.append(c)
        c.start()
        assert c.intake.subscribed.wait(30), "collector did not subscribe"
        return c

    yield start
    for c in made:
        c.stop()
