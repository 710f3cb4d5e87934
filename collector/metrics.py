"""Self-metrics: Prometheus `/metrics` + `/healthz`, and the same headline figures as
`collector_stats` / `collector_deadletters` points for the dashboards.

Each collector owns its own registry (several may run in one test process).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from telemetry.contract import COLLECTOR_DEADLETTERS, COLLECTOR_STATS
from telemetry.lineprotocol import encode_point

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class Metrics:
    """Counters and gauges the pipeline updates, plus the snapshot for InfluxDB."""

    def __init__(self, collector: str) -> None:
        self.collector = collector
        r = self.registry = CollectorRegistry()
        self.msgs_in = Counter("collector_messages_received", "MQTT messages received, by "
                               "kind (measurement, or 'unmapped')", ["kind"], registry=r)
        self.ignored = Counter("collector_messages_ignored", "messages acked but not stored "
                               "(control topics, own dead-letter topic)", ["reason"],
                               registry=r)
        self.deadletters = Counter("collector_deadletters", "messages dead-lettered, by "
                                   "reason", ["reason"], registry=r)
        self.spool_depth = Gauge("collector_spool_depth", "messages in the spool",
                                 registry=r)
        self.spool_bytes = Gauge("collector_spool_bytes", "bytes in the spool", registry=r)
        self.spool_oldest = Gauge("collector_spool_oldest_age_seconds",
                                  "age of the oldest spooled message", registry=r)
        self.paused = Gauge("collector_intake_paused", "1 while intake is paused because "
                            "the spool is full", registry=r)
        self.blocked = Gauge("collector_write_blocked", "1 while InfluxDB refuses our "
                             "credentials (401/403)", registry=r)
        self.failing = Gauge("collector_write_failing", "1 while writes to InfluxDB fail "
                             "(network, 5xx, 404...; see the log and /healthz for the cause)",
                             registry=r)
        self.connected = Gauge("collector_mqtt_connected", "1 while connected to the broker",
                               registry=r)
        self.batches = Counter("collector_write_batches", "write requests, by HTTP status "
                               "(0 = network error)", ["status"], registry=r)
        self.points = Counter("collector_write_points", "points sent, by HTTP status",
                              ["status"], registry=r)
        self.points_written = Counter("collector_points_written", "points InfluxDB "
                                      "accepted", registry=r)
        self.retries = Counter("collector_write_retries", "write retries (network, 429, "
                               "5xx, 401/403 probes)", registry=r)
        self.collisions = Counter("collector_collisions", "points with the series and "
                                  "timestamp of an earlier point but another value (the "
                                  "later overwrites it in InfluxDB)", registry=r)
        self.reconnects = Counter("collector_mqtt_reconnects", "MQTT connections after the "
                                  "first", registry=r)
        self.write_latency = Histogram("collector_write_latency_seconds", "duration of one "
                                       "write request", buckets=_LATENCY_BUCKETS, registry=r)
        self.lag = Histogram("collector_lag_seconds", "payload timestamp -> written to "
                             "InfluxDB (sampled per batch)", buckets=_LAG_BUCKETS, registry=r)
        # Raw totals and recent samples for collector_stats.
        self._lock = threading.Lock()
        self.total_in = 0
        self.total_written = 0
        self.total_deadletters = 0
        self.total_retries = 0
        self.total_reconnects = 0
        self.total_collisions = 0
        self.total_write_errors = 0
        self.is_failing = False
        self._latency_ms: deque[float] = deque(maxlen=2000)
        self._lag_ms: deque[float] = deque(maxlen=5000)
        self._last_snapshot = (time.monotonic(), 0, 0)
        self.deadletter_counts: dict[str, int] = {}
        self.is_paused = False
        self.is_blocked = False

    def set_paused(self, paused: bool) -> None:
        self.is_paused = paused
        self.paused.set(int(paused))

    def set_failing(self, failing: bool) -> None:
        self.is_failing = failing
        self.failing.set(int(failing))

    def set_blocked(self, blocked: bool) -> None:
        self.is_blocked = blocked
        self.blocked.set(int(blocked))

    # -- updates ----------------------------------------------------------------------
    def received(self, kind_counts: dict[str, int]) -> None:
        for kind, n in kind_counts.items():
            self.msgs_in.labels(kind).inc(n)
        with self._lock:
            self.total_in += sum(kind_counts.values())

    def dead_lettered(self, reason: str, n: int = 1) -> None:
        self.deadletters.labels(reason).inc(n)
        with self._lock:
            self.total_deadletters += n
            self.deadletter_counts[reason] = self.deadletter_counts.get(reason, 0) + n

    def write_done(self, status: int, n_points: int, duration_s: float) -> None:
        self.batches.labels(str(status)).inc()
        self.points.labels(str(status)).inc(n_points)
        self.write_latency.observe(duration_s)
        with self._lock:
            self._latency_ms.append(duration_s * 1000)
            if not 200 <= status < 300:
                self.total_write_errors += 1

    def written(self, n_points: int, lags_ms: list[float]) -> None:
        self.points_written.inc(n_points)
        for lag in lags_ms:
            self.lag.observe(lag / 1000)
        with self._lock:
            self.total_written += n_points
            self._lag_ms.extend(lags_ms)

    def retried(self) -> None:
        self.retries.inc()
        with self._lock:
            self.total_retries += 1

    def collided(self, n: int) -> None:
        self.collisions.inc(n)
        with self._lock:
            self.total_collisions += n

    def reconnected(self) -> None:
        self.reconnects.inc()
        with self._lock:
            self.total_reconnects += 1

    # -- snapshot for InfluxDB --------------------------------------------------------
    def stats_lines(self, ts_ms: int, spool: tuple[int, int, float]) -> list[str]:
        """collector_stats (+ one collector_deadletters point per reason) for now."""
        now = time.monotonic()
        with self._lock:
            t0, in0, out0 = self._last_snapshot
            dt = max(now - t0, 1e-6)
            lat = list(self._latency_ms)
            lag = list(self._lag_ms)
            self._latency_ms.clear()
            self._lag_ms.clear()
            fields: dict[str, Any] = {
                "msgs_in": self.total_in,
                "points_written": self.total_written,
                "dead_letters": self.total_deadletters,
                "retries": self.total_retries,
                "reconnects": self.total_reconnects,
                "collisions": self.total_collisions,
                "spool_depth": spool[0],
                "spool_bytes": spool[1],
                "spool_oldest_age_s": float(spool[2]),
                "msgs_per_s": (self.total_in - in0) / dt,
                "points_per_s": (self.total_written - out0) / dt,
                "write_latency_p50_ms": percentile(lat, 0.5),
                "write_latency_p99_ms": percentile(lat, 0.99),
                "lag_p50_ms": percentile(lag, 0.5),
                "lag_p99_ms": percentile(lag, 0.99),
                "paused": int(self.is_paused),
                "write_failing": int(self.is_failing),
                "write_errors": self.total_write_errors,
                "write_blocked": int(self.is_blocked),
            }
            self._last_snapshot = (now, self.total_in, self.total_written)
            dl = dict(self.deadletter_counts)
        tags = {"collector": self.collector}
        lines = [encode_point(COLLECTOR_STATS, tags, fields, ts_ms)]
        lines += [encode_point(COLLECTOR_DEADLETTERS, {**tags, "reason": reason},
                               {"count": n}, ts_ms) for reason, n in sorted(dl.items())]
        return lines


class MetricsServer:
    """`/metrics` (Prometheus text format) and `/healthz` (JSON, 200 or 503)."""

    def __init__(self, metrics: Metrics, bind: str, port: int,
                 health: Callable[[], tuple[bool, dict[str, Any]]]) -> None:
        registry = metrics.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/metrics":
                    body, ctype, code = generate_latest(registry), CONTENT_TYPE_LATEST, 200
                elif self.path.split("?")[0] == "/healthz":
                    ok, detail = health()
                    body = json.dumps({"ok": ok, **detail}).encode()
                    ctype, code = "application/json", 200 if ok else 503
                else:
                    body, ctype, code = b"not found: try /metrics or /healthz\n", \
                        "text/plain", 404
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        try:
            self.server = ThreadingHTTPServer((bind, port), Handler)
        except OSError as exc:
            raise OSError(f"metrics server cannot listen on {bind}:{port}: {exc.strerror} "
                          "(set --metrics-port, or 0 to disable)") from exc
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        name="collector-metrics", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
