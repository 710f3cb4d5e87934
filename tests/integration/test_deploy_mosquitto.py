"""The compose broker's security, exercised for real.

A real Mosquitto runs from deploy/mosquitto/mosquitto.conf and deploy/mosquitto/tls.conf,
with the ACL and user list that `python -m stack.acl` (the compose `plant` service) writes
for the plant's enterprise and a password file written by deploy/mosquitto/render-passwd.sh,
with only the container paths, the ports and (as root) the process user adapted for a
local run. The tests show what the ACLs allow and refuse. A refused publish is invisible
to its sender under MQTT 3.1.1, so each "does not arrive" check ends with a permitted
sentinel message on the same connection: once the sentinel is in, anything published
before it would have been too (MQTT keeps per-client order).

The broker ties every client id to its user name (``use_username_as_clientid``), so each
client of a role that must stay connected beside another of the same role logs in as its
own user (``collector-2``, ``simulator-2``), as the scale-out compose file does.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from stack.acl import render_acl, render_users
from stack.services import Mosquitto, free_port
from telemetry.endpoints import MqttEndpoint
from telemetry.mqtt import connect_kwargs, make_client

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "mosquitto"
ROLES = ("simulator", "collector", "operator", "health")
#: The users of the test broker: a second simulator and two more collectors, as in
#: docker-compose.scale.yml.
USERS = {"simulator": ["simulator", "simulator-2"],
         "collector": ["collector", "collector-2", "collector-3"],
         "operator": ["operator"], "health": ["health"]}
ROLE_OF = {u: r for r, us in USERS.items() for u in us}
E = "hearth"  # the default plant's enterprise id
TELEMETRY = f"{E}/shengzhou/hardware/cutting/laser-01/telemetry"
SALES = f"{E}/shengzhou/_site/sales"
CONTROL = f"{E}/shengzhou/_control/fault"
WAIT_S = 15.0


def render_passwd(out: Path, passwords: dict[str, str],
                  users: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update({f"MQTT_{role.upper()}_PASSWORD": pw for role, pw in passwords.items()})
    args = [str(out)] + ([str(users)] if users else [str(out.parent / "no-users-file")])
    return subprocess.run(["sh", str(DEPLOY / "render-passwd.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def adapt(conf: str, run_dir: Path, port: int, tls_port: int, main: bool = True) -> str:
    """The compose config with its container paths, ports and user adapted to this host."""
    text = (conf.replace("/mosquitto/run/", f"{run_dir}/run/")
            .replace("/mosquitto/acl/", f"{run_dir}/acl/")
            .replace("/mosquitto/config/", f"{DEPLOY}/")
            .replace("/mosquitto/data/", f"{run_dir}/data/")
            .replace("/mosquitto/conf.d", f"{run_dir}/conf.d"))
    listeners = {"listener 1883": f"listener {port} 127.0.0.1",
                 "listener 8883": f"listener {tls_port} 127.0.0.1"}
    lines = [listeners.get(line.strip(), line) for line in text.splitlines()]
    if main and os.geteuid() == 0:  # as root Mosquitto would drop to its own user, which cannot
        lines.append("user root")  # read a pytest temp dir; the container chowns instead
    return "\n".join(lines) + "\n"


@dataclass
class ComposeMosquitto(Mosquitto):
    """Mosquitto started from the committed compose configuration (optionally edited by
    ``edit``, e.g. to show what a setting prevents)."""

    name: str = "mosquitto-compose"
    tls_port: int = field(default_factory=free_port)
    edit: Callable[[str], str] | None = None

    def prepare(self) -> None:
        for sub in ("run", "data", "conf.d", "acl"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        conf = adapt((DEPLOY / "mosquitto.conf").read_text(), self.run_dir, self.port,
                     self.tls_port)
        self.conf_path.write_text(self.edit(conf) if self.edit else conf)
        if (self.run_dir / "run" / "certs").is_dir():  # the TLS override, as compose adds it
            tls = (DEPLOY / "tls.conf").read_text()
            (self.run_dir / "conf.d" / "tls.conf").write_text(
                adapt(tls, self.run_dir, self.port, self.tls_port, main=False))


@dataclass
class Broker:
    svc: ComposeMosquitto
    passwords: dict[str, str]
    certs: Path

    def password(self, user: str) -> str:
        return self.passwords[ROLE_OF[user]]


def start_broker(run_dir: Path, enterprise: str = E, certs: bool = False,
                 edit: Callable[[str], str] | None = None,
                 plant: Path | None = None) -> Broker:
    """A broker from the committed config, with the generated ACL and password file
    (written as the compose `plant` service writes them when `plant` is given)."""
    passwords = {role: secrets.token_urlsafe(16) for role in ROLES}
    for sub in ("run", "acl"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    if plant is not None:
        env = {**os.environ, **{f"MQTT_{r.upper()}_USERS": " ".join(us)
                                for r, us in USERS.items()}}
        acl = subprocess.run([sys.executable, "-m", "stack.acl", "--plant", str(plant),
                              "--out", str(run_dir / "acl")], env=env, capture_output=True,
                             text=True, timeout=60)
        assert acl.returncode == 0, acl.stderr
    else:
        (run_dir / "acl" / "acl").write_text(render_acl(enterprise, USERS))
        (run_dir / "acl" / "users").write_text(render_users(USERS))
    res = render_passwd(run_dir / "run" / "passwd", passwords, run_dir / "acl" / "users")
    assert res.returncode == 0, res.stderr
    cert_dir = run_dir / "run" / "certs"
    if certs:
        gen = subprocess.run([str(ROOT / "scripts" / "gen-certs"), str(cert_dir)],
                             capture_output=True, text=True, timeout=60)
        assert gen.returncode == 0, gen.stderr
    svc = ComposeMosquitto(run_dir=run_dir, port=free_port(), edit=edit)
    svc.start(timeout_s=30)
    return Broker(svc, passwords, cert_dir)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    b = start_broker(tmp_path_factory.mktemp("mosquitto-compose"), certs=True)
    yield b
    b.svc.stop()


class Client:
    """A small synchronous wrapper: connect, subscribe, publish QoS 1, collect messages."""

    def __init__(self, b: Broker, user: str | None, password: str | None,
                 protocol: str = "5", tls: bool = False, ca: Path | None = None,
                 client_id: str | None = None, clean_start: bool = True,
                 session_expiry_s: int = 0, reconnect: bool = True) -> None:
        port = b.svc.tls_port if tls else b.svc.port
        auth = f"{user}:{password}@" if user else ""
        url = f"{'mqtts' if tls else 'mqtt'}://{auth}127.0.0.1:{port}"
        self.ep = MqttEndpoint.from_url(url, protocol=protocol,
                                        ca_file=str(ca) if ca else None)
        self.client = make_client(self.ep, client_id or f"t-{user}-{secrets.token_hex(4)}",
                                  clean_start=clean_start, session_expiry_s=session_expiry_s)
        self.reconnect = reconnect
        self.connected = threading.Event()
        self.session_present: bool | None = None
        self.disconnects: list[ReasonCode] = []
        self.refused: ReasonCode | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.got = threading.Condition()
        self.subscribed = threading.Event()
        self.granted: list[ReasonCode] = []
        self.acks: dict[int, ReasonCode] = {}
        self.acked = threading.Condition()
        c = self.client
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_publish = self._on_publish
        c.on_connect_fail = self._on_connect_fail
        c.on_disconnect = self._on_disconnect
        self.failed = False

    def _on_connect(self, _c: paho.Client, _u: object, flags: paho.ConnectFlags,
                    rc: ReasonCode, _p: object = None) -> None:
        if rc.is_failure:
            self.refused = rc
            self.client.disconnect()
        self.session_present = bool(flags.session_present)
        self.connected.set()

    def _on_disconnect(self, _c: paho.Client, _u: object, _f: object, rc: ReasonCode,
                       _p: object = None) -> None:
        self.disconnects.append(rc)
        if not self.reconnect:
            self.client.disconnect()  # paho would reconnect on its own

    def _on_connect_fail(self, *_: object) -> None:
        self.failed = True
        self.client.disconnect()
        self.connected.set()

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        with self.got:
            self.messages.append((msg.topic, msg.payload))
            self.got.notify_all()

    def _on_subscribe(self, _c: paho.Client, _u: object, _mid: int, rcs: list[ReasonCode],
                      _p: object = None) -> None:
        self.granted = list(rcs)
        self.subscribed.set()

    def _on_publish(self, _c: paho.Client, _u: object, mid: int, rc: ReasonCode,
                    _p: object = None) -> None:
        with self.acked:
            self.acks[mid] = rc
            self.acked.notify_all()

    def connect(self) -> Client:
        self.client.connect_async(**connect_kwargs(self.client, self.ep))
        self.client.loop_start()
        assert self.connected.wait(WAIT_S), "no CONNACK"
        return self

    def ok(self) -> bool:
        return self.connected.is_set() and self.refused is None and not self.failed

    def subscribe(self, topic: str) -> list[ReasonCode]:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(WAIT_S), "no SUBACK"
        return self.granted

    def publish(self, topic: str, payload: bytes = b"{}") -> ReasonCode:
        """Publish at QoS 1 and return the PUBACK reason code (MQTT 5 reports refusals)."""
        info = self.client.publish(topic, payload, qos=1)
        with self.acked:
            assert self.acked.wait_for(lambda: info.mid in self.acks, WAIT_S), "no PUBACK"
            return self.acks[info.mid]

    def wait_for(self, payload: bytes) -> list[tuple[str, bytes]]:
        with self.got:
            assert self.got.wait_for(
                lambda: any(p == payload for _, p in self.messages), WAIT_S), \
                f"sentinel {payload!r} never arrived; got {self.messages}"
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients(broker: Broker) -> Iterator[dict[str, Client]]:
    made: dict[str, Client] = {}
    for role in ROLES:
        made[role] = Client(broker, role, broker.password(role)).connect()
        assert made[role].ok(), f"{role} refused: {made[role].refused}"
    yield made
    for c in made.values():
        c.close()


def test_password_file_holds_hashes_only(broker: Broker) -> None:
    text = (broker.svc.run_dir / "run" / "passwd").read_text()
    assert sorted(line.split(":", 1)[0] for line in text.splitlines()) == sorted(ROLE_OF)
    for pw in broker.passwords.values():
        assert pw not in text
    assert (broker.svc.run_dir / "run" / "passwd").stat().st_mode & 0o077 == 0


def test_render_passwd_never_puts_a_password_on_a_command_line(tmp_path: Path) -> None:
    """A stand-in mosquitto_passwd on PATH records its arguments, then runs the real one."""
    real = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "argv.log"
    stand_in = bin_dir / "mosquitto_passwd"
    stand_in.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real} "$@"\n')
    stand_in.chmod(0o755)
    passwords = {role: secrets.token_urlsafe(16) for role in ROLES}
    users = tmp_path / "users"
    users.write_text(render_users(USERS))
    env = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
           **{f"MQTT_{r.upper()}_PASSWORD": pw for r, pw in passwords.items()}}
    res = subprocess.run(["sh", str(DEPLOY / "render-passwd.sh"), str(tmp_path / "passwd"),
                          str(users)], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    argv = log.read_text()
    assert argv.strip()  # the stand-in was used
    for pw in passwords.values():
        assert pw not in argv and pw not in res.stdout + res.stderr
    assert len((tmp_path / "passwd").read_text().splitlines()) == len(ROLE_OF)


def test_render_passwd_refuses_a_missing_password(tmp_path: Path) -> None:
    res = render_passwd(tmp_path / "passwd", {"simulator": "x", "collector": "y",
                                              "operator": "z"})
    assert res.returncode != 0
    assert "MQTT_HEALTH_PASSWORD is not set" in res.stderr
    assert not (tmp_path / "passwd").exists()


@pytest.mark.parametrize("user,password", [
    ("simulator", "wrong-password"), (None, None), ("nobody", "x"), ("collector", "")])
def test_wrong_or_missing_credentials_are_refused(broker: Broker, user: str | None,
                                                  password: str | None) -> None:
    c = Client(broker, user, password).connect()
    try:
        assert not c.ok()
        assert c.refused is not None and c.refused.value in (0x86, 0x87)  # bad pw / not auth
    finally:
        c.close()


def test_right_password_connects_for_every_role(clients: dict[str, Client]) -> None:
    assert all(c.ok() for c in clients.values())


def test_simulator_publish_outside_its_acl_does_not_arrive(broker: Broker,
                                                           clients: dict[str, Client]) -> None:
    watcher = clients["collector"]
    watcher.subscribe(f"{E}/#")
    sim = clients["simulator"]
    refused = [
        CONTROL,  # the simulator must not fake operator commands
        f"{E}/shengzhou/hardware/cutting/laser-01/bogus",  # not a contract kind
        f"{E}/shengzhou/hardware/cutting/laser-01/telemetry/extra",  # wrong shape
        f"{E}/shengzhou/_site/telemetry",  # machine kind at site level
    ]
    for topic in refused:
        assert sim.publish(topic, b"refused").value == 0x87  # MQTT 5: Not authorized
    assert sim.publish("other/shengzhou/a/l/m/telemetry", b"refused").value == 0x87
    assert sim.publish(TELEMETRY, b"sentinel").value < 0x80  # accepted (0 or 16 "no subscribers")
    got = watcher.wait_for(b"sentinel")
    assert [t for t, p in got if p == b"refused"] == []

    # MQTT 3.1.1 has no refusal code: the broker drops the message silently.
    old = Client(broker, "simulator-2", broker.password("simulator-2"),
                 protocol="3.1.1").connect()
    try:
        old.publish(CONTROL, b"refused-311")
        old.publish(SALES, b"sentinel-311")
        got = watcher.wait_for(b"sentinel-311")
        assert [t for t, p in got if p == b"refused-311"] == []
    finally:
        old.close()


def test_simulator_subscribing_to_everything_gets_only_control(
        clients: dict[str, Client]) -> None:
    sim = clients["simulator"]
    sim.subscribe("#")
    publisher = clients["simulator"]  # its own telemetry must not come back to it
    for topic in (TELEMETRY, SALES, f"{E}/shengzhou/coating/_area/energy"):
        assert publisher.publish(topic, b"data").value < 0x80
    # The operator's command is the one thing the simulator may read: the sentinel.
    assert clients["operator"].publish(CONTROL, b"fault-now").value < 0x80
    got = sim.wait_for(b"fault-now")
    assert got == [(CONTROL, b"fault-now")]


def test_collector_can_subscribe_but_not_publish(broker: Broker,
                                                 clients: dict[str, Client]) -> None:
    col = clients["collector"]
    col.subscribe("+/#")  # the collector's default filter; the ACL narrows it to hearth/#
    assert col.publish(TELEMETRY, b"from-collector").value == 0x87
    assert col.publish(CONTROL, b"from-collector").value == 0x87
    assert clients["simulator"].publish(TELEMETRY, b"sentinel-c").value < 0x80
    got = col.wait_for(b"sentinel-c")
    assert (TELEMETRY, b"sentinel-c") in got
    assert [t for t, p in got if p == b"from-collector"] == []


def test_collectors_share_one_subscription(broker: Broker, clients: dict[str, Client]) -> None:
    second = Client(broker, "collector-2", broker.password("collector-2")).connect()
    try:
        first = clients["collector"]
        for c in (first, second):
            granted = c.subscribe("$share/collectors/+/#")
            assert granted[0].value == 1  # granted QoS 1
        n = 40
        for i in range(n):
            assert clients["simulator"].publish(TELEMETRY, f"s{i}".encode()).value < 0x80
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            seen = [p for c in (first, second) for _, p in c.messages if p.startswith(b"s")]
            if len(seen) >= n:
                break
            time.sleep(0.05)
        a = [p for _, p in first.messages if p.startswith(b"s")]
        b = [p for _, p in second.messages if p.startswith(b"s")]
        assert sorted(a + b) == sorted(f"s{i}".encode() for i in range(n))  # once each
        assert a and b  # the load splits
    finally:
        second.close()


def test_operator_may_publish_only_control(clients: dict[str, Client]) -> None:
    op = clients["operator"]
    watcher = clients["collector"]
    watcher.subscribe(f"{E}/#")
    assert op.publish(TELEMETRY, b"forged").value == 0x87
    assert op.publish(f"{E}/shengzhou/_control/fault/extra", b"forged").value == 0x87
    assert op.publish(CONTROL, b"sentinel-op").value < 0x80
    got = watcher.wait_for(b"sentinel-op")
    assert [t for t, p in got if p == b"forged"] == []


def test_health_user_reads_uptime_only(clients: dict[str, Client]) -> None:
    h = clients["health"]
    h.subscribe("$SYS/broker/uptime")
    with h.got:
        assert h.got.wait_for(lambda: bool(h.messages), WAIT_S)
    assert h.messages[0][0] == "$SYS/broker/uptime"
    assert h.publish(CONTROL, b"x").value == 0x87


def test_tls_listener_with_generated_certificates(broker: Broker) -> None:
    c = Client(broker, "simulator-2", broker.password("simulator-2"), tls=True,
               ca=broker.certs / "ca.crt").connect()
    try:
        assert c.ok()
        assert c.publish(TELEMETRY, b"over-tls").value < 0x80
    finally:
        c.close()
    # Without the private CA the broker's certificate is not trusted.
    untrusted = Client(broker, "simulator-2", broker.password("simulator-2"), tls=True)
    try:
        untrusted.connect()
        assert untrusted.failed and not untrusted.ok()
    finally:
        untrusted.close()


def test_gen_certs_keeps_existing_files(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    subprocess.run([str(ROOT / "scripts" / "gen-certs"), str(out)], check=True,
                   capture_output=True, timeout=60)
    before = (out / "server.key").read_bytes()
    res = subprocess.run([str(ROOT / "scripts" / "gen-certs"), str(out)], check=True,
                         capture_output=True, text=True, timeout=60)
    assert "already has" in res.stdout
    assert (out / "server.key").read_bytes() == before
    assert (out / "server.key").stat().st_mode & 0o077 == 0
    # What it kept is still a server certificate the kept CA signed.
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(out / "ca.crt"),
                             str(out / "server.crt")], capture_output=True, text=True,
                            timeout=60)
    assert verify.returncode == 0 and verify.stdout.strip().endswith(": OK"), verify


def test_simulator_and_collector_work_through_the_locked_down_broker(
        broker: Broker, influx_url: str, influx_db: str, tmp_path: Path) -> None:
    """The real services with their own credentials: nothing of the simulator's is refused,
    the collector stores every message, and no password reaches a log."""

    from telemetry.endpoints import InfluxEndpoint
    from telemetry.influx import InfluxClient

    bin_dir = Path(sys.executable).parent
    # The simulator's retained online/offline status (its last will) must pass the ACL.
    status_watch = Client(broker, "collector-2", broker.password("collector-2")).connect()
    status_watch.subscribe(f"{E}/+/_control/status/+")
    sim_pw, col_pw = broker.passwords["simulator"], broker.passwords["collector"]
    port = broker.svc.port
    col_log = tmp_path / "collector.log"
    with col_log.open("w") as f:
        collector = subprocess.Popen(
            [str(bin_dir / "factory-collector"), "run",
             "--mqtt-url", f"mqtt://collector:{col_pw}@127.0.0.1:{port}",
             "--influx-url", influx_url, "--influx-db", influx_db,
             "--spool-dir", str(tmp_path / "spool"), "--metrics-port", str(free_port()),
             "--client-id", f"t-col-{secrets.token_hex(4)}"],
            stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "connected to" not in col_log.read_text() and time.monotonic() < deadline:
            assert collector.poll() is None, col_log.read_text()
            time.sleep(0.1)
        sim = subprocess.run(
            [str(bin_dir / "factory-sim"), "run", "--seed", "3", "--speed", "max",
             "--duration", "2m", "--sink", "mqtt",
             "--mqtt-url", f"mqtt://simulator:{sim_pw}@127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=120)
        assert sim.returncode == 0, sim.stderr[-2000:]
        published = int(re.search(r"(\d+) messages", sim.stderr).group(1))  # type: ignore[union-attr]
        assert published > 0
        client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
        from telemetry.contract import KINDS

        kinds = tuple(KINDS)

        def stored() -> dict[str, int]:
            counts = {}
            for kind in kinds:
                res = client.query(f'SELECT count(*) FROM "{kind}"')
                rows = res[0].get("series", []) or []
                counts[kind] = max((v for v in rows[0]["values"][0][1:] if v is not None),
                                   default=0) if rows else 0
            return counts

        deadline = time.monotonic() + 90
        while sum(stored().values()) < published and time.monotonic() < deadline:
            time.sleep(0.5)
        # Nothing lost to the ACL (the offline meta at shutdown may come on top).
        counts = stored()
        assert sum(counts.values()) >= published, counts
        for kind in ("state", "telemetry", "counts", "energy", "meta"):
            assert counts[kind] > 0, counts
        assert "not authori" not in sim.stderr.lower()
        client.close()
    finally:
        collector.terminate()
        collector.wait(60)
    with status_watch.got:
        assert status_watch.got.wait_for(
            lambda: any(b'"online": false' in p.replace(b'"online":false', b'"online": false')
                        for _, p in status_watch.messages), WAIT_S), status_watch.messages
    assert any(b"true" in p for _, p in status_watch.messages)  # online, then offline
    status_watch.close()
    logs = col_log.read_text() + sim.stdout + sim.stderr
    assert sim_pw not in logs and col_pw not in logs
    assert "mqtt://collector@127.0.0.1" in col_log.read_text()  # shown without the password


# -- sessions belong to their user (use_username_as_clientid) -----------------------------
COLLECTOR_ID = "factory-collector-1"  # public: it was in docker-compose.yml
SIMULATOR_ID = "factory-simulator"
N_QUEUED = 5


def persistent(b: Broker, user: str, client_id: str, clean_start: bool = False,
               reconnect: bool = False) -> Client:
    return Client(b, user, b.password(user), client_id=client_id, clean_start=clean_start,
                  session_expiry_s=3600, reconnect=reconnect).connect()


def queue_for_collector(b: Broker, tag: str) -> None:
    """The collector subscribes with a persistent session, goes away, N messages queue."""
    victim = persistent(b, "collector", COLLECTOR_ID, clean_start=True)
    assert victim.ok()
    victim.subscribe(f"{E}/#")
    victim.close()
    pub = Client(b, "simulator-2", b.password("simulator-2")).connect()
    for i in range(N_QUEUED):
        assert pub.publish(TELEMETRY, f"{tag}-{i}".encode()).value < 0x80
    pub.close()


def collector_returns(b: Broker, tag: str) -> list[bytes]:
    """The collector comes back to its session and takes what was queued for it (all of
    it is in once a message published after its return has arrived)."""
    victim = persistent(b, "collector", COLLECTOR_ID)
    try:
        victim.subscribe(f"{E}/#")  # as the real collector does on every connect
        pub = Client(b, "simulator-2", b.password("simulator-2")).connect()
        assert pub.publish(TELEMETRY, f"after-{tag}".encode()).value < 0x80
        pub.close()
        victim.wait_for(f"after-{tag}".encode())
        return [p for _, p in victim.messages if p.startswith(f"{tag}-".encode())]
    finally:
        victim.close()


@pytest.mark.parametrize("thief", ["operator", "health", "simulator"])
@pytest.mark.parametrize("clean_start", [False, True], ids=["resume", "discard"])
def test_no_other_role_takes_over_the_collectors_session(broker: Broker, thief: str,
                                                         clean_start: bool) -> None:
    tag = f"q-{thief}-{clean_start}-{secrets.token_hex(3)}"
    queue_for_collector(broker, tag)
    t = persistent(broker, thief, COLLECTOR_ID, clean_start=clean_start)
    try:
        assert t.ok()
        # Resuming the collector's session would say session_present and hand over the
        # queued messages at once; the thief gets a session of its own.
        assert not t.session_present
        if thief == "simulator":  # the one thief that may read something: a sentinel
            t.subscribe(f"{E}/+/_control/+")
            sentinel = f"sentinel-{tag}".encode()
            assert clients_publish_control(broker, sentinel)
            t.wait_for(sentinel)
        assert not [p for _, p in t.messages if p.startswith(f"{tag}-".encode())]
    finally:
        t.close()
    got = collector_returns(broker, tag)
    assert sorted(got) == sorted(f"{tag}-{i}".encode() for i in range(N_QUEUED))


def clients_publish_control(b: Broker, payload: bytes) -> bool:
    op = Client(b, "operator", b.password("operator")).connect()
    try:
        return op.publish(CONTROL, payload).value < 0x80
    finally:
        op.close()


def test_without_the_setting_another_role_steals_the_session(tmp_path: Path) -> None:
    """The same attack against the committed config minus `use_username_as_clientid`: the
    operator discards the collector's session and the queued messages are gone (the
    finding this setting fixes; it shows the test above can fail)."""
    b = start_broker(tmp_path, edit=lambda conf: conf.replace(
        "use_username_as_clientid true", "use_username_as_clientid false"))
    try:
        tag = f"q-{secrets.token_hex(3)}"
        queue_for_collector(b, tag)
        persistent(b, "operator", COLLECTOR_ID, clean_start=True).close()
        assert collector_returns(b, tag) == []
    finally:
        b.svc.stop()


@pytest.mark.parametrize("thief", ["operator", "health", "collector"])
def test_no_other_role_kicks_the_simulator_or_reads_its_commands(broker: Broker,
                                                                 thief: str) -> None:
    sim = Client(broker, "simulator", broker.password("simulator"), client_id=SIMULATOR_ID,
                 reconnect=False).connect()
    try:
        assert sim.ok()
        sim.subscribe(f"{E}/+/_control/+")
        t = persistent(broker, thief, SIMULATOR_ID, clean_start=True)
        try:
            assert t.ok()
            payload = f"fault-after-{thief}".encode()
            assert clients_publish_control(broker, payload)
            sim.wait_for(payload)  # still connected: the command reached it
            assert sim.disconnects == []
            assert not [p for _, p in t.messages if p == payload]
        finally:
            t.close()
    finally:
        sim.close()


def test_a_reconnecting_thief_during_publishing_loses_nothing_for_the_collector(
        broker: Broker) -> None:
    """The live case of the finding: the collector online, the operator connecting under
    its id again and again while 200 messages are published: all 200 reach the collector."""
    col = persistent(broker, "collector", COLLECTOR_ID, clean_start=True, reconnect=False)
    stop = threading.Event()

    def thief_loop() -> None:
        while not stop.is_set():
            persistent(broker, "operator", COLLECTOR_ID, clean_start=True).close()

    try:
        col.subscribe(f"{E}/#")
        thread = threading.Thread(target=thief_loop, daemon=True)
        thread.start()
        pub = Client(broker, "simulator-2", broker.password("simulator-2")).connect()
        n = 200
        for i in range(n):
            assert pub.publish(TELEMETRY, f"live-{i}".encode()).value < 0x80
        pub.close()
        with col.got:
            col.got.wait_for(lambda: sum(p.startswith(b"live-") for _, p in col.messages)
                             >= n, WAIT_S)
        stop.set()
        thread.join(WAIT_S)
        assert sorted(p for _, p in col.messages if p.startswith(b"live-")) == \
            sorted(f"live-{i}".encode() for i in range(n))
        assert col.disconnects == []
    finally:
        stop.set()
        col.close()


# -- broker limits ----------------------------------------------------------------------
def conf_value(key: str) -> int:
    m = re.search(rf"^{key}\s+(\d+)\s*$", (DEPLOY / "mosquitto.conf").read_text(), re.M)
    assert m, f"{key} missing from mosquitto.conf"
    return int(m.group(1))


def test_the_largest_payload_the_collector_takes_passes_and_10_mb_does_not(
        broker: Broker, clients: dict[str, Client]) -> None:
    from collector.mapping import DEFAULT_MAX_PAYLOAD_BYTES

    watcher = clients["collector"]
    watcher.subscribe(f"{E}/#")
    long_topic = f"{E}/{'s' * 64}/{'a' * 64}/{'l' * 64}/{'m' * 64}/telemetry"
    big = b"x" * DEFAULT_MAX_PAYLOAD_BYTES
    assert clients["simulator"].publish(long_topic, big).value < 0x80
    assert (long_topic, big) in watcher.wait_for(big)
    for protocol in ("5", "3.1.1"):
        huge = Client(broker, "simulator-2", broker.password("simulator-2"),
                      protocol=protocol, reconnect=False).connect()
        gone = threading.Event()
        huge.client.on_disconnect = lambda *_a, gone=gone: gone.set()
        try:
            huge.client.publish(TELEMETRY, b"h" * 10_000_000, qos=1)
            assert gone.wait(WAIT_S), f"MQTT {protocol}: still connected after 10 MB"
            assert huge.acks == {}  # never acknowledged
        finally:
            huge.close()
    assert clients["simulator"].publish(TELEMETRY, b"after-huge").value < 0x80
    got = watcher.wait_for(b"after-huge")
    assert not [p for _, p in got if p.startswith(b"hh")]


def test_queued_bytes_are_bounded(tmp_path: Path) -> None:
    """max_queued_bytes is effective: with the committed config scaled down to 20 kB, an
    absent session keeps about that much and no more (the committed bound is sized in
    docs/reliability.md)."""
    assert conf_value("max_queued_bytes") > 0 and conf_value("max_queued_messages") > 0
    bound = 20_000
    b = start_broker(tmp_path, edit=lambda conf: re.sub(
        r"^max_queued_bytes .*$", f"max_queued_bytes {bound}", conf, flags=re.M))
    try:
        tag = "bytes"
        victim = persistent(b, "collector", COLLECTOR_ID, clean_start=True)
        victim.subscribe(f"{E}/#")
        victim.close()
        pub = Client(b, "simulator-2", b.password("simulator-2")).connect()
        for i in range(100):
            assert pub.publish(TELEMETRY, f"{tag}-{i:03d}".encode() + b"p" * 992).value < 0x80
        pub.close()
        n = len(collector_returns(b, tag))
        assert 10 <= n <= bound // 1000 + 1, n
    finally:
        b.svc.stop()


def test_the_healthcheck_command_works_without_a_password_on_its_command_line(
        broker: Broker, tmp_path: Path) -> None:
    """The compose health check, run as written (the password in mosquitto_sub's own
    options file, as entrypoint.sh writes it)."""
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    test = compose["services"]["mosquitto"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    command = test[1].replace("$$", "$")
    assert "-P" not in command.split() and "PASSWORD" not in command
    entry = (DEPLOY / "entrypoint.sh").read_text()
    assert "$run/health/mosquitto_sub" in entry
    health = tmp_path / "run" / "health"
    health.mkdir(parents=True)
    (health / "mosquitto_sub").write_text(f"-u health\n-P {broker.password('health')}\n")
    command = (command.replace("/mosquitto/run/", f"{tmp_path}/run/")
               .replace("-p 1883", f"-p {broker.svc.port}"))
    ok = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    (health / "mosquitto_sub").write_text("-u health\n-P wrong\n")
    bad = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0


def test_the_simulators_heartbeat_says_it_publishes(broker: Broker, tmp_path: Path) -> None:
    """The compose health check of the simulator (`stack.health fresh` on the heartbeat
    file) turns healthy only once the broker acknowledges what it publishes."""
    from stack.health import check_fresh

    beat = tmp_path / "beat"
    pw = broker.password("simulator-2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "run", "--speed", "30", "--sink", "mqtt",
         "--mqtt-url", f"mqtt://simulator-2:{pw}@127.0.0.1:{broker.svc.port}",
         "--heartbeat-file", str(beat), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert check_fresh(str(beat), 60) is not None  # not before anything was acked
        deadline = time.monotonic() + 60
        while not beat.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.2)
        assert check_fresh(str(beat), 60) is None
        assert '"acked"' in beat.read_text()
    finally:
        proc.terminate()
        proc.wait(60)


def test_the_acl_follows_a_second_plants_enterprise(tmp_path: Path) -> None:
    """The ACL `python -m stack.acl` writes for another plant (enterprise `acme`, site
    `lyon`): that plant's simulator gets every message through to the collector, while
    the demo plant's topics (`hearth/...`) are refused to the same users."""
    plant = ROOT / "tests" / "data" / "acme-lyon.yaml"
    b = start_broker(tmp_path, plant=plant)
    collector = Client(b, "collector", b.password("collector")).connect()
    operator = Client(b, "operator", b.password("operator")).connect()
    try:
        assert collector.subscribe("+/#")[0].value == 1
        sim = subprocess.run(
            [sys.executable, "-m", "simulator", "run", "--plant", str(plant), "--seed", "3",
             "--speed", "max", "--duration", "10m", "--sink", "mqtt", "--log-level", "WARNING",
             "--mqtt-url", f"mqtt://simulator:{b.password('simulator')}@127.0.0.1:"
                           f"{b.svc.port}"],
            capture_output=True, text=True, timeout=120)
        assert sim.returncode == 0, sim.stderr[-2000:]
        assert "not authori" not in sim.stderr.lower()
        # The simulator's own topics and the operator's commands, under acme, pass ...
        assert operator.publish("acme/lyon/_control/fault", b"sentinel-acme").value < 0x80
        got = collector.wait_for(b"sentinel-acme")
        machines = {t.split("/")[4] for t, _ in got
                    if t.startswith("acme/lyon/") and t.endswith("/telemetry")}
        from simulator.plant import load_plant

        assert machines == {m.id for m in load_plant(plant).machines}
        assert {t.split("/")[0] for t, _ in got} == {"acme"}
        # ... and the demo plant's prefix is no longer anyone's.
        sim_user = Client(b, "simulator-2", b.password("simulator-2")).connect()
        try:
            assert sim_user.publish(TELEMETRY, b"forged").value == 0x87
            own = "acme/lyon/moulding/presses/press-01/telemetry"
            assert sim_user.publish(own, b"sentinel-sim").value < 0x80
        finally:
            sim_user.close()
        assert operator.publish(CONTROL, b"forged").value == 0x87
        got = collector.wait_for(b"sentinel-sim")
        assert [t for t, p in got if p == b"forged"] == []
        acl = (tmp_path / "acl" / "acl").read_text()
        assert "hearth" not in acl and "topic write acme/+/+/+/+/telemetry" in acl
    finally:
        collector.close()
        operator.close()
        b.svc.stop()
