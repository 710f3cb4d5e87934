"""``make demo`` without Docker: the whole plant on this machine, with a live overview.

``python -m stack.demo [up] [--plant PLANT.yaml]`` starts (and records) everything it
needs, for the plant the file describes (default: the shipped demo plant; a bad file is one
line naming the key, before anything starts; ``check`` only validates it):

1. the local stack (``python -m stack up``: Mosquitto + InfluxDB) unless one already runs
   in its run directory, in which case it is used and left running;
2. a backfill of the last day (``factory-sim backfill``) on the first start, or of the
   gap since the newest data on later starts;
3. the collector, the real-time simulator and predictive maintenance (``factory-pdm run``)
   as child processes;
4. Grafana, provisioned with the same files as the compose stack, if a ``grafana`` or
   ``grafana-server`` binary is on PATH;
5. a live terminal overview (:mod:`stack.overview`) refreshing every few seconds.

The simulator runs the director (:mod:`stack.director`): its control API and presenter
page on 127.0.0.1:8090 (or a free port) with a fresh token in ``director.token`` of the
run directory, and the story loop. In the overview ``[ ] { }`` select a machine, ``f``
faults it, ``c`` clears it, ``n`` plays the next story, ``+``/``-`` change the speed,
``r`` resets the plant. ``q`` (or Ctrl-C, or ``python -m stack.demo down`` from another
terminal) stops exactly what it started. A second ``up`` while one runs says so and
exits. ``--once`` and ``--for 30s`` are headless: they print the overview as text and stop.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import termios
import threading
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live

from simulator.plant import Plant, PlantError, load_plant
from stack import cli as stack_cli
from stack.backfill import newest_ms as backfill_newest_ms
from stack.backfill import plan as backfill_plan
from stack.director import HELP as DIRECTOR_KEYS
from stack.director import Controls, DirectorClient, DirectorError
from stack.health import check_http
from stack.overview import Overview, Scope, fetch, render, render_text
from stack.services import ServiceError, free_port, port_open, process_start_time
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient, QueryError

DEFAULT_RUN_DIR = Path(".run/demo")
REPO = Path(__file__).resolve().parent.parent


class DemoError(RuntimeError):
    """Something the user can fix; printed as one line."""


@dataclass(frozen=True)
class Options:
    run_dir: Path
    mqtt_port: int | None = None
    influx_port: int | None = None
    influx_rpc_port: int | None = None
    db: str = "factory"
    backfill_days: float = 1.0
    seed: int = 7
    speed: str = "1"
    refresh_s: float = 5.0
    once: bool = False
    for_s: float | None = None
    width: int | None = None
    grafana_port: int = 3000
    ready_timeout_s: float = 180.0
    #: The plant file (None: the shipped demo plant), given to backfill, simulator, fault.
    plant_file: Path | None = None

    def __post_init__(self) -> None:
        if self.backfill_days < 0 or self.backfill_days > 30:
            raise DemoError(f"--backfill-days {self.backfill_days}: allowed 0 to 30")
        if self.refresh_s <= 0:
            raise DemoError(f"--refresh-s {self.refresh_s}: must be > 0")

    @property
    def headless(self) -> bool:
        return self.once or self.for_s is not None or not sys.stdout.isatty()

    @property
    def plant_args(self) -> list[str]:
        return ["--plant", str(self.plant_file)] if self.plant_file else []


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    start_time: int | None = None

    def record(self) -> dict[str, Any]:
        return {"pid": self.proc.pid, "start_time": self.start_time, "log": str(self.log)}


@dataclass
class Endpoints:
    mqtt_url: str
    influx_url: str


def parse_duration(text: str) -> float:
    """``30s``, ``2m``, ``1h`` or plain seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: use e.g. 30s, 2m, 1h")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def _tool(name: str) -> list[str]:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    if found:
        return [found]
    raise DemoError(f"{name} not found: run `make venv` (pip install -e .)")


def _zombie(pid: int) -> bool:
    """An exited process its parent has not reaped yet (it holds no resources)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _alive(entry: dict[str, Any]) -> bool:
    """The recorded process (same pid and kernel start time) is still running."""
    pid = entry.get("pid")
    return (isinstance(pid, int) and process_start_time(pid) == entry.get("start_time")
            and not _zombie(pid))


def _stop_pid(entry: dict[str, Any], timeout_s: float) -> bool:
    """SIGTERM a recorded process (if it is still the one we recorded), then SIGKILL."""
    if not _alive(entry):
        return False
    pid = int(entry["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(entry):
        time.sleep(0.1)
    if _alive(entry):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return True


class Demo:
    """One demo run: what it started, in order, so it can stop exactly that."""

    def __init__(self, opts: Options, plant: Plant, out: TextIO | None = None) -> None:
        self.opts = opts
        self.plant = plant
        self.scope = Scope.of(plant)
        #: What the demo calls the plant in its title bar.
        self.title = f"{plant.name} · live overview"
        self.out = out or sys.stdout
        self.run_dir = opts.run_dir
        self.stack_dir = opts.run_dir / "stack"
        self.state_path = opts.run_dir / "demo.json"
        self.children: dict[str, Child] = {}
        self.stack_started = False
        self.stop = threading.Event()
        self.lock_fd: int | None = None
        self.started_ms = int(time.time() * 1000)
        self.sim_started_ms: int | None = None
        self.grafana_url: str | None = None
        self.presenter_url: str | None = None
        self.metrics_port = 0
        self.endpoints: Endpoints | None = None
        self.notes: list[str] = []
        self.controls: Controls | None = None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # -- the lock: one demo per run directory ---------------------------------------------
    def acquire(self) -> bool:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.run_dir / "demo.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.lock_fd = fd
        return True

    def release(self) -> None:
        self.state_path.unlink(missing_ok=True)
        if self.lock_fd is not None:
            fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
            os.close(self.lock_fd)
            self.lock_fd = None

    def save(self) -> None:
        pid = os.getpid()
        state = {
            "pid": pid, "start_time": process_start_time(pid),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "children": {n: c.record() for n, c in self.children.items()},
            "stack": {"run_dir": str(self.stack_dir), "started_by_demo": self.stack_started},
            "mqtt_url": self.endpoints.mqtt_url if self.endpoints else None,
            "influx_url": self.endpoints.influx_url if self.endpoints else None,
            "grafana_url": self.grafana_url,
            "presenter_url": self.presenter_url,
        }
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_path)

    # -- steps ----------------------------------------------------------------------------
    def start_stack(self) -> Endpoints:
        state = stack_cli._load_state(self.stack_dir)
        if state and all(stack_cli._alive(e) for e in state.values()):
            self.say(f"using the local stack already running in {self.stack_dir} "
                     "(left running afterwards)")
        else:
            o = self.opts
            mqtt = self._port(o.mqtt_port, 1883, "MQTT")
            influx = self._port(o.influx_port, 8086, "InfluxDB")
            rpc = self._port(o.influx_rpc_port, 8088, "InfluxDB RPC")
            # A separate `python -m stack up` process, so the daemons are not our children
            # (init reaps them when `down` stops them, whoever runs it).
            code = subprocess.run(
                [sys.executable, "-m", "stack", "up", "--run-dir", str(self.stack_dir),
                 "--mqtt-port", str(mqtt), "--influx-port", str(influx),
                 "--influx-rpc-port", str(rpc), "--db", o.db],
                stdin=subprocess.DEVNULL, stdout=self.out, check=False).returncode
            if code != 0:
                raise DemoError("the local stack did not start (see above); "
                                "scripts/install-services installs Mosquitto and InfluxDB")
            self.stack_started = True
            state = stack_cli._load_state(self.stack_dir)
        ports = {name: int(e["port"]) for name, e in state.items()}
        self.endpoints = Endpoints(mqtt_url=f"mqtt://127.0.0.1:{ports['mosquitto']}",
                                   influx_url=f"http://127.0.0.1:{ports['influxd']}")
        self.save()
        return self.endpoints

    def _port(self, wanted: int | None, default: int, what: str) -> int:
        if wanted:
            return wanted
        if not port_open(default):
            return default
        port = free_port()
        self.say(f"port {default} is taken (another {what} server?); using {port}")
        return port

    def backfill(self, ep: Endpoints) -> None:
        client = InfluxClient(InfluxEndpoint(url=ep.influx_url, db=self.opts.db))
        try:
            newest = backfill_newest_ms(client, self.plant.enterprise, self.plant.site)
        except QueryError:
            newest = None  # a database created just now
        finally:
            client.close()
        todo = backfill_plan(newest, int(time.time() * 1000), self.opts.backfill_days)
        if todo.days <= 0:
            if self.opts.backfill_days > 0:
                self.say(todo.message)
            return
        days = todo.days
        self.say(todo.message)
        cmd = [*_tool("factory-sim"), "backfill", *self.opts.plant_args, "--days",
               f"{days:.6f}", "--seed", str(self.opts.seed), "--influx-url", ep.influx_url,
               "--influx-db", self.opts.db]
        if self.opts.headless:
            cmd.append("--no-progress")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        while proc.poll() is None:
            if self.stop.wait(0.2):
                proc.terminate()
                proc.wait(30)
                raise DemoError("stopped during the backfill")
        if proc.returncode != 0:
            raise DemoError(f"the backfill failed (exit {proc.returncode}); see above")

    def spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Child:
        logs = self.run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        with log.open("ab") as f:
            proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    env=None if env is None else {**os.environ, **env})
        child = Child(name, proc, log, process_start_time(proc.pid))
        self.children[name] = child
        self.save()
        return child

    def start_pipeline(self, ep: Endpoints) -> None:
        self.metrics_port = 9108 if not port_open(9108) else free_port()
        collector = self.spawn("collector", [
            # --plant: its topic filter is the plant's enterprise (<enterprise>/#).
            *_tool("factory-collector"), "run", *self.opts.plant_args, "--mqtt-url", ep.mqtt_url,
            "--influx-url", ep.influx_url, "--influx-db", self.opts.db,
            "--spool-dir", str(self.run_dir / "collector-spool"),
            "--metrics-port", str(self.metrics_port)])
        health = f"http://127.0.0.1:{self.metrics_port}/healthz"
        deadline = time.monotonic() + 60
        while check_http(health) is not None:
            if collector.proc.poll() is not None:
                raise DemoError(f"the collector exited ({collector.proc.returncode}); "
                                f"log: {collector.log}")
            if time.monotonic() > deadline or self.stop.wait(0.2):
                raise DemoError(f"the collector did not become ready; log: {collector.log}")
        self.sim_started_ms = int(time.time() * 1000)
        director = self._director_setup()
        self.spawn("simulator", [
            *_tool("factory-sim"), "run", *self.opts.plant_args, "--seed",
            str(self.opts.seed), "--speed", self.opts.speed, "--sink", "mqtt",
            "--mqtt-url", ep.mqtt_url,
            "--story-loop", "all", "--control-port", str(director.url.rsplit(":", 1)[1]),
            "--labels-out", str(self.run_dir / "story-labels.json")],
            env={"FACTORY_CONTROL_TOKEN": director.token})
        self.controls = Controls(director)
        # Predictive maintenance (docs/pdm.md): reads the telemetry back (the backfill's
        # history first, as its baseline) and fills the wall's expected-failures panels.
        self.spawn("pdm", [
            *_tool("factory-pdm"), "run", *self.opts.plant_args, "--influx-url",
            ep.influx_url, "--influx-db", self.opts.db])
        self.say("simulator (real time), collector and predictive maintenance running; "
                 f"logs in {self.run_dir / 'logs'}")
        self.say(f"presenter: {director.presenter_url} (token in "
                 f"{self.run_dir / 'director.token'})")

    def _director_setup(self) -> DirectorClient:
        """A fresh token (0600 file in the run directory) and a port for the control API."""
        port = 8090 if not port_open(8090) else free_port()
        path = self.run_dir / "director.token"
        path.unlink(missing_ok=True)
        token = secrets.token_urlsafe(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        self.presenter_url = f"http://127.0.0.1:{port}/presenter"
        return DirectorClient(f"http://127.0.0.1:{port}", token)

    def start_grafana(self, ep: Endpoints) -> None:
        binary = shutil.which("grafana") or shutil.which("grafana-server")
        if binary is None:
            self.notes.append("Grafana not installed: terminal overview only")
            return
        home = next((p for p in (os.environ.get("GRAFANA_HOME"), "/usr/share/grafana",
                                 str(Path(binary).resolve().parent.parent / "share/grafana"))
                     if p and (Path(p) / "conf" / "defaults.ini").exists()), None)
        if home is None:
            self.notes.append("Grafana found but not its home (set GRAFANA_HOME)")
            return
        gdir = self.run_dir / "grafana"
        prov = gdir / "provisioning"
        for sub in ("datasources", "dashboards", "plugins", "alerting"):
            (prov / sub).mkdir(parents=True, exist_ok=True)
        src = REPO / "dashboards" / "provisioning"
        dashboards_dir = REPO / "dashboards" / "json"
        (prov / "dashboards" / "factory.yaml").write_text(
            (src / "dashboards" / "factory.yaml").read_text()
            .replace("/var/lib/grafana/dashboards", str(dashboards_dir)))
        # The local influxd runs without authentication, on loopback only: the 1.x
        # datasource with an empty read user.
        shutil.copy(src / "alternatives" / "influxdb-v1.yaml",
                    prov / "datasources" / "influxdb.yaml")
        password_file = gdir / "admin-password"
        if not password_file.exists():
            import secrets  # noqa: PLC0415

            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(18))
        port = self.opts.grafana_port if not port_open(self.opts.grafana_port) else free_port()
        ini = gdir / "grafana.ini"
        ini.write_text(f"""[server]
http_addr = 127.0.0.1
http_port = {port}
[paths]
data = {gdir / 'data'}
logs = {gdir / 'logs'}
plugins = {gdir / 'plugins'}
provisioning = {prov}
[security]
admin_user = admin
admin_password = $__file{{{password_file}}}
disable_gravatar = true
[auth.anonymous]
enabled = true
org_role = Viewer
hide_version = true
[users]
allow_sign_up = false
[analytics]
reporting_enabled = false
check_for_updates = false
[dashboards]
default_home_dashboard_path = {dashboards_dir / 'en' / 'plant-overview.json'}
""")
        env = {**os.environ, "FACTORY_INFLUX_URL": ep.influx_url,
               "FACTORY_INFLUX_DB": self.opts.db, "FACTORY_INFLUX_READ_USER": "",
               "FACTORY_INFLUX_READ_PASSWORD": ""}
        cmd = [binary] + (["server"] if Path(binary).name == "grafana" else [])
        cmd += ["--homepath", home, "--config", str(ini)]
        logs = self.run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / "grafana.log"
        with log.open("ab") as f:
            proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.children["grafana"] = Child("grafana", proc, log, process_start_time(proc.pid))
        self.grafana_url = f"http://127.0.0.1:{port}/d/plant-overview?kiosk"
        self.save()
        self.notes.append(f"Grafana: {self.grafana_url} (admin password in {password_file})")

    # -- the overview ---------------------------------------------------------------------
    def status_line(self) -> str:
        parts = []
        for name, c in self.children.items():
            code = c.proc.poll()
            parts.append(f"{name} pid {c.proc.pid}" if code is None
                         else f"{name} EXITED ({code}), see {c.log}")
        if self.endpoints:
            parts.append(f"MQTT {self.endpoints.mqtt_url}  InfluxDB {self.endpoints.influx_url}")
        parts += self.notes
        if not self.opts.headless:
            if self.controls is not None:
                parts.append(self.controls.describe())
            parts.append(f"{DIRECTOR_KEYS} · q quits")
        return " · ".join(parts)

    def snapshot(self, client: InfluxClient) -> Overview | None:
        try:
            o = fetch(client, scope=self.scope)
        except QueryError as exc:
            self.set_note("query failed", str(exc))
            return None
        record = {"frame_at_ms": int(time.time() * 1000),
                  "sim_started_ms": self.sim_started_ms, "live": self.is_live(o),
                  **o.to_dict()}
        with (self.run_dir / "overview.jsonl").open("a") as f:
            f.write(json.dumps(record) + "\n")
        return o

    def is_live(self, o: Overview) -> bool:
        return (o.latest_data_ms is not None and self.sim_started_ms is not None
                and o.latest_data_ms >= self.sim_started_ms - 1000)

    def overview_headless(self, client: InfluxClient) -> int:
        width = self.opts.width or 160
        if self.opts.once:
            deadline = time.monotonic() + self.opts.ready_timeout_s
            o = self.snapshot(client)
            while (o is None or not self.is_live(o)) and time.monotonic() < deadline:
                if self.stop.wait(1.0):
                    break
                o = self.snapshot(client)
            if o is None:
                return 1
            self.say(render_text(o, width=width, title=self.title,
                                     status=self.status_line(), scope=self.scope))
            if not self.is_live(o):
                self.say("demo: no live data from the simulator yet; see the logs above")
                return 1
            return 0
        end = time.monotonic() + (self.opts.for_s if self.opts.for_s is not None else 1e12)
        while not self.stop.is_set() and time.monotonic() < end:
            o = self.snapshot(client)
            if o is not None:
                self.say(render_text(o, width=width, title=self.title,
                                     status=self.status_line(), scope=self.scope))
            self.stop.wait(min(self.opts.refresh_s, max(0.0, end - time.monotonic())))
        return 0

    def director_key(self, key: str) -> bool:
        """A director key (fault on the selected machine, story, speed, reset) pressed."""
        if self.controls is None:
            return False
        if not self.controls.machines:
            try:
                self.controls.refresh()
            except DirectorError as exc:
                self.set_note("director", f"not ready yet ({exc})")
                return key in "[]{}fcn+=-r"
        note = self.controls.key(key)
        if note is None:
            return False
        self.set_note("director", note)
        with contextlib.suppress(DirectorError):
            self.controls.refresh()
        return True

    def set_note(self, key: str, text: str) -> None:
        self.notes = [n for n in self.notes if not n.startswith(f"{key}:")]
        self.notes.append(f"{key}: {text}")

    def overview_live(self, client: InfluxClient) -> int:
        console = Console()
        o: Overview | None = None
        with _cbreak(sys.stdin) as keys, Live(console=console, screen=True,
                                              auto_refresh=False) as live:
            next_at = 0.0
            while not self.stop.is_set():
                if time.monotonic() >= next_at:
                    o = self.snapshot(client) or o
                    if o is not None:
                        live.update(render(o, title=self.title, status=self.status_line(),
                                           scope=self.scope), refresh=True)
                    next_at = time.monotonic() + self.opts.refresh_s
                if keys is not None:
                    ready, _, _ = select.select([keys], [], [], 0.2)
                    key = keys.read(1).lower() if ready else ""
                    if key == "q":
                        break
                    if key and self.director_key(key):
                        next_at = 0.0  # show the note now
                else:
                    self.stop.wait(0.2)
        return 0

    # -- lifecycle ------------------------------------------------------------------------
    def shutdown(self) -> None:
        stopped = []
        for name, timeout_s in (("simulator", 15.0), ("grafana", 15.0), ("collector", 45.0),
                                ("pdm", 15.0)):
            child = self.children.get(name)
            if child is None:
                continue
            if child.proc.poll() is None:
                child.proc.terminate()
                try:
                    child.proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    child.proc.kill()
                    child.proc.wait(10)
            stopped.append(name)
        if self.stack_started:
            _stack_down(self.stack_dir, self.out)
            stopped.append("the local stack")
        if stopped:
            self.say(f"demo stopped: {', '.join(stopped)}")

    def run(self) -> int:
        if not self.acquire():
            self.say(_already_running(self.run_dir))
            return 1
        handlers = {s: signal.signal(s, lambda *_: self.stop.set())
                    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            self.save()
            ep = self.start_stack()
            self.backfill(ep)
            if self.stop.is_set():
                return 0
            self.start_pipeline(ep)
            self.start_grafana(ep)
            for note in self.notes:
                self.say(note)
            client = InfluxClient(InfluxEndpoint(url=ep.influx_url, db=self.opts.db))
            try:
                if self.opts.headless:
                    return self.overview_headless(client)
                return self.overview_live(client)
            finally:
                client.close()
        except DemoError as exc:
            self.say(f"demo: {exc}")
            return 1
        except ServiceError as exc:
            self.say(f"demo: {exc}")
            return 1
        finally:
            self.shutdown()
            self.release()
            for sig, old in handlers.items():
                signal.signal(sig, old)


@contextlib.contextmanager
def _cbreak(stream: TextIO) -> Iterator[TextIO | None]:
    """Single key presses from a terminal (None when stdin is not one)."""
    if not stream.isatty():
        yield None
        return
    fd = stream.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield stream
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def _stack_down(stack_dir: Path, out: TextIO) -> None:
    out.flush()
    subprocess.run([sys.executable, "-m", "stack", "down", "--run-dir", str(stack_dir)],
                   stdin=subprocess.DEVNULL, stdout=out, check=False)


def _read_state(run_dir: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((run_dir / "demo.json").read_text())
    except (OSError, ValueError):
        return {}
    return data


def _already_running(run_dir: Path) -> str:
    state = _read_state(run_dir)
    since = f" since {state['started']}" if state.get("started") else ""
    pid = f" (pid {state['pid']}{since})" if state.get("pid") else ""
    return (f"demo: a demo is already running{pid} in {run_dir}; it is shown in its own "
            "terminal. Stop it with `make demo-down` (python -m stack.demo down).")


def down(run_dir: Path, out: TextIO | None = None) -> int:
    """Stop the demo recorded in run_dir and exactly what it started."""
    out = out or sys.stdout
    state = _read_state(run_dir)
    if not state:
        print(f"no demo running in {run_dir}", file=out)
        return 0
    supervisor = {"pid": state.get("pid"), "start_time": state.get("start_time")}
    if _alive(supervisor):
        print(f"stopping the demo (pid {supervisor['pid']})", file=out, flush=True)
        _stop_pid(supervisor, timeout_s=90)
    # Whatever the supervisor could not stop (it was killed, say): stop it here.
    for name, entry in (state.get("children") or {}).items():
        if _stop_pid(entry, timeout_s=45):
            print(f"stopped {name} (pid {entry['pid']})", file=out)
    stack = state.get("stack") or {}
    if stack.get("started_by_demo"):
        left = stack_cli._load_state(Path(stack["run_dir"]))
        if any(stack_cli._alive(e) for e in left.values()):
            _stack_down(Path(stack["run_dir"]), out)
    (run_dir / "demo.json").unlink(missing_ok=True)
    print("demo stopped", file=out)
    return 0


def status(run_dir: Path, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    state = _read_state(run_dir)
    sup = {"pid": state.get("pid"), "start_time": state.get("start_time")}
    if not state or not _alive(sup):
        print(f"no demo running in {run_dir}", file=out)
        return 3
    print(f"demo running (pid {state['pid']} since {state['started']})", file=out)
    for name, entry in (state.get("children") or {}).items():
        print(f"  {name:10s} {'up  ' if _alive(entry) else 'DOWN'} pid {entry['pid']}  "
              f"log {entry['log']}", file=out)
    for key in ("mqtt_url", "influx_url", "grafana_url", "presenter_url"):
        if state.get(key):
            print(f"  {key:10s} {state[key]}", file=out)
    return 0


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value and value.isdigit() else None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stack.demo",
                                description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("command", nargs="?", default="up", choices=("up", "down", "status", "check"),
                   help="up (default): start; down: stop what up started; status; "
                        "check: only validate the plant file")
    p.add_argument("--plant", type=Path, metavar="FILE",
                   help="the plant to run (default: the shipped demo plant); simulator, "
                        "backfill, fault on cue and overview follow its enterprise/site")
    p.add_argument("--run-dir", type=Path,
                   default=Path(os.environ.get("FACTORY_DEMO_DIR", DEFAULT_RUN_DIR)),
                   help="data, logs and pids (default .run/demo; env FACTORY_DEMO_DIR)")
    p.add_argument("--mqtt-port", type=int, default=_env_int("FACTORY_DEMO_MQTT_PORT"),
                   help="Mosquitto port (default 1883, or a free one if taken)")
    p.add_argument("--influx-port", type=int, default=_env_int("FACTORY_DEMO_INFLUX_PORT"),
                   help="InfluxDB port (default 8086, or a free one if taken)")
    p.add_argument("--influx-rpc-port", type=int,
                   default=_env_int("FACTORY_DEMO_INFLUX_RPC_PORT"),
                   help="InfluxDB RPC port (default 8088, or a free one if taken)")
    p.add_argument("--backfill-days", type=float, default=1.0,
                   help="history written on the first start (default 1; 0 = none)")
    p.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    p.add_argument("--speed", default="1", help="simulator speed (default 1 = real time)")
    p.add_argument("--refresh-s", type=float, default=5.0,
                   help="overview refresh period (default 5)")
    p.add_argument("--once", action="store_true",
                   help="headless: wait for live data, print the overview once, stop")
    p.add_argument("--for", dest="for_s", type=parse_duration, metavar="DURATION",
                   help="headless: print the overview every refresh for DURATION "
                        "(e.g. 30s), then stop")
    p.add_argument("--width", type=int, help="text width in headless mode (default 160)")
    p.add_argument("--grafana-port", type=int, default=3000,
                   help="Grafana port if Grafana is installed (default 3000)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run_dir: Path = args.run_dir.resolve()
    if args.command == "down":
        return down(run_dir)
    if args.command == "status":
        return status(run_dir)
    plant_file: Path | None = args.plant.resolve() if args.plant else None
    try:
        # Before anything starts: a bad plant file is one line naming the key.
        plant = load_plant(plant_file)
        opts = Options(run_dir=run_dir, mqtt_port=args.mqtt_port,
                       influx_port=args.influx_port, influx_rpc_port=args.influx_rpc_port,
                       backfill_days=args.backfill_days, seed=args.seed, speed=args.speed,
                       refresh_s=args.refresh_s, once=args.once, for_s=args.for_s,
                       width=args.width, grafana_port=args.grafana_port,
                       plant_file=plant_file)
    except (DemoError, PlantError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        print(f"plant {plant.enterprise}/{plant.site} ({plant.name}): "
              f"{len(plant.machines)} machines in {len(plant.areas)} areas")
        return 0
    return Demo(opts, plant).run()


if __name__ == "__main__":
    sys.exit(main())
