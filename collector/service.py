"""Wiring: intake -> spool -> writer, metrics, and graceful shutdown."""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import replace
from types import FrameType
from typing import Any

from collector.config import CollectorConfig
from collector.deadletter import DeadLetterLog
from collector.intake import Intake
from collector.mapping import Mapper
from collector.metrics import Metrics, MetricsServer
from collector.spool import Spool
from collector.writer import Writer
from telemetry.influx import InfluxClient, QueryError, retention_s

log = logging.getLogger(__name__)


class Collector:
    """One collector process's worth of pipeline; `start()`, then `stop()`."""

    def __init__(self, cfg: CollectorConfig) -> None:
        self.cfg = cfg
        self.metrics = Metrics(cfg.client_id)
        self.spool = Spool(cfg.spool_dir, cfg.spool_max_bytes,
                           sync="full" if cfg.spool_sync == "full" else "normal")
        self.influx = InfluxClient(cfg.endpoints.influx, timeout_s=cfg.write_timeout_s)
        self.deadletters = DeadLetterLog(
            cfg.deadletter_file, cfg.client_id, cfg.deadletter_topic,
            self._publish_deadletter, payload_bytes=cfg.deadletter_payload_bytes,
            max_bytes=int(cfg.deadletter_max_mb * 1024 * 1024), keep=cfg.deadletter_keep)
        self.mapper = Mapper(cfg.mapping)
        if cfg.sparkplug:
            from collector.sparkplug import SparkplugMapper  # noqa: PLC0415

            self.mapper = SparkplugMapper(cfg.mapping, self.spool.path,
                                          self._publish_sparkplug)
        self.intake = Intake(cfg, self.mapper, self.spool, self.deadletters, self.metrics)
        self.sparkplug_host = None
        if cfg.sparkplug_host_id:
            from collector.sparkplug import PrimaryHost  # noqa: PLC0415

            self.sparkplug_host = PrimaryHost(self.intake.client, cfg.sparkplug_host_id)
        self.writer = Writer(cfg, self.spool, self.influx, self.deadletters, self.metrics)
        # Spool gauges are read at scrape time: the writer may sit in a retry loop.
        self.metrics.spool_depth.set_function(lambda: self.spool.stats().depth)
        self.metrics.spool_bytes.set_function(lambda: self.spool.stats().bytes)
        self.metrics.spool_oldest.set_function(lambda: self.spool.stats().oldest_age_s)
        self.server: MetricsServer | None = None
        if cfg.metrics_port:
            self.server = MetricsServer(self.metrics, cfg.metrics_bind, cfg.metrics_port,
                                        self.health)
        self._stopped = False

    def _publish_sparkplug(self, topic: str, payload: bytes) -> None:
        self.intake.client.publish(topic, payload, qos=0)  # NCMD: QoS 0, as specified

    def _publish_deadletter(self, topic: str, payload: bytes) -> None:
        self.intake.client.publish(topic, payload, qos=1)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, detail) for /healthz: 503 unless connected, not paused, not blocked,
        writes not stalled and both worker threads alive and moving."""
        now = time.monotonic()
        st = self.spool.stats()
        w = self.writer
        stall_s = self.cfg.write_stall_s
        since_ok = now - (w.last_ok_s if w.last_ok_s is not None else w.started_s)
        stalled = st.depth > 0 and since_ok > stall_s
        stuck = [name for name, alive, beat in (
            ("spooler", self.intake.spooler_alive, self.intake.beat_s),
            ("writer", w.alive, w.beat_s)) if not alive or now - beat > stall_s]
        detail: dict[str, Any] = {
            "mqtt_connected": self.intake.connected.is_set(),
            "write_blocked": self.metrics.is_blocked,
            "intake_paused": self.metrics.is_paused,
            "write_failing": self.metrics.is_failing,
            "write_stalled": stalled,
            "stuck_threads": stuck,
            "spool_depth": st.depth,
            "spool_oldest_age_s": round(st.oldest_age_s, 3),
            "last_write_ok_age_s": round(now - w.last_ok_s, 3) if w.last_ok_s else None,
            "last_write_status": w.last_status,
            "last_write_error": w.failing_cause,
        }
        problems = [text for bad, text in (
            (not detail["mqtt_connected"], "not connected to the broker"),
            (detail["write_blocked"], "InfluxDB refuses our credentials"),
            (detail["intake_paused"], "spool full: intake paused"),
            (stalled, f"no write succeeded for {since_ok:.0f} s with {st.depth} messages "
                      "spooled" + (f": {w.failing_cause}" if w.failing_cause else "")),
            (bool(stuck), f"thread(s) not moving for {stall_s:.0f} s: {', '.join(stuck)}"),
        ) if bad]
        detail["problems"] = problems
        return not problems, detail

    def start(self) -> None:
        st = self.spool.stats()
        log.info("collector %s: %s -> %s, spool %s (%d messages waiting)", self.cfg.client_id,
                 self.cfg.endpoints.mqtt.display(), self.cfg.endpoints.influx.display(),
                 self.spool.path, st.depth)
        if self.cfg.create_database and self.cfg.endpoints.influx.api == "v1":
            try:
                self.influx.create_database()
            except QueryError as exc:
                log.warning("could not create database %s yet (%s); will retry on write",
                            self.cfg.endpoints.influx.db, exc)
        self._apply_retention()
        if self.server is not None:
            self.server.start()
            log.info("metrics on http://%s:%d/metrics and /healthz", self.cfg.metrics_bind,
                     self.server.port)
        self.writer.start()
        self.intake.start()

    def _apply_retention(self) -> None:
        """Timestamp window: points older than the database keeps are dead-lettered at
        intake (mapping.timestamp_window.max_age_s: retention, v1 API)."""
        cfg = self.cfg.mapping
        if not cfg.max_age_retention or self.cfg.endpoints.influx.api != "v1":
            return
        try:
            seconds = retention_s(self.influx)
        except (QueryError, ValueError, IndexError) as exc:
            log.warning("cannot read the retention policy of %s (%s): no age limit on "
                        "timestamps", self.cfg.endpoints.influx.db, exc)
            return
        if seconds:
            self.mapper.config = replace(cfg, max_age_s=seconds)
            self.writer.retention_s = seconds
            log.info("retention of %s is %.0f s: older points are dead-lettered "
                     "(out_of_window)", self.cfg.endpoints.influx.db, seconds)

    def stop(self) -> bool:
        """Graceful: stop intake, flush within shutdown_timeout_s. True if the spool
        emptied (what did not stays spooled, and nothing unspooled was acked)."""
        if self._stopped:
            return True
        self._stopped = True
        t0 = time.monotonic()
        if self.sparkplug_host is not None:
            self.sparkplug_host.offline()
        self.intake.stop()
        emptied = self.writer.drain(self.cfg.shutdown_timeout_s)
        st = self.spool.stats()
        if emptied:
            log.info("stopped after a full flush in %.1f s", time.monotonic() - t0)
        else:
            log.warning("stopped with %d messages still spooled; they are written on next "
                        "start", st.depth)
        self.deadletters.close()
        self.influx.close()
        if self.server is not None:
            self.server.stop()
        return emptied


def run_until_signalled(collector: Collector) -> int:
    """Run until SIGTERM/SIGINT, then stop gracefully; the exit code (0)."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping intake and flushing", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        collector.start()
        while not stop.wait(1.0):
            pass
    finally:
        collector.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    return 0
