"""One collector takes the contract and two foreign layouts together (real Mosquitto and
influxd): bare values from a gateway and a legacy layout with its own ISO time key."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.config import CollectorConfig
from collector.service import Collector

from .conftest import (
    Publisher,
    contract_messages,
    count,
    counts_in_db,
    expected_counts,
    influx,
    make_config,
    run_args,
    wait_until,
)

pytestmark = pytest.mark.integration


def test_contract_and_two_foreign_layouts_through_one_collector(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    gw, legacy = f"{topic_prefix}gw", f"{topic_prefix}old"
    conf = tmp_path / "collector.yaml"
    conf.write_text(json.dumps({"mapping": {
        "templates": [
            "contract",
            {"topic": f"{gw}/{{site}}/{{area}}/{{machine}}/{{signal}}", "payload": "value",
             "field": "{signal}", "measurement": "gateway", "tags": {"enterprise": gw}},
            {"topic": f"{legacy}/{{site}}/{{machine}}/{{kind}}", "measurements": ["env"],
             "timestamp": {"key": "t", "unit": "iso8601"}},
        ],
        "measurements": {"env": {"fields": {"door": "bool"}}},
    }}))
    cfg = make_config(run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool",
                               "--enterprise", topic_prefix), conf)
    assert cfg.topics == (f"{topic_prefix}/#", f"{gw}/#", f"{legacy}/#")
    c = running_collectors(cfg)

    contract = contract_messages(topic_prefix, 500)
    bare = [(f"{gw}/lyon/moulding/imm-{i % 10:02d}/{('barrel_temp', 'pressure')[i % 2]}",
             f"{200 + i / 10}".encode()) for i in range(300)]
    old = [(f"{legacy}/lyon/press-{i % 4}/env",
            json.dumps({"t": f"2026-01-05T00:{i // 60:02d}:{i % 60:02d}.000Z",
                        "temp_c": i, "door": i % 2 == 0, "ts": i}).encode())
           for i in range(200)]
    pub = Publisher(mqtt_url)
    pub.publish(contract + bare + old)
    pub.close()
    total = len(contract) + len(bare) + len(old)
    wait_until(lambda: c.metrics.total_written + c.metrics.total_deadletters >= total, 60,
               "every message written or dead-lettered")
    assert c.metrics.total_deadletters == 0, c.metrics.deadletter_counts

    db = influx(influx_url, influx_db)
    want = expected_counts(contract)
    assert counts_in_db(db, list(want)) == want
    # The legacy layout: its own time key, so 200 distinct points; `ts` is a field there.
    assert count(db, "env", "temp_c") == 200
    row = db.query("SELECT temp_c, door, ts FROM env WHERE machine = 'press-1' "
                   "ORDER BY time LIMIT 1")[0]["series"][0]["values"][0]
    assert row == [int(datetime(2026, 1, 5, 0, 0, 1, tzinfo=UTC).timestamp() * 1000), 1.0,
                   False, 1.0]
    # Bare values stamped with the arrival time: a point that landed on the same series,
    # millisecond and field as an earlier one overwrote it, and was counted as a collision.
    stored = count(db, "gateway", "barrel_temp") + count(db, "gateway", "pressure")
    assert stored + c.metrics.total_collisions == len(bare)
    kinds = db.query("SHOW FIELD KEYS FROM gateway")[0]["series"][0]["values"]
    assert dict(map(tuple, kinds)) == {"barrel_temp": "float", "pressure": "float"}
