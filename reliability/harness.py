"""A private stack for one case: Mosquitto, influxd and a collector subprocess.

Everything runs on loopback on free ports in one work directory and is stopped by
:meth:`Stack.close` whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack.services import Influxd, Mosquitto, free_port
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient

log = logging.getLogger(__name__)

DATABASE = "factory"


class HarnessError(RuntimeError):
    """The harness could not set up or observe the stack (not a finding about it)."""


def wait_for(pred: Callable[[], Any], timeout_s: float, what: str,
             interval_s: float = 0.2) -> Any:
    """Poll `pred` until truthy; raise HarnessError naming `what` on timeout."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval_s)
    raise HarnessError(f"timed out after {timeout_s:.0f} s waiting for {what} (last: {last!r})")


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class CollectorProc:
    """``python -m collector run`` with a metrics port, restartable with the same spool."""

    argv: list[str]
    work_dir: Path
    metrics_port: int
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    exit_codes: list[int] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.work_dir / "collector.log"

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as logf:
            logf.write(f"---- start {self.starts} ----\n".encode())
            logf.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "collector", *self.argv], stdout=logf,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_for(lambda: self.health() is not None or not self.alive(), 60,
                 "collector metrics endpoint")
        if not self.alive():
            raise HarnessError(f"collector exited at start:\n{self.tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.alive() and self.proc is not None else None

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/healthz",
                                        timeout=2) as r:
                data: dict[str, Any] = json.loads(r.read())
                return data
        except urllib.error.HTTPError as exc:  # 503 still carries the JSON detail
            try:
                data = json.loads(exc.read())
                return data
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def wait_subscribed(self, timeout_s: float = 60) -> None:
        wait_for(lambda: (self.health() or {}).get("mqtt_connected"), timeout_s,
                 "collector connected to the broker")
        # Subscription follows the connect within the same round trip; give it a moment.
        time.sleep(0.5)

    def kill(self) -> None:
        if self.proc is not None and self.alive():
            self.proc.kill()
            self.exit_codes.append(self.proc.wait(30))

    def terminate(self, timeout_s: float = 90) -> int:
        """SIGTERM and wait; the exit code (SIGKILL after `timeout_s`: -9)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(30)
        self.exit_codes.append(code)
        return code

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@dataclass
class Stack:
    """Mosquitto + influxd + collector for one case, in `work_dir`."""

    work_dir: Path
    collector_yaml: str = ""
    mosquitto_conf: str = ""
    prefix: str = "rel"
    mosquitto: Mosquitto = field(init=False)
    influxd: Influxd = field(init=False)
    collector: CollectorProc = field(init=False)
    influx: InfluxClient = field(init=False)

    def __post_init__(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.mosquitto = Mosquitto(run_dir=self.work_dir / "mosquitto", port=free_port(),
                                   extra_conf=self.mosquitto_conf)
        self.influxd = Influxd(run_dir=self.work_dir / "influxd", port=free_port(),
                               database=DATABASE)
        conf = self.work_dir / "collector.yaml"
        conf.write_text(self.collector_yaml or "collector: {}\n")
        argv = ["run", "--mqtt-url", self.mosquitto.url, "--influx-url", "",
                "--influx-db", DATABASE, "--spool-dir", str(self.work_dir / "spool"),
                "--topic", f"{self.prefix}/#", "--client-id", f"{self.prefix}-collector",
                "--config", str(conf)]
        self.collector = CollectorProc(argv, self.work_dir, free_port())

    def start(self) -> None:
        self.mosquitto.start(timeout_s=60)
        self.influxd.start(timeout_s=60)
        argv = self.collector.argv
        argv[argv.index("--influx-url") + 1] = self.influxd.url
        argv += ["--metrics-port", str(self.collector.metrics_port)]
        self.influx = InfluxClient(InfluxEndpoint(url=self.influxd.url, db=DATABASE),
                                   timeout_s=60)
        self.collector.start()
        self.collector.wait_subscribed()

    @property
    def deadletter_path(self) -> Path:
        return self.work_dir / "spool" / "deadletters.jsonl"

    def deadletters(self) -> list[dict[str, Any]]:
        try:
            text = self.deadletter_path.read_text()
        except OSError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.collector.kill()
        for svc in (self.mosquitto, self.influxd):
            with contextlib.suppress(Exception):
                svc.stop()
        with contextlib.suppress(Exception):
            self.influx.close()
