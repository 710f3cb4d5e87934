"""The collector end to end against the real Mosquitto and influxd."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.cli import main
from collector.config import CollectorConfig
from collector.deadletter import decode_payload
from collector.service import Collector
from stack.services import free_port
from telemetry.topics import machine_topic

from .conftest import (
    T0_MS,
    Publisher,
    contract_messages,
    counts_in_db,
    expected_counts,
    influx,
    make_config,
    run_args,
    wait_until,
)

pytestmark = pytest.mark.integration


def test_every_message_once_with_values(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    cfg = make_config(run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool",
                               "--topic", f"{topic_prefix}/#"))
    c = running_collectors(cfg)
    msgs = contract_messages(topic_prefix, 6000)
    pub = Publisher(mqtt_url)
    pub.publish(msgs)
    want = expected_counts(msgs)
    db = influx(influx_url, influx_db)
    wait_until(lambda: counts_in_db(db, list(want)) == want, 60, f"counts {want}")
    # Redelivery (the same messages again) overwrites: still exactly once.
    pub.publish(msgs[:1000])
    wait_until(lambda: c.metrics.total_written >= 7000, 60, "second pass written")
    assert counts_in_db(db, list(want)) == want
    pub.close()
    # Spot values: types are stable (20 -> float) and values exact.
    rows = db.query(f"SELECT temp_c, power_kw FROM telemetry WHERE machine='m007' AND "
                    f"time = {T0_MS}ms")[0]["series"][0]
    assert rows["values"] == [[T0_MS, 20.0, 7 * 0.25]]
    fields = db.query("SHOW FIELD KEYS FROM counts")[0]["series"][0]["values"]
    assert dict(map(tuple, fields))["good"] == "integer"
    assert dict(map(tuple, db.query("SHOW FIELD KEYS FROM telemetry")[0]["series"][0]
                        ["values"]))["temp_c"] == "float"
    sales = db.query("SELECT units, amount_cny, region FROM sales WHERE units = 81")
    assert sales[0]["series"][0]["values"][0][1:] == [81, 850.5, "East China"]


#: (topic suffix after the prefix, payload, expected dead-letter reason)
BAD_CORPUS: list[tuple[str, bytes, str]] = [
    ("/sz/hw/l/m/telemetry", b"not json", "bad_json"),
    ("/sz/hw/l/m/telemetry", b"[1, 2]", "not_object"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "temp_c": NaN}', "non_finite"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "temp_c": Infinity}', "non_finite"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "temp_c": "hot"}', "wrong_type"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "temp_c": true}', "wrong_type"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "temp_c": null}', "null_value"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "temp_c": {"a": 1}}', "wrong_type"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "temp_c": 1' + b"0" * 400 + b"}", "out_of_range"),
    ("/sz/hw/l/m/counts", b'{"ts": 1, "good": 1.5, "scrap": 0}', "wrong_type"),
    ("/sz/hw/l/m/counts", b'{"ts": 1, "good": 99999999999999999999, "scrap": 0}',
     "int_out_of_range"),
    ("/sz/hw/l/m/counts", b'{"ts": 1, "good": 1}', "missing_field"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1}', "no_fields"),
    ("/sz/hw/l/m/telemetry", b'{"ts": "yesterday", "temp_c": 1}', "bad_timestamp"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1e30, "temp_c": 1}', "bad_timestamp"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "time": 1}', "reserved_key"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "machine": 1}', "tag_clash"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "a\\nb": 1}', "bad_field_key"),
    ("/sz/hw/l/m/alarm", b'{"ts": 1, "code": "x\\ny", "active": true}', "bad_string"),
    ("/sz/hw/l/m/alarm", b'{"ts": 1, "code": "E1", "active": true, "severity": 3}',
     "wrong_type"),
    ("/sz/hw/l/m/alarm", b'{"ts": 1, "code": "\\ud800", "active": true}', "bad_unicode"),
    ("/sz/hw/l/m/telemetry", b"\xff\xfe{}", "bad_encoding"),
    ("/sz/hw/l/m/telemetry", b'{"ts": 1, "temp_c": 1, "pad": "' + b"x" * 70000 + b'"}',
     "oversize"),
    ("/sz/hw/l/m/bogus", b'{"ts": 1, "v": 1}', "unknown_measurement"),
    ("/sz/hw/_area/telemetry", b'{"ts": 1, "temp_c": 1}', "unknown_measurement"),
    ("/sz/hw/l/m/x/telemetry", b'{"ts": 1, "temp_c": 1}', "unknown_topic"),
    ("/sz/telemetry", b'{"ts": 1, "temp_c": 1}', "unknown_topic"),
    ("/sz/hw/l/bad machine/telemetry", b'{"ts": 1, "temp_c": 1}', "bad_topic_level"),
    ("/sz/hw/l/a,b=c/telemetry", b'{"ts": 1, "temp_c": 1}', "bad_topic_level"),
    ("/sz/hw/l/end\\/telemetry", b'{"ts": 1, "temp_c": 1}', "bad_topic_level"),
    ("/sz/hw//m/telemetry", b'{"ts": 1, "temp_c": 1}', "bad_topic_level"),
    ("/sz/hw/l/_area/telemetry", b'{"ts": 1, "temp_c": 1}', "bad_topic_level"),
    ("/sz/hw/l/\u6a5f\u68b0/telemetry".encode().decode(), b'{"ts": 1, "temp_c": 1}',
     "bad_topic_level"),
]


def test_bad_corpus_is_dead_lettered_and_nothing_stray_stored(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    cfg = make_config(run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool",
                               "--topic", f"{topic_prefix}/#"))
    c = running_collectors(cfg)
    pub = Publisher(mqtt_url)
    pub.publish([(topic_prefix + t, p) for t, p, _ in BAD_CORPUS])
    good_topic = machine_topic(topic_prefix, "sz", "hw", "l", "m", "telemetry")
    pub.publish([(good_topic, json.dumps({"ts": T0_MS, "temp_c": 1.5}).encode()),
                 (f"{topic_prefix}/sz/_control/fault", b'{"machine": "m"}')])
    pub.close()
    db = influx(influx_url, influx_db)
    wait_until(lambda: c.metrics.total_written >= 1, 30, "the good message written")
    records = [json.loads(line) for line in cfg.deadletter_file.read_text().splitlines()]
    got = {(r["topic"][len(topic_prefix):], decode_payload(r)): r["reason"] for r in records}
    head = cfg.deadletter_payload_bytes  # a record keeps the payload's first bytes
    for topic, payload, reason in BAD_CORPUS:
        key = (topic, payload[:head])
        assert got.get(key) == reason, (topic, payload[:60], got.get(key))
    assert len(records) == len(BAD_CORPUS)
    assert sum(c.metrics.deadletter_counts.values()) == len(BAD_CORPUS)
    # Nothing stray reached InfluxDB: one measurement, the contract's tags, one field.
    assert db.query("SHOW MEASUREMENTS")[0]["series"][0]["values"] == [["telemetry"]]
    tag_keys = [v[0] for v in db.query("SHOW TAG KEYS")[0]["series"][0]["values"]]
    assert tag_keys == ["area", "enterprise", "line", "machine", "site"]
    assert db.query("SHOW FIELD KEYS")[0]["series"][0]["values"] == [["temp_c", "float"]]
    assert c.intake.connected.is_set()


def test_metrics_health_and_stats_in_influx(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    port = free_port()
    conf = tmp_path / "collector.yaml"
    conf.write_text("collector:\n  stats_interval_s: 0.5\n")
    argv = run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool", "--topic",
                    f"{topic_prefix}/#")
    argv[argv.index("--metrics-port") + 1] = str(port)
    cfg = make_config(argv, conf)
    c = running_collectors(cfg)
    pub = Publisher(mqtt_url)
    pub.publish(contract_messages(topic_prefix, 200))
    pub.publish([(machine_topic(topic_prefix, "sz", "hw", "l", "m", "telemetry"), b"{")])
    pub.close()
    wait_until(lambda: c.metrics.total_written >= 200, 30, "200 written")
    base = f"http://127.0.0.1:{port}"
    text = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    assert 'collector_messages_received_total{kind="telemetry"} 80.0' in text
    assert 'collector_deadletters_total{reason="bad_json"} 1.0' in text
    assert 'collector_write_batches_total{status="204"}' in text
    health = json.loads(urllib.request.urlopen(f"{base}/healthz", timeout=10).read())
    assert health["ok"] is True and health["mqtt_connected"] is True
    db = influx(influx_url, influx_db)

    def stats() -> list[int] | None:
        res = db.query("SELECT last(points_written), last(msgs_in) FROM collector_stats")
        series = res[0].get("series")
        return series[0]["values"][0][1:] if series else None

    wait_until(lambda: (stats() or [0])[0] >= 200, 30, "collector_stats in InfluxDB")
    dl = db.query("SELECT last(count) FROM collector_deadletters GROUP BY reason")
    assert dl[0]["series"][0]["tags"] == {"reason": "bad_json"}


def test_check_reports_ok_and_one_line_errors(
        mqtt_url: str, influx_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    args = run_args(mqtt_url, influx_url, "factory", tmp_path / "spool")
    args[0] = "check"
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("ok: config valid")
    args[args.index("--influx-url") + 1] = f"http://127.0.0.1:{free_port()}"
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "connection refused: nothing listens on" in err[0]
    bad = tmp_path / "bad.yaml"
    bad.write_text("collector:\n  batch_max_points: -3\n")
    assert main([*args, "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "collector.batch_max_points" in err[0]


def test_dead_letters_also_go_to_an_mqtt_topic_without_looping(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    import threading

    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    dl_topic = f"{topic_prefix}/deadletters"  # inside the collector's own filter on purpose
    conf = tmp_path / "c.yaml"
    conf.write_text(f"collector:\n  deadletter_topic: {dl_topic}\n")
    cfg = make_config(run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool",
                               "--topic", f"{topic_prefix}/#"), conf)
    c = running_collectors(cfg)
    got: list[dict[str, str]] = []
    arrived = threading.Event()
    sub = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)

    def on_message(_c: paho.Client, _u: object, m: paho.MQTTMessage) -> None:
        got.append(json.loads(m.payload))
        arrived.set()

    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    host, port = mqtt_url.rsplit("/", 1)[1].split(":")
    sub.connect(host, int(port))
    sub.subscribe(dl_topic, qos=1)
    sub.loop_start()
    assert subscribed.wait(10)
    pub = Publisher(mqtt_url)
    pub.publish([(machine_topic(topic_prefix, "sz", "hw", "l", "m", "telemetry"), b"nope")])
    pub.close()
    assert arrived.wait(30)
    wait_until(lambda: (c.metrics.registry.get_sample_value(
        "collector_messages_ignored_total", {"reason": "deadletter_topic"}) or 0) >= 1, 30,
        "the collector to see (and ignore) its own dead letter")
    sub.loop_stop()
    sub.disconnect()
    assert got[0]["reason"] == "bad_json" and got[0]["payload"] == "nope"
    assert c.metrics.total_deadletters == 1  # no loop: its own dead letter is not re-judged
