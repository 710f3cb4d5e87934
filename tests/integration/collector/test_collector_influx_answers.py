"""The writer against what InfluxDB really answers: a 400 partial write (field type
conflict), points beyond the retention policy, and 413 from an influxd with a small
max-body-size, all from the real influxd 1.x. influxd never answers 429, so Retry-After is
proven against a STAND-IN: a small local HTTP server named so here and in docs/collector.md.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from collector.cli import _parser
from collector.config import CollectorConfig, load
from collector.deadletter import DeadLetterLog
from collector.metrics import Metrics
from collector.spool import Entry, Spool
from collector.writer import Writer
from stack.services import Influxd, free_port
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient

from .conftest import count, wait_until

pytestmark = pytest.mark.integration


def _cfg(tmp_path: Path, influx_url: str, db: str, extra: str = "") -> CollectorConfig:
    (tmp_path / "c.yaml").write_text("collector:\n  stats_interval_s: 0\n"
                                     "  batch_max_wait_s: 0.01\n  retry_max_s: 0.2\n" + extra)
    return load(_parser().parse_args([
        "run", "--spool-dir", str(tmp_path / "spool"), "--influx-url", influx_url,
        "--influx-db", db, "--config", str(tmp_path / "c.yaml")]), env={})


@dataclass
class Run:
    writer: Writer
    spool: Spool
    metrics: Metrics
    deadletters: Path

    def letters(self) -> list[dict[str, Any]]:
        if not self.deadletters.exists():
            return []
        return [json.loads(x) for x in self.deadletters.read_text().splitlines()]


def _write_all(cfg: CollectorConfig, lines: list[str]) -> Run:
    """Spool `lines`, run the writer until the spool is empty, stop it."""
    spool = Spool(cfg.spool_dir, cfg.spool_max_bytes)
    spool.append([Entry(line, f"t/{i}", line.encode()) for i, line in enumerate(lines)])
    dl = DeadLetterLog(cfg.deadletter_file, "c")
    metrics = Metrics("c")
    w = Writer(cfg, spool, InfluxClient(cfg.endpoints.influx), dl, metrics)
    w.start()
    wait_until(lambda: spool.stats().depth == 0, 60, "the spool emptied")
    w.drain(0)
    dl.close()
    return Run(w, spool, metrics, cfg.deadletter_file)


def _batches(m: Metrics, status: int) -> int:
    return int(m.batches.labels(str(status))._value.get())


def test_partial_write_dead_letters_only_the_conflicting_lines(
        influx_url: str, influx_db: str, tmp_path: Path) -> None:
    db = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    assert db.write(b"m,k=a v=1.5 1000", precision="ms").status == 204  # v is a float
    lines = [f"m,k=b v={i}.0 {2000 + i}" for i in range(40)]
    lines[13] = "m,k=b v=7i 2013"  # an integer into a float field: type conflict
    lines[31] = 'm,k=b v="x" 2031'  # a string into a float field
    run = _write_all(_cfg(tmp_path, influx_url, influx_db), lines)
    letters = run.letters()
    assert sorted(r["payload"] for r in letters) == sorted([lines[13], lines[31]])
    assert {r["reason"] for r in letters} == {"influx_rejected"}
    assert all("field type conflict" in r["detail"] for r in letters)
    assert count(db, "m", "v") == 1 + 38  # everything else stored


def test_points_beyond_retention_are_dead_lettered_without_bisection(
        influx_url: str, influx_db: str, tmp_path: Path) -> None:
    db = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    db.query(f'CREATE RETENTION POLICY "short" ON "{influx_db}" DURATION 1h REPLICATION 1 '
             "DEFAULT", db="")
    now_ms = int(time.time() * 1000)
    lines = [f"m,k=r v={i}.0 {now_ms - 60_000 + i}" for i in range(4000)]
    lines[1234] = f"m,k=r v=-1.0 {now_ms - 2 * 3600_000}"  # 2 h old: outside 1 h
    run = _write_all(_cfg(tmp_path, influx_url, influx_db), lines)
    letters = run.letters()
    assert [(r["reason"], r["payload"]) for r in letters] == [("retention", lines[1234])]
    assert _batches(run.metrics, 400) == 1  # one answer, no bisection, nothing re-sent
    assert int(run.metrics.points.labels("400")._value.get()) == 4000
    assert count(db, "m", "v") == 3999


def test_413_from_a_small_max_body_size_splits_until_it_fits(tmp_path: Path) -> None:
    small = SmallBodyInfluxd(run_dir=tmp_path / "influxd", port=free_port(),
                             database="factory")
    small.start(timeout_s=60)
    try:
        lines = [f"m,k=s v={i}.0,pad=\"{'p' * 40}\" {1000 + i}" for i in range(200)]
        lines[77] = f"m,k=s v=0.5,pad=\"{'q' * 5000}\" 1077"  # alone larger than the limit
        run = _write_all(_cfg(tmp_path, small.url, "factory"), lines)
        assert _batches(run.metrics, 413) > 1  # it split, more than once
        letters = run.letters()
        assert [(r["reason"], r["topic"]) for r in letters] == [("too_large", "t/77")]
        db = InfluxClient(InfluxEndpoint(url=small.url, db="factory"))
        assert count(db, "m", "v") == 199
    finally:
        small.stop()


class SmallBodyInfluxd(Influxd):
    """The real influxd with `max-body-size = 4096`, so that it answers 413."""

    def prepare(self) -> None:
        super().prepare()
        conf = self.conf_path.read_text()
        assert "max-body-size = 0" in conf
        self.conf_path.write_text(conf.replace("max-body-size = 0", "max-body-size = 4096"))


def test_retry_after_is_waited_stand_in_server(tmp_path: Path) -> None:
    """STAND-IN (influxd never sends 429): a local HTTP server answers the first write
    429 with `Retry-After: 2`, then 204; it records when each write arrived."""
    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            arrivals.append(time.monotonic())
            if len(arrivals) == 1:
                self.send_response(429)
                self.send_header("Retry-After", "2")
            else:
                self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # /ping
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cfg = _cfg(tmp_path, url, "factory", "  create_database: false\n")
        run = _write_all(cfg, ["m v=1.0 1", "m v=2.0 2"])
        assert len(arrivals) == 2
        waited = arrivals[1] - arrivals[0]
        assert waited >= 2.0, f"retried after {waited:.2f} s, Retry-After said 2"
        assert run.metrics.total_written == 2
    finally:
        server.shutdown()
        server.server_close()
