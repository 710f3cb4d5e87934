"""Real Mosquitto and InfluxDB 1.x processes, each in its own run directory.

Used by ``factory-stack`` (the local stack for machines without Docker) and by the
test fixtures, which need to stop, kill, freeze and restart either service.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class ServiceError(RuntimeError):
    """A service could not be found, started or reached; the message says what to do."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def find_binary(name: str, extra_dirs: tuple[str, ...] = ("/usr/sbin", "/usr/local/sbin")) -> str:
    found = shutil.which(name)
    if found:
        return found
    for d in extra_dirs:
        p = Path(d) / name
        if p.exists():
            return str(p)
    raise ServiceError(f"{name} not found: run scripts/install-services "
                       "(Debian/Ubuntu: apt-get install mosquitto influxdb)")


def process_start_time(pid: int) -> int | None:
    """Kernel start time of a pid (to tell a recycled pid from ours), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


@dataclass
class Service:
    """A daemon we start ourselves; subclasses write its config and probe readiness."""

    run_dir: Path
    port: int
    name: str = "service"
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    pid: int | None = None

    # subclass hooks -------------------------------------------------------------------
    def command(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Write config files into run_dir."""

    def ready(self) -> bool:
        return port_open(self.port)

    def after_start(self) -> None:
        """Work to do once the service answers (e.g. create a database)."""

    # lifecycle ------------------------------------------------------------------------
    @property
    def log_path(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def start(self, timeout_s: float = 30.0, detach: bool = False) -> None:
        if self.running():
            return
        if port_open(self.port):
            raise ServiceError(f"{self.name}: port {self.port} is already in use; "
                               "choose another port")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.run_dir, start_new_session=detach)
        log.close()
        self.pid = self.proc.pid
        self.wait_ready(timeout_s)
        self.after_start()

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServiceError(f"{self.name} exited with {self.proc.returncode}; "
                                   f"last log lines:\n{self.tail_log()}")
            if self.ready():
                return
            time.sleep(0.05)
        raise ServiceError(f"{self.name} did not answer on port {self.port} within "
                           f"{timeout_s:.0f} s; log: {self.log_path}")

    def tail_log(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def running(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and process_start_time(self.pid) is not None

    def _signal(self, sig: signal.Signals) -> None:
        if self.pid is not None and self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def _wait_exit(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=0.05)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not self.running():
                return True
            time.sleep(0.05)
        return False

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM, wait, then SIGKILL if it will not go."""
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGTERM)
        if not self._wait_exit(timeout_s):
            self.kill()

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        self._wait_exit(10.0)

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def restart(self, timeout_s: float = 30.0) -> None:
        self.stop()
        self.proc = None
        self.pid = None
        # The port can linger briefly after exit; wait for it to free up.
        deadline = time.monotonic() + 10
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.start(timeout_s)


@dataclass
class Mosquitto(Service):
    """Mosquitto 2.x on 127.0.0.1:port with persistence, sized for a collector backlog."""

    name: str = "mosquitto"
    extra_conf: str = ""
    anonymous: bool = True
    #: The compose broker's packet limit (docs/reliability.md, "Broker limits"); the native
    #: stack sets it, test fixtures leave it off so tests can send oversized packets.
    max_packet_size: int | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def conf_path(self) -> Path:
        return self.run_dir / "mosquitto.conf"

    def prepare(self) -> None:
        lines = [
            # Started as root, Mosquitto drops to the `mosquitto` user, which cannot write
            # persistence into our root-owned run dir: every save would fail and a restart
            # would lose all persistent sessions. Stay the user that started it.
            *(["user root"] if os.geteuid() == 0 else []),
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'true' if self.anonymous else 'false'}",
            "persistence true",
            f"persistence_location {self.run_dir}/",
            "autosave_interval 30",
            # A persistent collector session may queue a long outage's worth of messages;
            # Mosquitto's default of 1000 would drop the rest. Bounded in bytes as the
            # compose broker is (docs/reliability.md, "Broker limits").
            "max_queued_messages 2500000",
            "max_queued_bytes 268435456",
            *([f"max_packet_size {self.max_packet_size}"] if self.max_packet_size else []),
            "max_inflight_messages 0",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_timestamp true",
        ]
        self.conf_path.write_text("\n".join(lines) + "\n" + self.extra_conf)

    def command(self) -> list[str]:
        return [find_binary("mosquitto"), "-c", str(self.conf_path)]


#: deploy/mosquitto/mosquitto.conf's max_packet_size (a unit test keeps them equal).
MAX_PACKET_SIZE = 73_728


@dataclass
class Influxd(Service):
    """InfluxDB 1.x on 127.0.0.1:port, its RPC port on its own address, data in run_dir."""

    name: str = "influxd"
    rpc_port: int = 0
    database: str = "factory"

    def __post_init__(self) -> None:
        if not self.rpc_port:
            self.rpc_port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def conf_path(self) -> Path:
        return self.run_dir / "influxdb.conf"

    def prepare(self) -> None:
        d = self.run_dir
        self.conf_path.write_text(f"""reporting-enabled = false
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
  max-values-per-tag = 0
  max-series-per-database = 0
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
  unix-socket-enabled = false
  max-body-size = 0
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
""")

    def command(self) -> list[str]:
        return [find_binary("influxd"), "-config", str(self.conf_path)]

    def ready(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            conn.request("GET", "/ping")
            ok = conn.getresponse().status == 204
            conn.close()
            return ok
        except OSError:
            return False

    def after_start(self) -> None:
        if self.database:
            self.query(f'CREATE DATABASE "{self.database}"')

    def query(self, q: str, db: str = "") -> str:
        from urllib.parse import urlencode  # noqa: PLC0415

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("POST", "/query", urlencode({"q": q, "db": db}),
                     {"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        if resp.status != 200 or '"error"' in body:
            raise ServiceError(f"influxd query {q!r} failed: {resp.status} {body[:200]}")
        return body
