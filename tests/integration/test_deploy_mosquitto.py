"""The compose broker's security, exercised for real.

A real Mosquitto runs from deploy/mosquitto/mosquitto.conf, deploy/mosquitto/acl,
deploy/mosquitto/tls.conf and a password file written by deploy/mosquitto/render-passwd.sh,
with only the container paths, the ports and (as root) the process user adapted for a
local run. The tests show what the ACLs allow and refuse. A refused publish is invisible
to its sender under MQTT 3.1.1, so each "does not arrive" check ends with a permitted
sentinel message on the same connection: once the sentinel is in, anything published
before it would have been too (MQTT keeps per-client order).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from stack.services import Mosquitto, free_port
from telemetry.endpoints import MqttEndpoint
from telemetry.mqtt import connect_kwargs, make_client

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "mosquitto"
ROLES = ("simulator", "collector", "operator", "health")
E = "hearth"  # the ACL's enterprise prefix (the default plant's)
TELEMETRY = f"{E}/shengzhou/hardware/cutting/laser-01/telemetry"
SALES = f"{E}/shengzhou/_site/sales"
CONTROL = f"{E}/shengzhou/_control/fault"
WAIT_S = 15.0


def render_passwd(out: Path, passwords: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update({f"MQTT_{role.upper()}_PASSWORD": pw for role, pw in passwords.items()})
    return subprocess.run(["sh", str(DEPLOY / "render-passwd.sh"), str(out)], env=env,
                          capture_output=True, text=True, timeout=60)


def adapt(conf: str, run_dir: Path, port: int, tls_port: int, main: bool = True) -> str:
    """The compose config with its container paths, ports and user adapted to this host."""
    text = (conf.replace("/mosquitto/run/", f"{run_dir}/run/")
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
    """Mosquitto started from the committed compose configuration."""

    name: str = "mosquitto-compose"
    tls_port: int = field(default_factory=free_port)

    def prepare(self) -> None:
        for sub in ("run", "data", "conf.d"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        conf = (DEPLOY / "mosquitto.conf").read_text()
        self.conf_path.write_text(adapt(conf, self.run_dir, self.port, self.tls_port))
        tls = (DEPLOY / "tls.conf").read_text()
        (self.run_dir / "conf.d" / "tls.conf").write_text(
            adapt(tls, self.run_dir, self.port, self.tls_port, main=False))


@dataclass
class Broker:
    svc: ComposeMosquitto
    passwords: dict[str, str]
    certs: Path


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    run_dir = tmp_path_factory.mktemp("mosquitto-compose")
    passwords = {role: secrets.token_urlsafe(16) for role in ROLES}
    (run_dir / "run").mkdir()
    res = render_passwd(run_dir / "run" / "passwd", passwords)
    assert res.returncode == 0, res.stderr
    certs = run_dir / "run" / "certs"
    gen = subprocess.run([str(ROOT / "scripts" / "gen-certs"), str(certs)],
                         capture_output=True, text=True, timeout=60)
    assert gen.returncode == 0, gen.stderr
    svc = ComposeMosquitto(run_dir=run_dir, port=free_port())
    svc.start(timeout_s=30)
    yield Broker(svc, passwords, certs)
    svc.stop()


class Client:
    """A small synchronous wrapper: connect, subscribe, publish QoS 1, collect messages."""

    def __init__(self, b: Broker, user: str | None, password: str | None,
                 protocol: str = "5", tls: bool = False, ca: Path | None = None) -> None:
        port = b.svc.tls_port if tls else b.svc.port
        auth = f"{user}:{password}@" if user else ""
        url = f"{'mqtts' if tls else 'mqtt'}://{auth}127.0.0.1:{port}"
        self.ep = MqttEndpoint.from_url(url, protocol=protocol,
                                        ca_file=str(ca) if ca else None)
        self.client = make_client(self.ep, f"t-{user}-{secrets.token_hex(4)}")
        self.connected = threading.Event()
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
        self.failed = False

    def _on_connect(self, _c: paho.Client, _u: object, _f: object, rc: ReasonCode,
                    _p: object = None) -> None:
        if rc.is_failure:
            self.refused = rc
            self.client.disconnect()
        self.connected.set()

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
        made[role] = Client(broker, role, broker.passwords[role]).connect()
        assert made[role].ok(), f"{role} refused: {made[role].refused}"
    yield made
    for c in made.values():
        c.close()


def test_password_file_holds_hashes_only(broker: Broker) -> None:
    text = (broker.svc.run_dir / "run" / "passwd").read_text()
    assert sorted(line.split(":", 1)[0] for line in text.splitlines()) == sorted(ROLES)
    for pw in broker.passwords.values():
        assert pw not in text
    assert (broker.svc.run_dir / "run" / "passwd").stat().st_mode & 0o077 == 0


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
    old = Client(broker, "simulator", broker.passwords["simulator"], protocol="3.1.1").connect()
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
    second = Client(broker, "collector", broker.passwords["collector"]).connect()
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
    c = Client(broker, "simulator", broker.passwords["simulator"], tls=True,
               ca=broker.certs / "ca.crt").connect()
    try:
        assert c.ok()
        assert c.publish(TELEMETRY, b"over-tls").value < 0x80
    finally:
        c.close()
    # Without the private CA the broker's certificate is not trusted.
    untrusted = Client(broker, "simulator", broker.passwords["simulator"], tls=True)
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
    assert shutil.which("openssl")


def test_simulator_and_collector_work_through_the_locked_down_broker(
        broker: Broker, influx_url: str, influx_db: str, tmp_path: Path) -> None:
    """The real services with their own credentials: nothing of the simulator's is refused,
    the collector stores every message, and no password reaches a log."""
    import sys

    from telemetry.endpoints import InfluxEndpoint
    from telemetry.influx import InfluxClient

    bin_dir = Path(sys.executable).parent
    # The simulator's retained online/offline status (its last will) must pass the ACL.
    status_watch = Client(broker, "collector", broker.passwords["collector"]).connect()
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
