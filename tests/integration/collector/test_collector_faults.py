"""Faults against the real services: InfluxDB outage, SIGKILL, shared subscriptions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.config import CollectorConfig
from collector.service import Collector
from stack.services import Influxd

from .conftest import (
    CollectorProcess,
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

OUTAGE_S = 30


def _publish_in_background(mqtt_url: str, msgs: list[tuple[str, bytes]],
                           rate_per_s: float) -> threading.Thread:
    def run() -> None:
        pub = Publisher(mqtt_url, window=1000)
        pub.publish(msgs, rate_per_s=rate_per_s)
        pub.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@pytest.mark.slow
def test_influxd_stopped_under_load_loses_nothing(
        mqtt_url: str, topic_prefix: str, tmp_path: Path,
        fresh_influxd: Callable[..., Influxd],
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    svc = fresh_influxd()
    conf = tmp_path / "c.yaml"
    conf.write_text("collector:\n  retry_max_s: 2\n  write_timeout_s: 3\n")
    cfg = make_config(run_args(mqtt_url, svc.url, "factory", tmp_path / "spool", "--topic",
                               f"{topic_prefix}/#"), conf)
    c = running_collectors(cfg)
    msgs = contract_messages(topic_prefix, 40_000, machines=40)
    pub = _publish_in_background(mqtt_url, msgs, rate_per_s=1000)
    wait_until(lambda: c.metrics.total_written > 2000, 30, "writing under load")
    svc.stop()
    time.sleep(OUTAGE_S)
    depth_during_outage = c.spool.stats().depth
    assert c.metrics.total_retries > 0
    svc.restart()
    pub.join(120)
    want = expected_counts(msgs)
    db = influx(svc.url, "factory")
    wait_until(lambda: counts_in_db(db, list(want)) == want, 120, f"all of {want}")
    assert depth_during_outage > 10_000  # the spool really carried the outage
    wait_until(lambda: c.spool.stats().depth == 0, 30, "spool drained")


@pytest.mark.slow
def test_sigkill_mid_stream_then_restart_loses_and_doubles_nothing(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        collector_procs: Callable[..., CollectorProcess]) -> None:
    argv = run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool", "--topic",
                    f"{topic_prefix}/#", "--client-id", f"{topic_prefix}-collector")
    first = collector_procs(argv, tmp_path / "first.log")
    first.start()
    wait_until(lambda: "connected to" in first.log(), 30, "collector connected")
    msgs = contract_messages(topic_prefix, 20_000)
    pub = _publish_in_background(mqtt_url, msgs, rate_per_s=2500)
    db = influx(influx_url, influx_db)
    want = expected_counts(msgs)
    wait_until(lambda: sum(counts_in_db(db, list(want)).values()) > 3000, 30,
               "some points written")
    first.kill()  # SIGKILL: no flush, no goodbye
    time.sleep(2)
    second = collector_procs(argv, tmp_path / "second.log")
    second.start()
    pub.join(120)
    wait_until(lambda: counts_in_db(db, list(want)) == want, 120, f"all of {want}")
    assert second.terminate() == 0
    assert "full flush" in second.log()
    # Nothing doubled: the same counts after the second collector's flush.
    assert counts_in_db(db, list(want)) == want


def test_shared_subscription_splits_load_exactly(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    collectors = [
        running_collectors(make_config(run_args(
            mqtt_url, influx_url, influx_db, tmp_path / f"spool{k}", "--topic",
            f"{topic_prefix}/#", "--share-group", f"{topic_prefix}g")))
        for k in range(2)
    ]
    assert collectors[0].cfg.client_id != collectors[1].cfg.client_id
    msgs = contract_messages(topic_prefix, 10_000)
    pub = Publisher(mqtt_url)
    pub.publish(msgs)
    pub.close()
    want = expected_counts(msgs)
    db = influx(influx_url, influx_db)
    wait_until(lambda: counts_in_db(db, list(want)) == want, 60, f"all of {want}")
    received = [c.metrics.total_in for c in collectors]
    assert all(n > 1000 for n in received), received
    assert sum(received) == len(msgs)


def test_full_spool_pauses_intake_then_resumes_without_loss(
        mqtt_url: str, topic_prefix: str, tmp_path: Path,
        fresh_influxd: Callable[..., Influxd],
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    svc = fresh_influxd()
    conf = tmp_path / "c.yaml"
    conf.write_text("collector:\n  spool_max_mb: 0.05\n  retry_max_s: 1\n")  # ~50 KB
    cfg = make_config(run_args(mqtt_url, svc.url, "factory", tmp_path / "spool", "--topic",
                               f"{topic_prefix}/#"), conf)
    c = running_collectors(cfg)
    svc.stop()
    msgs = contract_messages(topic_prefix, 3000)
    pub = Publisher(mqtt_url)
    pub.publish(msgs)  # the broker accepts them all; the collector stops taking them
    pub.close()
    wait_until(lambda: c.metrics.is_paused, 30, "intake paused")
    assert not c.health()[0]
    assert c.metrics.total_in < len(msgs)  # the rest waits, unacked, at the broker
    svc.restart()
    want = expected_counts(msgs)
    db = influx(svc.url, "factory")
    wait_until(lambda: counts_in_db(db, list(want)) == want, 90, f"all of {want}")
    wait_until(lambda: not c.metrics.is_paused, 30, "intake resumed")


def test_mqtt_311_persistent_session(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    argv = run_args(mqtt_url, influx_url, influx_db, tmp_path / "spool", "--topic",
                    f"{topic_prefix}/#", "--mqtt-protocol", "3.1.1")
    first = running_collectors(make_config(argv))
    first.stop()  # a persistent 3.1.1 session (clean_session false) keeps our subscription
    msgs = contract_messages(topic_prefix, 1000)
    pub = Publisher(mqtt_url)
    pub.publish(msgs)  # published while no collector runs
    pub.close()
    running_collectors(make_config(argv))
    want = expected_counts(msgs)
    db = influx(influx_url, influx_db)
    wait_until(lambda: counts_in_db(db, list(want)) == want, 60, f"all of {want}")
