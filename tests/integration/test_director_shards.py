"""The director with two simulator shards on the real Mosquitto: a command given to the
shard that serves the API reaches the shard that owns the machine over the control
topics, and only the owner publishes the alarm."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from simulator.cli import main
from stack.services import free_port

pytestmark = pytest.mark.integration

TOKEN = "test-shard-token-0123456789"


def wait_for(pred: Any, what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if got := pred():
            return got
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout_s} s")


def _call(port: int, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


@contextmanager
def running(argv: list[str]) -> Iterator[None]:
    stop = threading.Event()
    rc: list[int] = []
    t = threading.Thread(target=lambda: rc.append(main(argv, stop=stop)), daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(60)
        assert rc == [0]


def test_a_fault_given_to_one_shard_is_raised_by_the_owner(mqtt_url: str, topic_prefix: str,
                                                           tmp_path: Path) -> None:
    cell = {"name": "Cell", "ideal_cycle_s": 10, "mtbf_h": 1_000_000,
            "changeover_h": 1_000_000, "starve_h": 1_000_000, "microstops_per_h": 0,
            "power_kw": {"off": 0.5, "idle": 3, "run": 20},
            "temp_c": {"idle": 5, "run": 30, "tau_min": 5},
            "vibration_mm_s": {"base": 2.0, "wear_gain": 3.0, "life_h": 100},
            "faults": [{"code": "C-JAM", "message": "Jam", "severity": "warning"}]}
    plant = tmp_path / "plant.yaml"
    plant.write_text(yaml.safe_dump({
        "enterprise": "acme", "site": "lyon", "utc_offset_h": 1, "types": {"cell": cell},
        "calendars": {"main": {"shifts": ["00:00-24:00"]}},
        "areas": [{"id": "shop", "lines": [
            {"id": "l1", "machines": [{"id": "cella", "type": "cell"}]},
            {"id": "l2", "machines": [{"id": "cellb", "type": "cell"}]}]}]}))
    alarms: list[tuple[str, dict[str, Any]]] = []
    host, mport = mqtt_url.removeprefix("mqtt://").split(":")
    obs = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"obs-{uuid.uuid4().hex[:8]}")
    subscribed = threading.Event()
    online: set[str] = set()

    def on_message(c: Any, u: Any, m: paho.MQTTMessage) -> None:
        if "/_control/status/" in m.topic:
            if json.loads(m.payload)["online"]:
                online.add(m.topic.rsplit("/", 1)[1])
        else:
            alarms.append((m.topic, json.loads(m.payload)))

    obs.on_connect = lambda c, *a: c.subscribe([(f"{topic_prefix}/+/+/+/+/alarm", 1),
                                                (f"{topic_prefix}/+/_control/status/+", 1)])
    obs.on_subscribe = lambda *a: subscribed.set()
    obs.on_message = on_message
    obs.connect(host, int(mport))
    obs.loop_start()
    assert subscribed.wait(10)
    port = free_port()
    common = ["run", "--plant", str(plant), "--enterprise", topic_prefix, "--speed", "10",
              "--mqtt-url", mqtt_url, "--log-level", "WARNING"]
    try:
        with running([*common, "--shard", "1/2"]), \
                running([*common, "--shard", "0/2", "--control-port", str(port),
                         "--control-token", TOKEN]):
            snap = wait_for(lambda: (r := _call(port, "GET", "/api/status"))[0] == 200
                            and r[1], "the API")
            assert snap["shard"] == "0/2"
            assert {m["id"]: m["owned"] for m in snap["machines"]} == {"cella": True,
                                                                      "cellb": False}
            # A shard subscribes to the control topics on connect, then publishes its
            # online status: once shard 1's is seen, it hears the director's commands.
            wait_for(lambda: f"factory-sim-{topic_prefix}-1of2" in online, "shard 1 online")
            status, body = _call(port, "POST", "/api/fault", {"machine": "cellb"})
            assert (status, body["message"]) == (202, "fault sent to every shard")
            got = wait_for(lambda: [a for t, a in alarms if "/cellb/" in t and a["active"]],
                           "cellb's alarm from shard 1")
            assert got[0]["code"] == "C-JAM" and len(got) == 1
            assert _call(port, "POST", "/api/speed", {"speed": 20})[0] == 202
            wait_for(lambda: _call(port, "GET", "/api/status")[1]["speed"] == 20, "speed 20")
    finally:
        obs.disconnect()
        obs.loop_stop()
