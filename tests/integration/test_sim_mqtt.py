"""The simulator against the real Mosquitto from tests/conftest.py (never mocked)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from simulator.cli import main
from simulator.publish import MqttSink
from stack.services import free_port
from telemetry.contract import KINDS
from telemetry.endpoints import MqttEndpoint
from telemetry.points import to_line

pytestmark = pytest.mark.integration


class Observer:
    """A subscriber collecting (topic, payload, retained) of one enterprise."""

    def __init__(self, url: str, prefix: str) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.messages: list[tuple[str, dict[str, Any], bool]] = []
        self.qos: dict[str, set[int]] = {}
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"obs-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *a: c.subscribe(f"{prefix}/#", qos=1)
        #: Set by the broker's SUBACK: from then on every message is delivered to us.
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect(host, int(port))
        self.client.loop_start()

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((msg.topic, json.loads(msg.payload), bool(msg.retain)))
            self.qos.setdefault(msg.topic.rsplit("/", 1)[1], set()).add(msg.qos)

    def snapshot(self) -> list[tuple[str, dict[str, Any], bool]]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, pred: Callable[[list[tuple[str, dict[str, Any], bool]]], bool],
                 timeout_s: float = 60.0) -> list[tuple[str, dict[str, Any], bool]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            snap = self.snapshot()
            if pred(snap):
                return snap
            time.sleep(0.05)
        raise AssertionError(f"condition not met within {timeout_s} s "
                             f"({len(self.snapshot())} messages seen)")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def observer(url: str, prefix: str) -> Iterator[Observer]:
    obs = Observer(url, prefix)
    try:
        assert obs.subscribed.wait(10), "no SUBACK from the broker"
        yield obs
    finally:
        obs.close()


@contextmanager
def running_sim(argv: list[str]) -> Iterator[threading.Event]:
    stop = threading.Event()
    rc: list[int] = []
    t = threading.Thread(target=lambda: rc.append(main(argv, stop=stop)), daemon=True)
    t.start()
    try:
        yield stop
    finally:
        stop.set()
        t.join(60)
        assert not t.is_alive(), "simulator did not stop"
        assert rc == [0]


def kind(topic: str) -> str:
    return topic.rsplit("/", 1)[1]


def test_run_publishes_contract_topics_and_retained_meta(mqtt_url: str,
                                                          topic_prefix: str) -> None:
    with observer(mqtt_url, topic_prefix) as obs:
        assert main(["run", "--enterprise", topic_prefix, "--seed", "2", "--duration", "5m",
                     "--speed", "max", "--mqtt-url", mqtt_url, "--log-level", "WARNING"]) == 0
        snap = obs.wait_for(lambda s: sum(kind(t) == "energy" for t, _, _ in s) >= 5
                            and sum(kind(t) == "meta" for t, _, _ in s) >= 2 * 126)
    kinds = {kind(t) for t, _, _ in snap if "/_control/" not in t}
    assert {"meta", "state", "telemetry", "counts", "energy"} <= kinds
    for topic, payload, _ in snap:
        if "/_control/" in topic:
            continue
        to_line(topic, payload)  # contract-conformant, or this raises
        assert set(payload) - {"ts"} <= set(KINDS[kind(topic)].fields) \
            | set(KINDS[kind(topic)].payload_tags)
    tele = [p for t, p, _ in snap if t.endswith("/laser-01/telemetry")]
    assert len(tele) == 61 and all(isinstance(p["temp_c"], float) for p in tele)
    assert {"speed_m_min", "pressure_bar"} <= set(tele[0])
    # A late subscriber sees every machine's retained meta, offline after a clean stop,
    # and the process status (birth / last will topic) offline too.
    with observer(mqtt_url, topic_prefix) as late:
        snap = late.wait_for(lambda s: sum(kind(t) == "meta" for t, _, _ in s) >= 126)
    metas = {t: p for t, p, r in snap if kind(t) == "meta" and r}
    assert len(metas) == 126 and not any(p["online"] for p in metas.values())
    status = [p for t, p, r in snap if "/_control/status/" in t and r]
    assert status and status[0]["online"] is False


def test_birth_set_after_the_first_connect_is_still_published(mqtt_url: str,
                                                               topic_prefix: str) -> None:
    # The CLI sets the birth right after the sink starts connecting: when the CONNACK wins
    # that race, the retained meta must still go out (it is not re-sent until a reconnect).
    sink = MqttSink(MqttEndpoint.from_url(mqtt_url), f"birth-{topic_prefix}",
                    status_topic=f"{topic_prefix}/s/_control/status/x")
    try:
        assert sink.wait_connected(10), "no CONNACK"
        sink.set_birth([("meta", f"{topic_prefix}/s/a/l/m1/meta", {"ts": 1, "online": True})])
        with observer(mqtt_url, topic_prefix) as late:
            snap = late.wait_for(lambda s: any(kind(t) == "meta" for t, _, _ in s), 20)
        assert [(p, r) for t, p, r in snap if kind(t) == "meta"] == \
            [({"ts": 1, "online": True}, True)]
    finally:
        sink.close()


def test_fault_command_reaches_a_running_simulator(mqtt_url: str, topic_prefix: str) -> None:
    argv = ["run", "--enterprise", topic_prefix, "--speed", "60", "--mqtt-url", mqtt_url,
            "--log-level", "WARNING", "--start", "2026-01-05T02:00:00Z"]
    with observer(mqtt_url, topic_prefix) as obs, running_sim(argv):
        obs.wait_for(lambda s: any("/_control/status/" in t and p["online"] for t, p, _ in s))
        assert main(["fault", "laser-03", "--enterprise", topic_prefix, "--code",
                     "LSR-CHILLER", "--duration-min", "3", "--mqtt-url", mqtt_url]) == 0

        def alarms(s: list[tuple[str, dict[str, Any], bool]]) -> list[dict[str, Any]]:
            return [p for t, p, _ in s if t.endswith("/laser-03/alarm")
                    and p["code"] == "LSR-CHILLER"]

        snap = obs.wait_for(lambda s: [a["active"] for a in alarms(s)] == [True, False])
    wos = [p for t, p, _ in snap if t.endswith("/laser-03/workorder")]
    assert wos[0]["status"] == "open" and wos[-1]["status"] == "done"
    assert {w["wo_id"] for w in wos} == {alarms(snap)[0]["wo_id"]}
    states = [p["state"] for t, p, _ in snap if t.endswith("/laser-03/state")]
    assert "FAULT" in states and "MAINTENANCE" in states
    assert alarms(snap)[1]["ts"] - alarms(snap)[0]["ts"] == 180_000


def test_broker_lost_mid_run_reconnects(fresh_mosquitto: Callable[..., Any],
                                        topic_prefix: str) -> None:
    broker = fresh_mosquitto()
    argv = ["run", "--enterprise", topic_prefix, "--speed", "30", "--mqtt-url", broker.url,
            "--log-level", "WARNING"]
    with running_sim(argv):
        with observer(broker.url, topic_prefix) as obs:
            obs.wait_for(lambda s: any(kind(t) == "telemetry" for t, _, _ in s))
        broker.stop()  # the connection drops at once (the process is gone)
        broker.restart()
        with observer(broker.url, topic_prefix) as obs:
            # Live telemetry flows again after the simulator reconnected on its own.
            obs.wait_for(lambda s: sum(kind(t) == "telemetry" for t, _, _ in s) >= 126)


def test_broker_unreachable_at_start_does_not_crash(caplog: pytest.LogCaptureFixture,
                                                    topic_prefix: str) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    assert main(["run", "--enterprise", topic_prefix, "--duration", "1m", "--speed", "max",
                 "--mqtt-url", url, "--log-level", "WARNING"]) == 0
    assert time.monotonic() - t0 < 60
    assert "not reachable" in caplog.text


def test_sigterm_stops_the_process_cleanly(mqtt_url: str, topic_prefix: str) -> None:
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "run", "--enterprise", topic_prefix,
         "--speed", "10", "--mqtt-url", mqtt_url, "--log-level", "INFO"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with observer(mqtt_url, topic_prefix) as obs:
            obs.wait_for(lambda s: any(kind(t) == "telemetry" for t, _, _ in s))
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            obs.wait_for(lambda s: sum(kind(t) == "meta" and p["online"] is False
                                       for t, p, _ in s) == 126)
        assert "Traceback" not in err and "stopping" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_broker_that_comes_up_later_is_connected_to(tmp_path: Any, topic_prefix: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    from stack.services import Mosquitto

    port = free_port()
    broker = Mosquitto(run_dir=tmp_path / "late-broker", port=port)
    argv = ["run", "--enterprise", topic_prefix, "--speed", "30", "--mqtt-url",
            f"mqtt://127.0.0.1:{port}", "--log-level", "WARNING"]
    try:
        with running_sim(argv):
            # The simulator has tried and found no broker (its warning), then it comes up.
            deadline = time.monotonic() + 30
            while "not reachable" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "not reachable" in caplog.text
            broker.start()
            with observer(broker.url, topic_prefix) as obs:
                obs.wait_for(lambda s: sum(kind(t) == "telemetry" for t, _, _ in s) >= 126)
                snap = obs.wait_for(lambda s: sum(kind(t) == "meta" for t, _, _ in s) >= 126)
            assert {p["online"] for t, p, _ in snap if kind(t) == "meta"} == {True}
    finally:
        broker.stop()


def test_mqtt_311_and_qos_per_kind(mqtt_url: str, topic_prefix: str) -> None:
    with observer(mqtt_url, topic_prefix) as obs:
        assert main(["run", "--enterprise", topic_prefix, "--duration", "2m", "--speed", "max",
                     "--mqtt-url", mqtt_url, "--mqtt-protocol", "3.1.1", "--qos",
                     "telemetry=0,state=1,counts=1", "--log-level", "WARNING"]) == 0
        obs.wait_for(lambda s: sum(kind(t) == "counts" for t, _, _ in s) >= 4 * 90)
    assert obs.qos["telemetry"] == {0}
    assert obs.qos["state"] == {1} and obs.qos["counts"] == {1}
