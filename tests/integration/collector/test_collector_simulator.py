"""End to end: every message of a simulator run is in InfluxDB exactly once.

The same seeded run is produced twice: once to stdout (the expected messages) and once to
the real Mosquitto, from where the collector writes it to the real influxd."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from collector.config import CollectorConfig
from collector.service import Collector

from .conftest import REPO, influx, make_config, run_args, wait_until

pytestmark = pytest.mark.integration

# The simulator's default QoS (telemetry 0, the rest 1): on a local broker with a
# connected collector nothing is dropped. (`--qos telemetry=1 --speed max` stalled the
# simulator's publisher past ~5,000 messages when this was written: reported.)
SIM_ARGS = ["--speed", "max", "--duration", "10m", "--seed", "7",
            "--start", "2026-01-05T00:00:00Z"]


def _sim(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-m", "simulator", "run", *SIM_ARGS, *args],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr
        raise AssertionError(f"factory-sim did not finish: {(err or '')[-1500:]}") from None


def _rows(db: Any, kind: str) -> list[dict[str, Any]]:
    res = db.query(f'SELECT * FROM "{kind}"')
    series = res[0].get("series") or []
    return [dict(zip(s["columns"], v, strict=True)) for s in series for v in s["values"]]


def test_every_message_of_a_simulator_run_is_in_influxdb_exactly_once(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    expected = _sim("--sink", "stdout", "--enterprise", topic_prefix)
    assert expected.returncode == 0, expected.stderr[-2000:]
    messages = [json.loads(line) for line in expected.stdout.splitlines()]
    stored_kinds = [m for m in messages if "/_control/" not in m["topic"]]
    want = Counter(m["topic"].rsplit("/", 1)[1] for m in stored_kinds)
    assert sum(want.values()) > 10_000
    # The contract: no two messages of one series share a ts, so each is its own point.
    assert len({(m["topic"], m["payload"]["ts"]) for m in stored_kinds}) == len(stored_kinds)

    cfg = make_config(run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool",
                               "--topic", f"{topic_prefix}/#"))
    c = running_collectors(cfg)
    live = _sim("--sink", "mqtt", "--mqtt-url", mqtt_url, "--enterprise", topic_prefix)
    assert live.returncode == 0, live.stderr[-2000:]
    db = influx(influx_url, influx_db)

    # The live run also publishes each machine's offline `meta` when it stops, which the
    # stdout run does not; those are checked separately below.
    want_meta = want.pop("meta")

    def counts() -> Counter[str]:
        return Counter({k: len(_rows(db, k)) for k in want})

    try:
        wait_until(lambda: counts() == want, 120, "every message in InfluxDB")
    except AssertionError:
        raise AssertionError(f"InfluxDB holds {dict(counts())}, expected {dict(want)}; "
                             f"dead letters {c.metrics.deadletter_counts}") from None
    assert c.metrics.total_deadletters == 0
    meta = _rows(db, "meta")
    stored_meta = {(r["machine"], r["time"]) for r in meta}
    assert {(m["topic"].split("/")[4], m["payload"]["ts"]) for m in stored_kinds
            if m["topic"].endswith("/meta")} <= stored_meta
    assert sum(1 for r in meta if r["online"]) == want_meta
    # Spot values: random messages read back field by field.
    rng = random.Random(7)
    for m in rng.sample(stored_kinds, 25):
        parts = m["topic"].split("/")
        kind = parts[-1]
        where = f"time = {m['payload']['ts']}ms AND enterprise = '{topic_prefix}'"
        if len(parts) == 6:
            where += f" AND machine = '{parts[4]}'"
        elif len(parts) == 5:
            where += f" AND area = '{parts[2]}'"
        rows = _rows_where(db, kind, where)
        assert len(rows) >= 1, m
        row = next(r for r in rows if all(r.get(k) == v for k, v in m["payload"].items()
                                          if isinstance(v, str) and k in r))
        for key, value in m["payload"].items():
            if key == "ts":
                continue
            assert row[key] == value, (m, key, row[key])


def _rows_where(db: Any, kind: str, where: str) -> list[dict[str, Any]]:
    res = db.query(f'SELECT * FROM "{kind}" WHERE {where}')
    series = res[0].get("series") or []
    return [dict(zip(s["columns"], v, strict=True)) for s in series for v in s["values"]]
