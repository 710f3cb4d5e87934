"""Timestamp-window and cardinality dead letters through the real Mosquitto and influxd:
the database's retention read at start, seconds in a ms field, a far-future point, a
message with too many field keys, an over-long tag value, an invisible character."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.config import CollectorConfig
from collector.service import Collector
from telemetry.topics import machine_topic, site_topic

from .conftest import Publisher, count, influx, make_config, run_args, wait_until

pytestmark = pytest.mark.integration


def test_window_and_cardinality_dead_letters(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    db = influx(influx_url, influx_db)
    db.query(f'CREATE RETENTION POLICY "day" ON "{influx_db}" DURATION 24h REPLICATION 1 '
             "DEFAULT", db="")
    conf = tmp_path / "collector.yaml"
    conf.write_text("mapping:\n  limits: {max_fields_per_measurement: 50}\n")
    c = running_collectors(make_config(run_args(
        mqtt_url, influx_url, influx_db, tmp_path / "spool", "--topic", f"{topic_prefix}/#"),
        conf))
    assert c.mapper.config.max_age_s == 86_400  # read from the database at start
    now = int(time.time() * 1000)
    t = machine_topic(topic_prefix, "sz", "hw", "l1", "m1", "telemetry")
    sales = site_topic(topic_prefix, "sz", "sales")
    cases = [
        (t, {"ts": now - 25 * 3600_000, "temp_c": 1}, "out_of_window"),  # past retention
        (t, {"ts": now // 1000, "temp_c": 1}, "out_of_window"),  # seconds in a ms field
        (t, {"ts": now + 2 * 3600_000, "temp_c": 1}, "out_of_window"),  # 2 h ahead
        (t, {"ts": now, **{f"f{i}": 1.0 for i in range(3008)}}, "cardinality"),
        (sales, {"ts": now, "units": 1, "amount_cny": 1.0, "region": "r" * 40_000},
         "cardinality"),
        (t, {"ts": now, "temp\u200b_c": 1}, "invisible_char"),
    ]
    pub = Publisher(mqtt_url)
    pub.publish([(topic, json.dumps(p).encode()) for topic, p, _ in cases])
    pub.publish([(t, json.dumps({"ts": now, "temp_c": 2.5}).encode())])
    pub.close()
    wait_until(lambda: c.metrics.total_written >= 1, 30, "the good message written")
    wait_until(lambda: c.metrics.total_deadletters >= len(cases), 30, "the dead letters")
    records = [json.loads(x) for x in c.cfg.deadletter_file.read_text().splitlines()]
    assert [r["reason"] for r in records] == [reason for _, _, reason in cases]
    assert "looks like seconds" in records[1]["detail"]
    assert "3008 field keys" in records[3]["detail"]
    assert count(db, "telemetry", "temp_c") == 1
    fields = {v[0] for v in db.query("SHOW FIELD KEYS FROM telemetry")[0]["series"][0]
              ["values"]}
    assert fields == {"temp_c"}
    assert db.query("SHOW TAG VALUES FROM sales WITH KEY = region")[0].get("series") is None
