"""The local stack's services are real and controllable."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from stack.services import Influxd, Mosquitto, free_port, port_open
from telemetry.endpoints import InfluxEndpoint, MqttEndpoint
from telemetry.influx import NETWORK_ERROR, InfluxClient
from telemetry.mqtt import connect_kwargs, make_client

pytestmark = pytest.mark.integration


def test_mosquitto_round_trip(mqtt_url: str, topic_prefix: str) -> None:
    ep = MqttEndpoint.from_url(mqtt_url)
    got = threading.Event()
    received: list[bytes] = []

    def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        received.append(msg.payload)
        got.set()

    sub = make_client(ep, f"{topic_prefix}-sub")
    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_connect = lambda c, *a: c.subscribe(f"{topic_prefix}/#", qos=1)
    sub.connect(**connect_kwargs(sub, ep))
    sub.loop_start()
    assert subscribed.wait(10)
    pub = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    pub.connect(ep.host, ep.port)
    pub.loop_start()
    pub.publish(f"{topic_prefix}/a/b", b"hello", qos=1).wait_for_publish(10)
    assert got.wait(10)
    assert received == [b"hello"]
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()


def test_influx_write_and_query(influx_url: str, influx_db: str) -> None:
    client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    res = client.write(b"m,machine=a v=1.5 1700000000000\nm,machine=b v=2.5 1700000000001")
    assert res.status == 204, res.body
    rows = client.query('SELECT sum("v") FROM "m"')
    assert rows[0]["series"][0]["values"][0][1] == 4.0
    bad = client.write(b"m v=oops 1")
    assert bad.status == 400 and "unable to parse" in bad.body


def test_influxd_stop_and_restart_keeps_data(fresh_influxd: Callable[..., Influxd]) -> None:
    svc = fresh_influxd()
    client = InfluxClient(InfluxEndpoint(url=svc.url, db="factory"), timeout_s=2)
    assert client.write(b"m v=1 1700000000000").ok
    svc.stop()
    assert not port_open(svc.port)
    assert client.write(b"m v=2 1700000000001").status == NETWORK_ERROR
    svc.restart()
    assert client.write(b"m v=2 1700000000001").ok
    rows = client.query('SELECT count("v") FROM "m"')
    assert rows[0]["series"][0]["values"][0][1] == 2


def test_mosquitto_kill_and_restart(fresh_mosquitto: Callable[..., Mosquitto]) -> None:
    svc = fresh_mosquitto()
    svc.kill()
    assert not svc.running()
    svc.restart()
    assert svc.running() and port_open(svc.port)


def test_factory_stack_up_status_down(tmp_path: Path) -> None:
    mqtt, influx, rpc = free_port(), free_port(), free_port()
    base = [sys.executable, "-m", "stack", "--run-dir", str(tmp_path), "--mqtt-port",
            str(mqtt), "--influx-port", str(influx), "--influx-rpc-port", str(rpc)]
    up = subprocess.run([*base, "up"], capture_output=True, text=True, timeout=120)
    try:
        assert up.returncode == 0, up.stderr
        assert f"127.0.0.1:{mqtt}" in up.stdout and f"127.0.0.1:{influx}" in up.stdout
        assert port_open(mqtt) and port_open(influx)
        client = InfluxClient(InfluxEndpoint(url=f"http://127.0.0.1:{influx}"))
        assert ["factory"] in client.query("SHOW DATABASES")[0]["series"][0]["values"]
        again = subprocess.run([*base, "up"], capture_output=True, text=True, timeout=60)
        assert "already running" in again.stdout
        st = subprocess.run([*base, "status"], capture_output=True, text=True, timeout=60)
        assert st.returncode == 0 and "DOWN" not in st.stdout
        state = json.loads((tmp_path / "stack.json").read_text())
        assert set(state) == {"mosquitto", "influxd"}
    finally:
        down = subprocess.run([*base, "down"], capture_output=True, text=True, timeout=60)
    assert down.returncode == 0
    assert not port_open(mqtt) and not port_open(influx)
    st = subprocess.run([*base, "status"], capture_output=True, text=True, timeout=60)
    assert st.returncode == 3 and "not running" in st.stdout


def test_mosquitto_persists_sessions_across_a_restart(
        fresh_mosquitto: Callable[..., Mosquitto], topic_prefix: str) -> None:
    """A queued QoS 1 message for an offline persistent session survives a clean restart."""
    svc = fresh_mosquitto()
    ep = MqttEndpoint.from_url(svc.url)
    sub = make_client(ep, f"{topic_prefix}-persist", clean_start=False, session_expiry_s=3600)
    ready = threading.Event()
    sub.on_subscribe = lambda *a: ready.set()
    sub.on_connect = lambda c, *a: c.subscribe(f"{topic_prefix}/#", qos=1)
    sub.connect(**connect_kwargs(sub, ep))
    sub.loop_start()
    assert ready.wait(10)
    sub.disconnect()
    sub.loop_stop()
    pub = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    pub.connect(ep.host, ep.port)
    pub.loop_start()
    pub.publish(f"{topic_prefix}/queued", b"kept", qos=1).wait_for_publish(10)
    pub.disconnect()
    pub.loop_stop()
    svc.restart()
    assert "Permission denied" not in svc.log_path.read_text()
    got: list[bytes] = []
    arrived = threading.Event()

    def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        got.append(msg.payload)
        arrived.set()

    again = make_client(ep, f"{topic_prefix}-persist", clean_start=False, session_expiry_s=3600)
    again.on_message = on_message
    again.connect(**connect_kwargs(again, ep))
    again.loop_start()
    assert arrived.wait(15)
    again.disconnect()
    again.loop_stop()
    assert got == [b"kept"]
