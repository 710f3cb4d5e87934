"""The demo director end to end: the control API of a running simulator, the real
Mosquitto, the collector and the real influxd (never mocked). With two shards, a command
given to the shard that serves the API reaches the shard that owns the machine over the
control topics, and only the owner publishes the alarm.

A second, two-machine plant (not the demo plant) takes the API's commands; the shipped
stories are played back to back flat out on the demo plant and their labels compared
with what InfluxDB holds."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from collector.config import CollectorConfig
from collector.service import Collector
from simulator.cli import main
from stack.director import DirectorClient
from stack.services import free_port

from .conftest import influx, make_config, run_args, wait_until

pytestmark = pytest.mark.integration

TOKEN = "test-booth-token-0123456789"


def _call(port: int, method: str, path: str, body: Any = None,
          token: str | None = TOKEN) -> tuple[int, dict[str, Any]]:
    return DirectorClient(f"http://127.0.0.1:{port}", TOKEN).request(method, path, body, token)


@contextmanager
def running_sim(argv: list[str]) -> Iterator[None]:
    stop = threading.Event()
    rc: list[int] = []
    t = threading.Thread(target=lambda: rc.append(main(argv, stop=stop)), daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(60)
        assert not t.is_alive(), "simulator did not stop"
        assert rc == [0]


def cell_plant(lines: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A second plant (not the demo plant): cells in Lyon, no random faults."""
    cell = {"name": "Test cell", "ideal_cycle_s": 10, "mtbf_h": 1_000_000,
            "changeover_h": 1_000_000, "starve_h": 1_000_000, "microstops_per_h": 0,
            "power_kw": {"off": 0.5, "idle": 3, "run": 20},
            "temp_c": {"idle": 5, "run": 30, "tau_min": 5},
            "vibration_mm_s": {"base": 2.0, "wear_gain": 3.0, "life_h": 100},
            "faults": [{"code": "C-JAM", "message": "Jam", "severity": "warning",
                        "mttr_min": 10}]}
    return {"enterprise": "acme", "site": "lyon", "utc_offset_h": 1,
            "types": {"cell": cell},
            "calendars": {"main": {"shifts": ["00:00-24:00"]}},
            "areas": [{"id": "shop", "lines": [{"id": k, "machines": v}
                                               for k, v in lines.items()]}]}


def _rows(db: Any, q: str) -> list[dict[str, Any]]:
    series = db.query(q)[0].get("series") or []
    return [dict(zip(s["columns"], v, strict=True)) for s in series for v in s["values"]]


def test_api_fault_is_an_active_alarm_in_influxdb_and_bad_calls_change_nothing(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    plant = tmp_path / "plant.yaml"
    plant.write_text(yaml.safe_dump(cell_plant({"l1": [{"id": "cell", "type": "cell",
                                                                "count": 2}]})))
    running_collectors(make_config(run_args(mqtt_url, influx_url, influx_db,
                                            tmp_path / "spool", "--topic", f"{topic_prefix}/#")))
    db = influx(influx_url, influx_db)
    port = free_port()
    with running_sim(["run", "--plant", str(plant), "--enterprise", topic_prefix,
                      "--speed", "1", "--mqtt-url", mqtt_url, "--control-port", str(port),
                      "--control-token", TOKEN, "--log-level", "WARNING"]):
        wait_until(lambda: _call(port, "GET", "/api/status")[0] == 200, 30, "the API")
        for token in (None, "wrong-token-9876543210"):
            assert _call(port, "POST", "/api/fault", {"machine": "cell-01"}, token)[0] == 401
            assert _call(port, "POST", "/api/reset", {}, token)[0] == 401
            assert _call(port, "POST", "/api/speed", {"speed": 2}, token)[0] == 401
        status, body = _call(port, "POST", "/api/fault", {"machine": "laser-01"})
        assert (status, body["error"]) == (400, "unknown machine 'laser-01'")
        assert _call(port, "POST", "/api/speed", {"speed": 61})[0] == 400
        snap = _call(port, "GET", "/api/status")[1]
        assert snap["speed"] == 1 and not any(m["fault"] for m in snap["machines"])

        status, body = _call(port, "POST", "/api/fault", {"machine": "cell-02", "code": "C-JAM",
                                                          "duration_min": 30})
        assert status == 202, body
        alarms = wait_until(lambda: _rows(db, 'SELECT "active", "code" FROM "alarm" WHERE '
                                              '"machine" = \'cell-02\''), 30,
                            "the alarm in InfluxDB")
        assert [(a["active"], a["code"]) for a in alarms] == [(True, "C-JAM")]
        # The refused calls raised nothing: the only alarm on the plant is the API's.
        assert len(_rows(db, 'SELECT "active" FROM "alarm"')) == 1

        # Speed without a restart: 10 simulated minutes pass within the wait only at 60x.
        t0 = _call(port, "GET", "/api/status")[1]["sim_time"]
        assert _call(port, "POST", "/api/speed", {"speed": 60})[0] == 202
        wait_until(lambda: _call(port, "GET", "/api/status")[1]["speed"] == 60, 10, "60x")
        t0_dt = dt.datetime.fromisoformat(t0)
        wait_until(lambda: dt.datetime.fromisoformat(
            _call(port, "GET", "/api/status")[1]["sim_time"]) - t0_dt
            >= dt.timedelta(minutes=10), 60, "10 simulated minutes at 60x")


def test_two_stories_back_to_back_leave_labels_that_match_influxdb(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    running_collectors(make_config(run_args(mqtt_url, influx_url, influx_db,
                                            tmp_path / "spool", "--topic", f"{topic_prefix}/#")))
    labels = tmp_path / "labels.json"
    assert main(["run", "--enterprise", topic_prefix, "--seed", "5", "--speed", "max",
                 "--start", "2026-01-05T00:00:00Z", "--duration", "60m",
                 "--telemetry-interval-s", "30", "--counts-interval-s", "60",
                 "--state-interval-s", "600", "--mqtt-url", mqtt_url,
                 "--story-loop", "laser-chiller,quality-drift", "--story-quiet", "30m",
                 "--labels-out", str(labels), "--log-level", "WARNING"]) == 0
    stories = json.loads(labels.read_text())["stories"]
    assert [(s["story"], s["run"]) for s in stories] == [("laser-chiller", 1),
                                                         ("quality-drift", 1)]
    # Back to back: the second starts a quiet 30 min after the first one's incident (4 min).
    assert stories[1]["start_ms"] - stories[0]["start_ms"] == (4 + 30) * 60_000
    assert all(s["end_ms"] for s in stories)
    faults = [f for s in stories for f in s["faults"]]
    assert [(f["machine"], f["code"]) for f in faults] == [("laser-03", "LSR-CHILLER"),
                                                           ("brake-01", "PBR-ANGLE")]
    db = influx(influx_url, influx_db)
    for f in faults:
        want = [(f["start_ms"], True, f["code"]), (f["end_ms"], False, f["code"])]

        def alarms(f: dict[str, Any] = f) -> list[tuple[int, bool, str]]:
            rows = _rows(db, 'SELECT "active", "code" FROM "alarm" WHERE '
                             f'"machine" = \'{f["machine"]}\' AND time >= {f["start_ms"]}ms '
                             f'AND time <= {f["end_ms"]}ms')
            return [(r["time"], r["active"], r["code"]) for r in rows]

        wait_until(lambda want=want, alarms=alarms: alarms() == want, 60,
                   f"the alarms of {f['machine']} as labelled")
        done = _rows(db, 'SELECT "status" FROM "workorder" WHERE '
                         f'"wo_id" = \'{f["wo_id"]}\'')
        assert done[0]["time"] == f["start_ms"] and done[0]["status"] == "open"
        assert done[-1]["time"] == f["end_ms"] and done[-1]["status"] == "done"
    # Every scrap event of the quality drift names a machine of the bending line.
    drift = [e for e in stories[1]["events"] if e["action"] == "scrap"]
    assert {e["machine"] for e in drift} == {f"brake-{i:02d}" for i in range(1, 9)}


def test_a_fault_given_to_one_shard_is_raised_by_the_owner(mqtt_url: str, topic_prefix: str,
                                                           tmp_path: Path) -> None:
    plant = tmp_path / "plant.yaml"
    plant.write_text(yaml.safe_dump(cell_plant({"l1": [{"id": "cella", "type": "cell"}],
                                                "l2": [{"id": "cellb", "type": "cell"}]})))
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
        with running_sim([*common, "--shard", "1/2"]), \
                running_sim([*common, "--shard", "0/2", "--control-port", str(port),
                             "--control-token", TOKEN]):
            snap = wait_until(lambda: (r := _call(port, "GET", "/api/status"))[0] == 200
                              and r[1], 30, "the API")
            assert snap["shard"] == "0/2"
            assert {m["id"]: m["owned"] for m in snap["machines"]} == {"cella": True,
                                                                      "cellb": False}
            # A shard subscribes to the control topics on connect, then publishes its
            # online status: once shard 1's is seen, it hears the director's commands.
            wait_until(lambda: f"factory-sim-{topic_prefix}-1of2" in online, 30,
                       "shard 1 online")
            status, body = _call(port, "POST", "/api/fault", {"machine": "cellb"})
            assert (status, body["message"]) == (202, "fault sent to every shard")
            got = wait_until(lambda: [a for t, a in alarms if "/cellb/" in t and a["active"]],
                             30, "cellb's alarm from shard 1")
            assert got[0]["code"] == "C-JAM" and len(got) == 1
            assert _call(port, "POST", "/api/speed", {"speed": 20})[0] == 202
            wait_until(lambda: _call(port, "GET", "/api/status")[1]["speed"] == 20, 30,
                       "speed 20")
    finally:
        obs.disconnect()
        obs.loop_stop()
